"""`otelcli convert` and `otelcli normalize`: captures rewritten into one output file.

convert changes only the format; normalize also maps dialect keys to GenAI semconv keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import OtelcliError
from otelcli.genai.dialects.capture import CaptureNormalizer, NormalizeStats
from otelcli.otlp.formats import Format
from otelcli.otlp.reader import read_all
from otelcli.otlp.signals import Batch
from otelcli.transport.delivery import Outgoing, Stop
from otelcli.transport.sink import SinkReport, SinkTarget, drain


@dataclass(frozen=True)
class ConvertRequest:
    inputs: Sequence[str]
    output: str
    output_format: Format | None = None


@dataclass
class ConvertResult:
    sink: SinkReport
    error: OtelcliError | None = None

    @property
    def spans(self) -> int:
        return self.sink.file.spans if self.sink.file else 0

    def to_dict(self) -> dict[str, Any]:
        written = self.sink.file
        assert written is not None
        return {
            "output": written.path,
            "format": written.format,
            "compressed": written.compressed,
            "batches": written.batches,
            "spans": written.spans,
            "log_records": written.log_records,
            "data_points": written.data_points,
            "files": written.files,  # signal -> file, when a single-signal format was split
            "bytes": written.bytes,
        }


def convert(request: ConvertRequest, stop: Stop | None = None) -> ConvertResult:
    sink = drain(_outgoing(request.inputs), _target(request), stop=stop)
    return ConvertResult(sink, sink.error)


@dataclass(frozen=True)
class NormalizeRequest:
    inputs: Sequence[str]
    output: str
    output_format: Format | None = None
    replace: bool = False  # drop the dialect keys that were mapped
    dialect: str | None = None  # treat every span as this dialect instead of detecting it


@dataclass
class NormalizeResult:
    sink: SinkReport
    stats: NormalizeStats = field(default_factory=NormalizeStats)
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        written = self.sink.file
        assert written is not None
        return {"output": written.path, "format": written.format, **self.stats.to_dict()}


def normalize(request: NormalizeRequest, stop: Stop | None = None) -> NormalizeResult:
    normalizer = CaptureNormalizer(replace=request.replace, dialect=request.dialect)

    def normalized() -> Iterator[Batch]:
        # Spans get semconv keys; logs and metrics are written as they came.
        for batch in read_all(request.inputs):
            yield (
                normalizer.normalize_batch(batch)
                if isinstance(batch, ExportTraceServiceRequest)
                else batch
            )

    sink = drain((Outgoing.of(batch) for batch in normalized()), _target(request), stop=stop)
    return NormalizeResult(sink, normalizer.stats, sink.error)


def _outgoing(inputs: Sequence[str]) -> Iterator[Outgoing]:
    return (Outgoing.of(batch) for batch in read_all(inputs))


def _target(request: ConvertRequest | NormalizeRequest) -> SinkTarget:
    return SinkTarget(output=request.output, output_format=request.output_format)
