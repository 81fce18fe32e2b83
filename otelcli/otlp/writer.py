"""Write batches in any capture format, streaming.

Every output goes through OutputFile (otelcli/otlp/outfile.py): a regular file is written
aside and renamed onto the target on a clean close (through symlinks, keeping its mode), so
an interrupted or failed run leaves the original untouched; FIFOs, devices and stdout are
written directly. `stream=True` (the save file of `tail`/`capture`) writes the real file batch
by batch instead, each batch whole (one gzip member each for .gz) before `write` returns.

Batches of every signal are written. JSON Lines and length-prefixed files hold any mix; a
protobuf file or an OTLP/JSON document is one request, so of one signal: PATH holds the
traces and each other signal a file of its own beside it (`run.pb` -> `run.logs.pb`), whatever
comes first, which the reader takes back as it takes a folder (a capture without spans leaves
PATH as it was). Standard output cannot split: it takes the first signal, and a second one
there is refused with a hint.
"""

from __future__ import annotations

import gzip
import os
from collections import Counter
from types import TracebackType
from typing import BinaryIO

import orjson

from otelcli.errors import OutputError, UsageError
from otelcli.otlp.formats import Format, format_for_path
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.outfile import OutputFile
from otelcli.otlp.signals import REQUEST_TYPES, Batch, Signal, count_records, signal_of

_ONE_SIGNAL = (Format.PB, Format.JSON)  # formats that hold a single request


def signal_path(path: str, signal: Signal) -> str:
    """Where `signal` goes beside a single-signal file: run.pb.gz -> run.logs.pb.gz."""
    directory, name = os.path.split(path)
    stem, dot, extensions = name.partition(".")
    return os.path.join(directory, f"{stem}.{signal.value}{dot}{extensions}")


def check_streamable(path: str, fmt: Format) -> None:
    """Refuse a format that is not valid while it grows (a save file is read at any moment)."""
    if fmt is Format.JSON:
        raise UsageError(
            f"cannot save to {path}: an OTLP/JSON document is valid only once complete",
            hint="save to .jsonl (one request per line), .pb or .lp (optionally .gz): "
            "they are valid at every moment; `otelcli convert` makes .json afterwards",
        )


