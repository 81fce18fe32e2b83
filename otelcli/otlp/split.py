"""Halve a batch of any signal, each record kept under its own resource and scope: the
exporter's answer to a 413 or an oversized request, and replay's --max-batch-bytes.

Traces use otlp/batching.py's split_request; logs split by log record and metrics by metric
(a metric's data points stay together, as one instrument's series).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.batching import split_request
from otelcli.otlp.signals import Batch, Signal, empty_request, signal_of

# signal -> (resource list, scope list, item list) field names
_FIELDS = {
    Signal.LOGS: ("resource_logs", "scope_logs", "log_records"),
    Signal.METRICS: ("resource_metrics", "scope_metrics", "metrics"),
}


def items(batch: Batch) -> int:
    """Spans, log records or metrics: the units a split moves."""
    if isinstance(batch, ExportTraceServiceRequest):
        return sum(len(ss.spans) for rs in batch.resource_spans for ss in rs.scope_spans)
    resources, scopes, leaves = _FIELDS[signal_of(batch)]
    return sum(
        len(getattr(scope, leaves))
        for resource in getattr(batch, resources)
        for scope in getattr(resource, scopes)
    )


def split_batch(batch: Batch) -> tuple[Batch, Batch]:
    """Two batches holding the first and the second half of the items."""
    if isinstance(batch, ExportTraceServiceRequest):
        return split_request(batch)
    signal = signal_of(batch)
    resources, scopes, leaves = _FIELDS[signal]
    half = items(batch) // 2
    first, second = empty_request(signal), empty_request(signal)
    taken = 0
    for resource in getattr(batch, resources):
        for scope in getattr(resource, scopes):
            records = getattr(scope, leaves)
            cut = max(0, min(len(records), half - taken))
            taken += len(records)
            for target, part in ((first, records[:cut]), (second, records[cut:])):
                if part:
                    slot = _slot(getattr(target, resources), resource)
                    added: Any = getattr(slot, scopes).add(schema_url=scope.schema_url)
                    added.scope.CopyFrom(scope.scope)
                    getattr(added, leaves).extend(part)
    return first, second


def _slot(targets: Any, source: Any) -> Any:
    """The resource entry in `targets` for `source`'s resource (the last one if the same)."""
    if len(targets) and targets[-1].resource == source.resource:
        return targets[-1]
    slot = targets.add(schema_url=source.schema_url)
    slot.resource.CopyFrom(source.resource)
    return slot
