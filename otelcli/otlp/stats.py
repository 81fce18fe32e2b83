"""Summary statistics of a capture: what `otelcli stats` reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.spans import STATUS_ERROR
from otelcli.otlp.values import attributes_to_dict


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

    def add(self, batch: ExportTraceServiceRequest) -> None:
        self.batches += 1
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
        }


def compute_stats(batches: Iterable[ExportTraceServiceRequest]) -> CaptureStats:
    stats = CaptureStats()
    for batch in batches:
        stats.add(batch)
    return stats
