"""Write batches in any capture format, streaming.

A file is written to a temporary name and moved into place on a clean close, so an
interrupted run never leaves a half-written capture under the real name.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from types import TracebackType
from typing import BinaryIO

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import UsageError
from otelcli.otlp.formats import Format, format_for_path
from otelcli.otlp.jsoncodec import request_to_dict


class BatchWriter:
    def __init__(self, path: str, fmt: Format, compress: bool, stdout: BinaryIO | None = None):
        self.path = path
        self.format = fmt
        self.compressed = compress
        self.batches = 0
        self.bytes_written = 0
        self._temp_path: str | None = None
        if path == "-":
            self._file: BinaryIO = stdout or sys.stdout.buffer
        else:
            directory = os.path.dirname(os.path.abspath(path))
            try:
                fd, self._temp_path = tempfile.mkstemp(
                    prefix=".otelcli-", suffix=".part", dir=directory
                )
            except OSError as exc:
                raise UsageError(
                    f"cannot write {path}: {exc.strerror or exc}",
                    hint="check that the directory exists and is writable",
                ) from None
            self._file = os.fdopen(fd, "wb")
        self._out: BinaryIO = (
            gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=6)  # type: ignore[assignment]
            if compress
            else self._file
        )
        self._json_items = 0
        if fmt is Format.JSON:
            self._emit(b'{"resourceSpans":[')

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self.bytes_written += len(data)

    def write(self, batch: ExportTraceServiceRequest) -> None:
        self.batches += 1
        if self.format is Format.PB:
            # Concatenated requests are one valid request: repeated fields merge.
            self._emit(batch.SerializeToString())
        elif self.format is Format.LP:
            data = batch.SerializeToString()
            self._emit(len(data).to_bytes(4, "big") + data)
        elif self.format is Format.JSONL:
            self._emit(orjson.dumps(request_to_dict(batch)) + b"\n")
        else:
            for resource_spans in request_to_dict(batch).get("resourceSpans", ()):
                self._emit((b"," if self._json_items else b"") + orjson.dumps(resource_spans))
                self._json_items += 1

    def write_bytes(self, serialized_request: bytes) -> None:
        """Write an already-serialized ExportTraceServiceRequest (skips a parse for pb/lp)."""
        if self.format is Format.PB:
            self.batches += 1
            self._emit(serialized_request)
        elif self.format is Format.LP:
            self.batches += 1
            self._emit(len(serialized_request).to_bytes(4, "big") + serialized_request)
        else:
            self.write(ExportTraceServiceRequest.FromString(serialized_request))

    def close(self, discard: bool = False) -> None:
        if self.format is Format.JSON and not discard:
            self._emit(b"]}\n")
        if self._out is not self._file:
            self._out.close()
        if self._temp_path is None:
            self._file.flush()
            return
        self._file.close()
        if discard:
            os.unlink(self._temp_path)
        else:
            os.replace(self._temp_path, self.path)

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
    path: str, fmt: Format | str | None = None, stdout: BinaryIO | None = None
) -> BatchWriter:
    """A writer for `path` ("-" for stdout); the format comes from `fmt` or the extension."""
    requested = Format(fmt) if fmt is not None else None
    resolved, compress = format_for_path(path, requested)
    return BatchWriter(path, resolved, compress, stdout)
