"""Read captures as a stream of batches of any signal (otelcli/otlp/signals.py).

Each body's signal is told by its content: the root key of an OTLP/JSON object (per line in
JSON Lines, so one file may mix signals), the leaf fields of a protobuf body (per record in a
length-prefixed file; a plain protobuf file is one request, so one signal).

Every format is streamed: JSONL line by line, length-prefixed files record by record, and a
plain protobuf file in slices of whole top-level `resource_*` fields (protobuf merges
concatenated messages, so each slice parses as a request of its own). Memory is bounded by
one record, one line or one ResourceSpans, never the file. A pretty-printed JSON document is
the one exception: it has to be parsed whole.

Declared lengths are never trusted: a plain file's remaining size is known, so a protobuf field
or record that claims more is a truncation error at once; through gzip or stdin the size is
not known, so one top-level field, record, JSON line or JSON document may be at most
MAX_ITEM_BYTES (a gzip bomb costs at most that, never the claim). Nothing is allocated for a
claim up front: data is read in chunks as it arrives.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError
from otelcli.otlp.formats import CAPTURE_EXTENSIONS, Format
from otelcli.otlp.jsoncodec import dict_to_batch
from otelcli.otlp.signals import (
    REQUEST_TYPES,
    Batch,
    Signal,
    Unused,
    detect_pb,
    only,
    signal_of,
)
from otelcli.otlp.wire import LENGTH_DELIMITED, field_end, read_varint

_BUFFER = 1 << 20
# Parse plain protobuf in slices of about this size: big enough to amortise the call,
# small enough to bound memory.
_PB_SLICE = 4 << 20
_MAX_RECORD = (1 << 31) - 1  # protobuf's own message size limit
# The most one top-level protobuf field, length-prefixed record, JSON line or JSON document
# may take when the input's size is not known (gzip, stdin, pipes).
MAX_ITEM_BYTES = 128 << 20
_LIMIT_HINT = (
    "otelcli reads at most {limit} per record, line or document from gzip or stdin; "
    "read it from an uncompressed file instead, or split the capture"
)
_PB_HINT = "is this an OTLP export request (traces, logs or metrics)?"
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_START = (ord("{"), ord("["))
_WHITESPACE = b" \t\r\n\xef\xbb\xbf"  # includes the bytes of a UTF-8 BOM


@dataclass(frozen=True, slots=True)
class RawBatch:
    """A protobuf trace batch cut from a capture but not parsed yet: parse() it where it is
    used (a --jobs worker process), with the reader's own error message."""

    data: bytes
    offset: int
    name: str

    def parse(self) -> ExportTraceServiceRequest:
        batch = parse_pb(self.name, self.data, self.offset, Signal.TRACES)
        assert isinstance(batch, ExportTraceServiceRequest)
        return batch


Slice = Batch | RawBatch


def as_batch(item: ExportTraceServiceRequest | RawBatch) -> ExportTraceServiceRequest:
    return item.parse() if isinstance(item, RawBatch) else item


