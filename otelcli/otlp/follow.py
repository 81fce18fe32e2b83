"""Follow a growing capture file (JSON Lines or length-prefixed records), like `tail -f`.

Batches of every signal come out, told by content as everywhere in otelcli.

Only complete lines and records are parsed; a partial one at the end of the file waits for
the writer. Gzip and plain protobuf files cannot be followed (neither marks record ends that
a reader can trust mid-write).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import orjson

from otelcli.errors import InvalidInputError, UsageError
from otelcli.otlp.jsoncodec import dict_to_batch
from otelcli.otlp.reader import parse_pb
from otelcli.otlp.signals import Batch, Signal, detect_pb

_CHUNK = 1 << 20
_MAX_RECORD = (1 << 31) - 1


def follow_batches(path: str, stop: threading.Event, poll_s: float = 0.2) -> Iterator[Batch]:
    """Yield the batches already in `path`, then new ones as they are appended, until `stop`."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InvalidInputError(f"cannot open {path}: {exc.strerror or exc}") from None
    with handle:
        buffer = bytearray()
        kind: str | None = None
        offset = 0  # file offset of buffer[0]
        line = 0
        while True:
            chunk = handle.read(_CHUNK)
            if chunk:
                buffer += chunk
            if kind is None:
                kind = _sniff(path, buffer)
            consumed = 0
            if kind == "jsonl":
                while (end := buffer.find(b"\n", consumed)) >= 0:
                    line += 1
                    text = bytes(buffer[consumed:end]).strip()
                    consumed = end + 1
                    if text:
                        yield _json_batch(text, f"{path}:{line}")
            elif kind == "lp":
                while len(buffer) - consumed >= 4:
                    size = int.from_bytes(buffer[consumed : consumed + 4], "big")
                    if size > _MAX_RECORD:
                        raise InvalidInputError(f"{path}: bad record length at byte {offset}")
                    if len(buffer) - consumed - 4 < size:
                        break
                    record = bytes(buffer[consumed + 4 : consumed + 4 + size])
                    at = offset + consumed
                    consumed += 4 + size
                    yield _record_batch(record, path, at)
            if consumed:
                del buffer[:consumed]
                offset += consumed
            if not chunk:
                if stop.wait(poll_s):
                    return
                _check_truncated(handle, offset + len(buffer), path)


def _sniff(path: str, head: bytearray) -> str | None:
    stripped = bytes(head[:64]).lstrip(b" \t\r\n\xef\xbb\xbf")
    if not stripped:
        return None  # empty so far: wait for the writer
    if head[:2] == b"\x1f\x8b":
        raise UsageError(
            f"{path} is gzip-compressed and cannot be followed",
            hint="follow a JSONL or length-prefixed (.lp) capture; read .gz files without --follow",
        )
    if stripped[:1] == b"{":
        return "jsonl"
    if len(head) < 5:
        return None
    if head[0] == 0 and head[4] in (0x0A, ord("{")):
        return "lp"
    raise UsageError(
        f"{path} cannot be followed: only JSON Lines and length-prefixed captures can",
        hint="capture with `otelcli tail --save run.jsonl` (or .lp) to follow it",
    )


def _check_truncated(handle: object, position: int, path: str) -> None:
    size = os.fstat(handle.fileno()).st_size  # type: ignore[attr-defined]
    if size < position:
        raise InvalidInputError(
            f"{path} was truncated while being followed",
            hint="restart otelcli tail --follow on the new file",
        )


def _json_batch(text: bytes, where: str) -> Batch:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: invalid JSON: {exc}") from None
    return dict_to_batch(value, where)


def _record_batch(record: bytes, path: str, at: int) -> Batch:
    if record[:1] == b"{":
        return _json_batch(record, f"{path}@{at}")
    return parse_pb(path, record, at, detect_pb(record) or Signal.TRACES)