class BatchWriter:
    def __init__(
        self,
        path: str,
        fmt: Format,
        compress: bool,
        stdout: BinaryIO | None = None,
        stream: bool = False,
    ):
        if stream:
            check_streamable(path, fmt)
        self.path = path
        self.format = fmt
        self.compressed = compress
        self.stream = stream
        self.batches = 0
        self.bytes_written = 0
        self._sink = OutputFile(path, stream=stream, stdout=stdout)
        self._gzip = (
            gzip.GzipFile(fileobj=self._sink, mode="wb", compresslevel=6)
            if compress and not stream
            else None
        )
        self._json_items = 0
        self._closed = False
        self.signal: Signal | None = None  # of a single-signal file, once the first batch came
        self.records: Counter[Signal] = Counter()  # spans, log records, data points written
        self.others: dict[Signal, BatchWriter] = {}  # the files beside it for other signals

    def _emit(self, data: bytes) -> None:
        (self._gzip or self._sink).write(data)
        self.bytes_written += len(data)

    def _record(self, batch: Batch) -> bytes:
        if self.format is Format.PB:
            # Concatenated requests are one valid request: repeated fields merge.
            return batch.SerializeToString()
        if self.format is Format.LP:
            data = batch.SerializeToString()
            return len(data).to_bytes(4, "big") + data
        if self.format is Format.JSONL:
            return orjson.dumps(request_to_dict(batch)) + b"\n"
        parts = []
        root = signal_of(batch).json_root
        for resource_spans in request_to_dict(batch).get(root, ()):
            parts.append((b"," if self._json_items else b"") + orjson.dumps(resource_spans))
            self._json_items += 1
        return b"".join(parts)

    def _keep(self, record: bytes) -> None:
        if self.stream:
            # One whole record (a complete gzip member for .gz) in the file, or none of it.
            self._sink.write_record(
                gzip.compress(record, compresslevel=6, mtime=0) if self.compressed else record
            )
            self.bytes_written += len(record)
        else:
            self._emit(record)
        self.batches += 1

    def _start(self, signal: Signal) -> None:
        """Make this single-signal file one of `signal`."""
        self.signal = signal
        if self.format is Format.JSON:
            self._emit(b'{"' + signal.json_root.encode() + b'":[')

    def _target(self, signal: Signal) -> BatchWriter:
        """The writer for `signal`: this one, or for a single-signal file one beside it."""
        if self.format not in _ONE_SIGNAL:
            return self
        if self.signal is None:
            # A file keeps PATH for the traces even when another signal comes first.
            self._start(signal if self.path == "-" else Signal.TRACES)
        mine = self.signal
        assert mine is not None
        if signal is mine:
            return self
        other = self.others.get(signal)
        if other is None:
            if self.path == "-":
                raise OutputError(
                    f"standard output takes one {self.format.describe()}, of"
                    f" {mine.value}; this capture also has {signal.value}",
                    hint="use --to-format jsonl or lp (they mix signals), or write to a file "
                    "(each signal then gets its own file beside it)",
                    path="-",
                )
            other = BatchWriter(
                signal_path(self.path, signal), self.format, self.compressed, stream=self.stream
            )
            other._start(signal)
            self.others[signal] = other
        return other

    def write(self, batch: Batch) -> None:
        signal = signal_of(batch)
        target = self._target(signal)
        target._keep(target._record(batch))
        self.records[signal] += count_records(batch)

    def write_bytes(
        self, serialized_request: bytes, signal: Signal = Signal.TRACES, records: int = 0
    ) -> None:
        """Write an already-serialized request of `signal` (skips a parse for pb/lp)."""
        target = self._target(signal)
        if target.format is Format.PB:
            target._keep(serialized_request)
        elif target.format is Format.LP:
            target._keep(len(serialized_request).to_bytes(4, "big") + serialized_request)
        else:
            target._keep(target._record(REQUEST_TYPES[signal].FromString(serialized_request)))
        self.records[signal] += records

    @property
    def paths(self) -> dict[str, str]:
        """signal -> file, for every file written (one unless signals were split)."""
        main = {} if self._only_beside else {self.signal.value if self.signal else "all": self.path}
        return main | {signal.value: other.path for signal, other in self.others.items()}

    @property
    def _only_beside(self) -> bool:
        """Every batch went to the files beside PATH (no spans): PATH is left as it was."""
        return bool(self.others) and self.batches == 0 and not self.stream

    def close(self, discard: bool = False) -> None:
        """Finish the file (renamed into place), or with `discard` leave the original as it was.

        Raises OutputError when the end cannot be written; the temporary file is removed then.
        """
        if self._closed:
            return
        self._closed = True
        for other in self.others.values():
            other.close(discard)
        discard = discard or self._only_beside
        try:
            if not discard:
                if self.format is Format.JSON:
                    if self.signal is None:
                        self._emit(b'{"resourceSpans":[')
                    self._emit(b"]}\n")
                if self._gzip is not None:
                    self._gzip.close()
                self._sink.commit()
                return
        except BaseException:
            self._sink.discard()
            raise
        if self._gzip is not None:
            try:
                self._gzip.close()
            except Exception:  # noqa: BLE001 - discarded anyway
                pass
        self._sink.discard()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(discard=exc_type is not None)


def open_writer(
    path: str,
    fmt: Format | str | None = None,
    stdout: BinaryIO | None = None,
    stream: bool = False,
) -> BatchWriter:
    """A writer for `path` ("-" for stdout); the format comes from `fmt` or the extension.

    `stream`: write the real file batch by batch (the save file of tail and capture).
    """
    requested = Format(fmt) if fmt is not None else None
    resolved, compress = format_for_path(path, requested)
    return BatchWriter(path, resolved, compress, stdout, stream)
