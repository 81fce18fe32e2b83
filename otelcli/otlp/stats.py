"""Summary statistics of a capture: what `otelcli stats` reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.signals import Batch, Signal, metric_points, signal_of
from otelcli.otlp.spans import STATUS_ERROR
from otelcli.otlp.values import attributes_to_dict


@dataclass
class TimeRange:
    first_ns: int | None = None
    last_ns: int | None = None

    def add(self, first: int, last: int | None = None) -> None:
        last = first if last is None else last
        if first and (self.first_ns is None or first < self.first_ns):
            self.first_ns = first
        if last and (self.last_ns is None or last > self.last_ns):
            self.last_ns = last

    def to_dict(self) -> dict[str, int | None]:
        return {"first_ns": self.first_ns, "last_ns": self.last_ns}


def _service(resource: Any) -> str:
    service = attributes_to_dict(resource.attributes).get("service.name")
    return service if isinstance(service, str) else "unknown_service"


@dataclass
class LogStats:
    records: int = 0
    with_trace: int = 0  # records that carry a trace and span id
    event_names: Counter[str] = field(default_factory=Counter)
    time: TimeRange = field(default_factory=TimeRange)
    services: Counter[str] = field(default_factory=Counter)
    scopes: Counter[str] = field(default_factory=Counter)

    def add(self, batch: ExportLogsServiceRequest) -> None:
        for resource_logs in batch.resource_logs:
            service = _service(resource_logs.resource)
            for scope_logs in resource_logs.scope_logs:
                records = scope_logs.log_records
                if not records:
                    continue
                self.records += len(records)
                self.services[service] += len(records)
                self.scopes[scope_logs.scope.name or "(unnamed scope)"] += len(records)
                for record in records:
                    # The event name: the field since OTLP 1.5, an attribute before it.
                    name = record.event_name or _event_attribute(record)
                    self.event_names[name or "(no event name)"] += 1
                    if record.trace_id and record.span_id:
                        self.with_trace += 1
                    self.time.add(record.time_unix_nano or record.observed_time_unix_nano)

    def to_dict(self, top: int) -> dict[str, Any]:
        return {
            "log_records": self.records,
            "with_trace_context": self.with_trace,
            "event_names": dict(self.event_names.most_common(top)),
            "distinct_event_names": len(self.event_names),
            "time_range": self.time.to_dict(),
            "services": dict(self.services.most_common()),
            "scopes": dict(self.scopes.most_common()),
        }


def _event_attribute(record: Any) -> str | None:
    for attribute in record.attributes:
        if attribute.key == "event.name":
            return str(attribute.value.string_value) or None
    return None


@dataclass
class MetricStats:
    metrics: int = 0
    data_points: int = 0
    # (name, type, unit) -> data points
    instruments: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    time: TimeRange = field(default_factory=TimeRange)
    services: Counter[str] = field(default_factory=Counter)
    scopes: Counter[str] = field(default_factory=Counter)

    def add(self, batch: Any) -> None:
        for resource_metrics in batch.resource_metrics:
            service = _service(resource_metrics.resource)
            for scope_metrics in resource_metrics.scope_metrics:
                if not scope_metrics.metrics:
                    continue
                scope = scope_metrics.scope.name or "(unnamed scope)"
                for metric in scope_metrics.metrics:
                    points = metric_points(metric)
                    self.metrics += 1
                    self.data_points += len(points)
                    self.services[service] += len(points)
                    self.scopes[scope] += len(points)
                    kind = metric.WhichOneof("data") or "(no data)"
                    self.instruments[(metric.name, kind, metric.unit)] += len(points)
                    for point in points:
                        self.time.add(
                            point.start_time_unix_nano or point.time_unix_nano, point.time_unix_nano
                        )

    def to_dict(self, top: int) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "data_points": self.data_points,
            "metric_names": [
                {"name": name, "type": kind, "unit": unit, "data_points": points}
                for (name, kind, unit), points in self.instruments.most_common(top)
            ],
            "distinct_metric_names": len({name for name, _, _ in self.instruments}),
            "time_range": self.time.to_dict(),
            "services": dict(self.services.most_common()),
            "scopes": dict(self.scopes.most_common()),
        }


@dataclass
class CaptureStats:
    batches: int = 0
    spans: int = 0
    error_spans: int = 0
    root_spans: int = 0
    trace_ids: set[bytes] = field(default_factory=set)
    services: Counter[str] = field(default_factory=Counter)
    scopes: Counter[str] = field(default_factory=Counter)
    span_names: Counter[str] = field(default_factory=Counter)
    first_start_ns: int | None = None
    last_end_ns: int | None = None
    signal_batches: Counter[Signal] = field(default_factory=Counter)
    logs: LogStats = field(default_factory=LogStats)
    metrics: MetricStats = field(default_factory=MetricStats)

    def add(self, batch: Batch) -> None:
        self.batches += 1
        signal = signal_of(batch)
        self.signal_batches[signal] += 1
        if isinstance(batch, ExportTraceServiceRequest):
            self._add_traces(batch)
        elif isinstance(batch, ExportLogsServiceRequest):
            self.logs.add(batch)
        else:
            self.metrics.add(batch)

    def _add_traces(self, batch: ExportTraceServiceRequest) -> None:
        for resource_spans in batch.resource_spans:
            service = attributes_to_dict(resource_spans.resource.attributes).get("service.name")
            service_name = service if isinstance(service, str) else "unknown_service"
            for scope_spans in resource_spans.scope_spans:
                spans = scope_spans.spans
                if not spans:
                    continue
                self.spans += len(spans)
                self.services[service_name] += len(spans)
                self.scopes[scope_spans.scope.name or "(unnamed scope)"] += len(spans)
                for span in spans:
                    self.trace_ids.add(span.trace_id)
                    self.span_names[span.name] += 1
                    if not span.parent_span_id:
                        self.root_spans += 1
                    if span.status.code == STATUS_ERROR:
                        self.error_spans += 1
                    start, end = span.start_time_unix_nano, span.end_time_unix_nano
                    if start and (self.first_start_ns is None or start < self.first_start_ns):
                        self.first_start_ns = start
                    if end and (self.last_end_ns is None or end > self.last_end_ns):
                        self.last_end_ns = end

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "spans": self.spans,
            "traces": len(self.trace_ids),
            "root_spans": self.root_spans,
            "error_spans": self.error_spans,
            "services": dict(self.services.most_common()),
            "scopes": dict(self.scopes.most_common()),
            "span_names": dict(self.span_names.most_common(top)),
            "distinct_span_names": len(self.span_names),
            "first_start_ns": self.first_start_ns,
            "last_end_ns": self.last_end_ns,
            "signals": {signal.value: self.signal_batches[signal] for signal in Signal},
            "logs": self.logs.to_dict(top),
            "metrics": self.metrics.to_dict(top),
        }


def compute_stats(batches: Iterable[Batch]) -> CaptureStats:
    stats = CaptureStats()
    for batch in batches:
        stats.add(batch)
    return stats
