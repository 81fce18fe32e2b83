"""Write batches in any capture format, streaming.

Every output goes through OutputFile (otelcli/otlp/outfile.py): a regular file is written
aside and renamed onto the target on a clean close (through symlinks, keeping its mode), so
an interrupted or failed run leaves the original untouched; FIFOs, devices and stdout are
written directly. `stream=True` (the save file of `tail`/`capture`) writes the real file batch
by batch instead, each batch whole (one gzip member each for .gz) before `write` returns.
"""

from __future__ import annotations

import gzip
from types import TracebackType
from typing import BinaryIO

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import UsageError
from otelcli.otlp.formats import Format, format_for_path
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.outfile import OutputFile


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
        if fmt is Format.JSON:
            self._emit(b'{"resourceSpans":[')

    def _emit(self, data: bytes) -> None:
        (self._gzip or self._sink).write(data)
        self.bytes_written += len(data)

    def _record(self, batch: ExportTraceServiceRequest) -> bytes:
        if self.format is Format.PB:
            # Concatenated requests are one valid request: repeated fields merge.
            return batch.SerializeToString()
        if self.format is Format.LP:
            data = batch.SerializeToString()
            return len(data).to_bytes(4, "big") + data
        if self.format is Format.JSONL:
            return orjson.dumps(request_to_dict(batch)) + b"\n"
        parts = []
        for resource_spans in request_to_dict(batch).get("resourceSpans", ()):
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

    def write(self, batch: ExportTraceServiceRequest) -> None:
        self._keep(self._record(batch))

    def write_bytes(self, serialized_request: bytes) -> None:
        """Write an already-serialized ExportTraceServiceRequest (skips a parse for pb/lp)."""
        if self.format is Format.PB:
            self._keep(serialized_request)
        elif self.format is Format.LP:
            self._keep(len(serialized_request).to_bytes(4, "big") + serialized_request)
        else:
            self.write(ExportTraceServiceRequest.FromString(serialized_request))

    def close(self, discard: bool = False) -> None:
        """Finish the file (renamed into place), or with `discard` leave the original as it was.

        Raises OutputError when the end cannot be written; the temporary file is removed then.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if not discard:
                if self.format is Format.JSON:
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
