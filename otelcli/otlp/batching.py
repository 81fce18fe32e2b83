"""Split and re-chunk batches while keeping each span (or log record) under its own resource
and scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from otelcli.otlp.spans import count_spans


def split_request(
    request: ExportTraceServiceRequest,
) -> tuple[ExportTraceServiceRequest, ExportTraceServiceRequest]:
    """Two requests holding the first and the second half of the spans."""
    half = count_spans(request) // 2
    first, second = ExportTraceServiceRequest(), ExportTraceServiceRequest()
    taken = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            cut = max(0, min(len(spans), half - taken))
            taken += len(spans)
            for target, part in ((first, spans[:cut]), (second, spans[cut:])):
                if not part:
                    continue
                rs = _resource_slot(target, resource_spans)
                ss = rs.scope_spans.add(schema_url=scope_spans.schema_url)
                ss.scope.CopyFrom(scope_spans.scope)
                ss.spans.extend(part)
    return first, second


def _resource_slot(target: ExportTraceServiceRequest, source: ResourceSpans) -> ResourceSpans:
    """The ResourceSpans in `target` for `source`'s resource (the last one, if it is the same)."""
    slot: ResourceSpans = _slot(target.resource_spans, source)
    return slot


def rechunk(
    batches: Iterable[ExportTraceServiceRequest], max_spans: int
) -> Iterator[ExportTraceServiceRequest]:
    """Re-cut a stream of batches into batches of at most `max_spans` spans.

    Takes ownership of the input batches (a small one may be extended in place).
    """
    return _rechunk(batches, max_spans, _SPANS)


def rechunk_logs(
    batches: Iterable[ExportLogsServiceRequest], max_records: int
) -> Iterator[ExportLogsServiceRequest]:
    """`rechunk` for log records: at most `max_records` per batch (replay's --batch-size)."""
    return _rechunk(batches, max_records, _LOGS)


# (request type, resource list, scope list, leaf list) field names of a signal
_SPANS = (ExportTraceServiceRequest, "resource_spans", "scope_spans", "spans")
_LOGS = (ExportLogsServiceRequest, "resource_logs", "scope_logs", "log_records")


def _rechunk(batches: Iterable[Any], limit: int, names: tuple[Any, str, str, str]) -> Iterator[Any]:
    kind, resources, scopes, leaves = names

    def count(batch: Any) -> int:
        return sum(
            len(getattr(s, leaves)) for r in getattr(batch, resources) for s in getattr(r, scopes)
        )

    pending = kind()
    pending_count = 0
    for batch in batches:
        size = count(batch)
        if pending_count == 0 and size <= limit:
            if size == limit:
                yield batch
            elif size:
                pending, pending_count = batch, size
            continue
        for resource in getattr(batch, resources):
            for scope in getattr(resource, scopes):
                items = getattr(scope, leaves)
                start = 0
                while start < len(items):
                    part = items[start : start + limit - pending_count]
                    slot = _slot(getattr(pending, resources), resource)
                    added = getattr(slot, scopes).add(schema_url=scope.schema_url)
                    added.scope.CopyFrom(scope.scope)
                    getattr(added, leaves).extend(part)
                    pending_count += len(part)
                    start += len(part)
                    if pending_count >= limit:
                        yield pending
                        pending, pending_count = kind(), 0
    if pending_count:
        yield pending


def _slot(target: Any, source: Any) -> Any:
    """The resource entry in `target` for `source`'s resource (the last one, if it is the same)."""
    if target and target[-1].resource == source.resource:
        return target[-1]
    added = target.add(schema_url=source.schema_url)
    added.resource.CopyFrom(source.resource)
    return added
