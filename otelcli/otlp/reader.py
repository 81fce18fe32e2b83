"""Read trace captures as a stream of ExportTraceServiceRequest batches.

Every format is streamed: JSONL line by line, length-prefixed files record by record, and a
plain protobuf file in slices of whole top-level `resource_spans` fields (protobuf merges
concatenated messages, so each slice parses as a request of its own). Memory is bounded by
one record, one line or one ResourceSpans, never the file. A pretty-printed JSON document is
the one exception: it has to be parsed whole.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError
from otelcli.otlp.formats import Format
from otelcli.otlp.jsoncodec import dict_to_request
from otelcli.otlp.wire import field_end

_BUFFER = 1 << 20
# Parse plain protobuf in slices of about this size: big enough to amortise the call,
# small enough to bound memory.
_PB_SLICE = 4 << 20
_MAX_RECORD = (1 << 31) - 1  # protobuf's own message size limit
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_START = (ord("{"), ord("["))
_WHITESPACE = b" \t\r\n\xef\xbb\xbf"  # includes the bytes of a UTF-8 BOM


class _CountingReader(io.RawIOBase):
    """Counts the bytes taken from the underlying file, for progress on compressed input."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


class CaptureReader:
    """One input (a path or "-" for stdin), iterated as batches.

    `format`, `compressed`, `bytes_read` and `total_bytes` are there for progress and reports.
    """

    def __init__(self, source: str, stdin: BinaryIO | None = None) -> None:
        self.source = source
        self.name = "<stdin>" if source == "-" else source
        self.format: Format | None = None
        self.compressed = False
        self.total_bytes: int | None = None
        self.batches = 0
        self._counter: _CountingReader | None = None
        self._stdin = stdin

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter else 0

    def __iter__(self) -> Iterator[ExportTraceServiceRequest]:
        raw = self._open()
        try:
            self._counter = _CountingReader(raw)
            stream: io.BufferedReader = io.BufferedReader(self._counter, _BUFFER)
            if stream.peek(2)[:2] == _GZIP_MAGIC:
                self.compressed = True
                gz = gzip.GzipFile(fileobj=stream, mode="rb")
                stream = io.BufferedReader(gz, _BUFFER)
            for batch in self._decode(stream):
                self.batches += 1
                yield batch
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInputError(
                f"{self.name}: cannot read: {_reason(exc)}",
                hint="the file may be truncated or not what its name says",
            ) from None
        finally:
            if raw is not self._stdin:
                raw.close()

    def _open(self) -> BinaryIO:
        if self.source == "-":
            if self._stdin is None:
                self._stdin = sys.stdin.buffer
            return self._stdin
        try:
            handle = open(self.source, "rb")  # noqa: SIM115 - closed by __iter__
        except OSError as exc:
            raise InvalidInputError(
                f"cannot open {self.source}: {exc.strerror or exc}",
                hint="check the path; use - to read from stdin",
            ) from None
        try:
            self.total_bytes = os.fstat(handle.fileno()).st_size
        except OSError:
            self.total_bytes = None
        return handle

    def _decode(self, stream: io.BufferedReader) -> Iterator[ExportTraceServiceRequest]:
        head = stream.peek(64)
        first = head.lstrip(_WHITESPACE)[:1]
        if not head:
            self.format = Format.PB  # an empty file is an empty capture
            return
        if first and first[0] in _JSON_START:
            yield from self._read_json(stream)
        elif head[0] == 0x0A:
            self.format = Format.PB
            yield from self._read_pb(stream)
        elif len(head) >= 5 and head[0] == 0 and head[4] in (0x0A, ord("{")):
            self.format = Format.LP
            yield from self._read_length_prefixed(stream)
        else:
            raise InvalidInputError(
                f"{self.name}: not a trace capture (unrecognised content)",
                hint="otelcli reads OTLP protobuf, OTLP/JSON, JSON Lines and length-prefixed "
                "records, optionally gzip-compressed",
            )

    def _read_json(self, stream: io.BufferedReader) -> Iterator[ExportTraceServiceRequest]:
        line_number = 1
        first_line = stream.readline()
        try:
            first_value = orjson.loads(first_line)
        except orjson.JSONDecodeError:
            # Not one value per line: a (pretty-printed) document, parsed whole.
            self.format = Format.JSON
            document = first_line + stream.read()
            try:
                value = orjson.loads(document)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{self.name}: invalid JSON: {exc}",
                    hint="expected an OTLP/JSON request, an array of them, or one per line",
                ) from None
            yield from self._from_json_value(value, self.name)
            return
        self.format = Format.JSON  # until a second line shows it is JSON Lines
        yield from self._from_json_value(first_value, f"{self.name}:1")
        for line in stream:
            line_number += 1
            if not line.strip():
                continue
            self.format = Format.JSONL
            where = f"{self.name}:{line_number}"
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{where}: invalid JSON: {exc}",
                    hint="each line of a JSON Lines capture must be one OTLP/JSON request",
                ) from None
            yield from self._from_json_value(value, where)

    @staticmethod
    def _from_json_value(value: object, where: str) -> Iterator[ExportTraceServiceRequest]:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield dict_to_request(item, f"{where}[{index}]")
        else:
            yield dict_to_request(value, where)

    def _read_pb(self, stream: io.BufferedReader) -> Iterator[ExportTraceServiceRequest]:
        buffer = bytearray()
        scan = 0  # where the next unparsed top-level field starts in `buffer`
        offset = 0  # file offset of buffer[0], for error messages
        eof = False
        while True:
            try:
                found = field_end(buffer, scan)
            except ValueError as exc:
                raise InvalidInputError(
                    f"{self.name}: invalid protobuf at byte {offset + scan}: {exc}",
                    hint="is this an OTLP ExportTraceServiceRequest capture?",
                ) from None
            if found is None and not eof:
                chunk = stream.read(_BUFFER)
                if chunk:
                    buffer += chunk
                    continue
                eof = True
                continue
            if found is not None:
                scan = found[2]
                if scan < _PB_SLICE:
                    continue
            if found is None and scan < len(buffer):
                raise InvalidInputError(
                    f"{self.name}: truncated or corrupt protobuf at byte {offset + scan}",
                    hint="the capture may have been cut short while it was written",
                )
            if scan:
                yield self._parse_pb(bytes(buffer[:scan]), offset)
                del buffer[:scan]
                offset += scan
                scan = 0
            if eof and not buffer:
                return

    def _read_length_prefixed(
        self, stream: io.BufferedReader
    ) -> Iterator[ExportTraceServiceRequest]:
        offset = 0
        while True:
            prefix = stream.read(4)
            if not prefix:
                return
            size = int.from_bytes(prefix, "big")
            record = stream.read(size) if len(prefix) == 4 and size <= _MAX_RECORD else b""
            if len(prefix) < 4 or len(record) < size:
                raise InvalidInputError(
                    f"{self.name}: truncated length-prefixed record at byte {offset}",
                    hint="the capture may have been cut short while it was written",
                )
            if record[:1] == b"{":
                try:
                    value = orjson.loads(record)
                except orjson.JSONDecodeError as exc:
                    raise InvalidInputError(
                        f"{self.name}: invalid JSON record at byte {offset}: {exc}"
                    ) from None
                yield dict_to_request(value, f"{self.name}@{offset}")
            else:
                yield self._parse_pb(record, offset)
            offset += 4 + size

    def _parse_pb(self, data: bytes, offset: int) -> ExportTraceServiceRequest:
        try:
            return ExportTraceServiceRequest.FromString(data)
        except Exception as exc:  # DecodeError, or RuntimeError from some backends
            raise InvalidInputError(
                f"{self.name}: invalid protobuf near byte {offset}: {_reason(exc)}",
                hint="is this an OTLP ExportTraceServiceRequest capture?",
            ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def read_batches(
    sources: Sequence[str], stdin: BinaryIO | None = None
) -> Iterator[ExportTraceServiceRequest]:
    """All batches of all sources, in order."""
    for source in sources:
        yield from CaptureReader(source, stdin)