class _CountingReader(io.RawIOBase):
    """Counts the bytes taken from the underlying file, for progress on compressed input."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

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

    def __init__(
        self,
        source: str,
        stdin: BinaryIO | None = None,
        in_folder: bool = False,
        unused: Unused | None = None,
    ) -> None:
        self.source = source
        # A file found in a folder that turns out not to be a capture (notes in a .json) is
        # skipped, with the reason here and in `unused`, instead of failing the run.
        self.in_folder = in_folder
        self.skipped: str | None = None
        self._unused = unused
        self.name = "<stdin>" if source == "-" else source
        self.format: Format | None = None
        self.compressed = False
        self.total_bytes: int | None = None
        self.batches = 0
        self.signals: Counter[Signal] = Counter()  # batches per signal
        self._pb_signal: Signal | None = None  # a plain protobuf file's, once told
        self._defer = False  # protobuf trace batches as RawBatch (slices())
        self._counter: _CountingReader | None = None
        self._stdin = stdin
        self._regular = False  # a regular file
        # the most one field, record, line or document may take; None for a plain regular
        # file, whose remaining size bounds what can still be read
        self._limit: int | None = MAX_ITEM_BYTES

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter else 0

    def __iter__(self) -> Iterator[Batch]:
        return self._items()  # type: ignore[return-value]  # RawBatch only after slices()

    def slices(self) -> Iterator[Slice]:
        """The batches with protobuf trace ones left unparsed (RawBatch): for parsing elsewhere."""
        self._defer = True
        return self._items()

    def _items(self) -> Iterator[Slice]:
        raw = self._open()
        try:
            self._counter = _CountingReader(raw)
            stream: io.BufferedReader = io.BufferedReader(self._counter, _BUFFER)
            self.compressed = stream.peek(2)[:2] == _GZIP_MAGIC
            if self.compressed:
                gz = gzip.GzipFile(fileobj=stream, mode="rb")
                stream = io.BufferedReader(gz, _BUFFER)
            self._limit = None if self._regular and not self.compressed else MAX_ITEM_BYTES
            for batch in self._decode(stream):
                self.batches += 1
                self.signals[
                    Signal.TRACES if isinstance(batch, RawBatch) else signal_of(batch)
                ] += 1
                yield batch
        except InvalidInputError as exc:
            if not (self.in_folder and self.batches == 0):
                raise
            # The reason without the path in front (the report lists it by path).
            self.skipped = exc.message.removeprefix(f"{self.name}: ")
            if self._unused is not None:
                self._unused.files[self.name] = self.skipped
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
            info = os.fstat(handle.fileno())
        except OSError:
            self.total_bytes = None
        else:
            self.total_bytes = info.st_size
            self._regular = stat.S_ISREG(info.st_mode)
        return handle

    def _remaining(self, offset: int, wanted: int) -> int | None:
        """Bytes left from `offset` of a plain file (asked again if fewer than `wanted`: the
        file may be growing); None when not known (gzip, stdin, pipe)."""
        if self._limit is not None or self.total_bytes is None:
            return None
        if self.total_bytes - offset < wanted and self._counter is not None:
            try:
                self.total_bytes = os.fstat(self._counter.fileno()).st_size
            except OSError:
                pass
        return max(0, self.total_bytes - offset)

    def _too_large(self, what: str) -> InvalidInputError:
        limit = _mib(MAX_ITEM_BYTES)
        return InvalidInputError(
            f"{self.name}: {what} is larger than {limit}, the limit for compressed or piped input",
            hint=_LIMIT_HINT.format(limit=limit),
        )

    def _decode(self, stream: io.BufferedReader) -> Iterator[Slice]:
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
                f"{self.name}: not an OTLP capture (unrecognised content)",
                hint="otelcli reads OTLP protobuf, OTLP/JSON, JSON Lines and length-prefixed "
                "records, optionally gzip-compressed",
            )

    def _read_json(self, stream: io.BufferedReader) -> Iterator[Batch]:
        line_number = 1
        first_line = self._line(stream, 1)
        try:
            first_value = orjson.loads(first_line)
        except orjson.JSONDecodeError:
            # Not one value per line: a (pretty-printed) document, parsed whole.
            self.format = Format.JSON
            document = self._rest(stream, first_line)
            try:
                value = orjson.loads(document)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{self.name}: invalid JSON: {exc}",
                    hint="expected an OTLP/JSON request (traces, logs or metrics), an array of "
                    "them, or one per line",
                ) from None
            del document
            yield from self._from_json_value(value, self.name)
            return
        del first_line
        self.format = Format.JSON  # until a second line shows it is JSON Lines
        yield from self._from_json_value(first_value, f"{self.name}:1")
        while True:
            line_number += 1
            line = self._line(stream, line_number)
            if not line:
                return
            if not line.strip():
                continue
            self.format = Format.JSONL
            where = f"{self.name}:{line_number}"
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{where}: invalid JSON: {exc}",
                    hint="each line of a JSON Lines capture must be one OTLP/JSON request "
                    "(of any signal)",
                ) from None
            del line
            yield from self._from_json_value(value, where)

    def _line(self, stream: io.BufferedReader, number: int) -> bytes | bytearray:
        """The next line (b"" at the end), read in chunks and at most `_limit` bytes long."""
        line: bytes | bytearray = stream.readline(_BUFFER)
        if not line or line[-1:] == b"\n":
            return line  # the common case: one call, no copy
        line = bytearray(line)
        while True:
            piece = stream.readline(_BUFFER)
            if not piece:
                return line
            line += piece
            if self._limit is not None and len(line) > self._limit:
                raise self._too_large(f"line {number}")
            if piece[-1:] == b"\n":
                return line

    def _rest(self, stream: io.BufferedReader, start: bytes | bytearray) -> bytearray:
        """`start` and the rest of the stream, in chunks, at most `_limit` bytes in all."""
        document = bytearray(start)
        while chunk := stream.read(_BUFFER):
            document += chunk
            if self._limit is not None and len(document) > self._limit:
                raise self._too_large("the JSON document")
        return document

    @staticmethod
    def _from_json_value(value: object, where: str) -> Iterator[Batch]:
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield dict_to_batch(item, f"{where}[{index}]")
        else:
            yield dict_to_batch(value, where)

    def _read_pb(self, stream: io.BufferedReader) -> Iterator[Slice]:
        buffer = bytearray()
        scan = 0  # where the next unparsed top-level field starts in `buffer`
        offset = 0  # file offset of buffer[0], for error messages
        eof = False
        checked = -1  # the field start whose declared length was checked
        while True:
            try:
                found = field_end(buffer, scan)
                if (
                    found is None
                    and checked != offset + scan
                    and self._check_field(buffer, scan, offset)
                ):
                    checked = offset + scan
            except ValueError as exc:
                raise InvalidInputError(
                    f"{self.name}: invalid protobuf at byte {offset + scan}: {exc}",
                    hint=_PB_HINT,
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
                raise self._pb_truncated(offset + scan)
            if scan:
                with memoryview(buffer) as view:
                    data = bytes(view[:scan])
                del buffer[:scan]
                if self._pb_signal is None:
                    # One request per file: the first slice with a leaf in it tells.
                    self._pb_signal = detect_pb(data)
                yield self._parse_pb(data, offset, self._pb_signal)
                del data
                offset += scan
                scan = 0
            if eof and not buffer:
                return

    def _check_field(self, buffer: bytearray, scan: int, offset: int) -> bool:
        """Is the declared length of the cut-short field at `scan` possible? Not past the end
        of a plain file, not over the limit elsewhere. False while its header is incomplete."""
        tag = read_varint(buffer, scan)
        if tag is None:
            return False
        if tag[0] & 7 != LENGTH_DELIMITED:
            return True
        length = read_varint(buffer, tag[1])
        if length is None:
            return False
        start = offset + scan
        end = offset + length[1] + length[0]
        remaining = self._remaining(start, end - start)
        if remaining is not None:
            if end - start > remaining:
                raise self._pb_truncated(start)
        elif end - start > MAX_ITEM_BYTES:
            raise self._too_large(f"the protobuf field at byte {start}")
        return True

    def _pb_truncated(self, at: int) -> InvalidInputError:
        return InvalidInputError(
            f"{self.name}: truncated or corrupt protobuf at byte {at}",
            hint="the capture may have been cut short while it was written",
        )

    def _read_length_prefixed(self, stream: io.BufferedReader) -> Iterator[Slice]:
        offset = 0
        while True:
            prefix = stream.read(4)
            if not prefix:
                return
            size = int.from_bytes(prefix, "big")
            record = self._record(stream, size, offset) if len(prefix) == 4 else b""
            if len(prefix) < 4 or len(record) < size:
                raise self._lp_truncated(offset)
            if record[:1] == b"{":
                try:
                    value = orjson.loads(record)
                except orjson.JSONDecodeError as exc:
                    raise InvalidInputError(
                        f"{self.name}: invalid JSON record at byte {offset}: {exc}"
                    ) from None
                del record
                yield dict_to_batch(value, f"{self.name}@{offset}")
            else:
                data = bytes(record)
                yield self._parse_pb(data, offset, detect_pb(data))
            offset += 4 + size

    def _record(self, stream: io.BufferedReader, size: int, offset: int) -> bytes | bytearray:
        """The `size` bytes of the record at `offset`, or fewer if the stream ends first.

        A size the input cannot hold is refused before anything is read, and the rest is read
        in chunks, so a lying prefix costs at most what is really there."""
        remaining = self._remaining(offset + 4, size)
        if size > _MAX_RECORD or (remaining is not None and size > remaining):
            raise self._lp_truncated(offset)
        if remaining is None and size > MAX_ITEM_BYTES:
            raise self._too_large(f"the record at byte {offset}")
        if size <= _BUFFER:
            return stream.read(size)
        record = bytearray()
        while len(record) < size:
            chunk = stream.read(min(_BUFFER, size - len(record)))
            if not chunk:
                break
            record += chunk
        return record

    def _lp_truncated(self, at: int) -> InvalidInputError:
        return InvalidInputError(
            f"{self.name}: truncated length-prefixed record at byte {at}",
            hint="the capture may have been cut short while it was written",
        )

    def _parse_pb(self, data: bytes, offset: int, signal: Signal | None) -> Slice:
        signal = signal or Signal.TRACES
        if self._defer and signal is Signal.TRACES:
            return RawBatch(data, offset, self.name)
        return parse_pb(self.name, data, offset, signal)


def parse_pb(name: str, data: bytes, offset: int, signal: Signal) -> Batch:
    """`data` as a request of `signal` (traces when nothing in it tells: then it holds no
    span, log record or metric, and an empty request is the same for all three)."""
    try:
        return REQUEST_TYPES[signal].FromString(data)
    except Exception as exc:  # DecodeError, or RuntimeError from some backends
        raise InvalidInputError(
            f"{name}: invalid protobuf near byte {offset}: {_reason(exc)}",
            hint=_PB_HINT,
        ) from None


def _mib(size: int) -> str:
    return f"{size >> 20} MiB"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def capture_readers(
    sources: Sequence[str], stdin: BinaryIO | None = None, unused: Unused | None = None
) -> Iterator[CaptureReader]:
    """A reader per source; a folder stands for the capture files in it (by name, sorted),
    and those that turn out not to be captures are counted in `unused` once read."""
    for source in sources:
        if source != "-" and os.path.isdir(source):
            for path, reason in folder_files(source):
                if reason is not None:
                    if unused is not None:
                        unused.files[path] = reason
                    continue
                yield CaptureReader(path, stdin, in_folder=True, unused=unused)
        else:
            yield CaptureReader(source, stdin)


def folder_files(folder: str) -> list[tuple[str, str | None]]:
    """The files of a folder, sorted, each with the reason it is not read (None: it is)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read the folder {folder}: {exc.strerror or exc}",
            hint="check the path and its permissions",
        ) from None
    found: list[tuple[str, str | None]] = []
    for name in names:
        path = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        plain = name.lower().removesuffix(".gz")
        known = any(plain.endswith(extension) for extension in CAPTURE_EXTENSIONS)
        found.append((path, None if known else "not a capture file name"))
    return found


def read_all(
    sources: Sequence[str], stdin: BinaryIO | None = None, unused: Unused | None = None
) -> Iterator[Batch]:
    """All batches of all sources, in order, of every signal (`signals.only` takes one)."""
    for reader in capture_readers(sources, stdin, unused):
        yield from reader


def read_batches(
    sources: Sequence[str], stdin: BinaryIO | None = None, unused: Unused | None = None
) -> Iterator[ExportTraceServiceRequest]:
    """The trace batches of all sources, in order; logs and metrics are counted in `unused`."""
    unused = Unused() if unused is None else unused
    return only(ExportTraceServiceRequest, read_all(sources, stdin, unused), unused)
