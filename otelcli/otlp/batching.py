"""Split and re-chunk batches while keeping each span under its own resource and scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
    if target.resource_spans and target.resource_spans[-1].resource == source.resource:
        return target.resource_spans[-1]
    rs = target.resource_spans.add(schema_url=source.schema_url)
    rs.resource.CopyFrom(source.resource)
    return rs


def rechunk(
    batches: Iterable[ExportTraceServiceRequest], max_spans: int
) -> Iterator[ExportTraceServiceRequest]:
    """Re-cut a stream of batches into batches of at most `max_spans` spans.

    Takes ownership of the input batches (a small one may be extended in place).
    """
    pending = ExportTraceServiceRequest()
    pending_count = 0
    for batch in batches:
        size = count_spans(batch)
        if pending_count == 0 and size <= max_spans:
            if size == max_spans:
                yield batch
            elif size:
                pending, pending_count = batch, size
            continue
        for resource_spans in batch.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans = scope_spans.spans
                start = 0
                while start < len(spans):
                    room = max_spans - pending_count
                    part = spans[start : start + room]
                    rs = _resource_slot(pending, resource_spans)
                    ss = rs.scope_spans.add(schema_url=scope_spans.schema_url)
                    ss.scope.CopyFrom(scope_spans.scope)
                    ss.spans.extend(part)
                    pending_count += len(part)
                    start += len(part)
                    if pending_count >= max_spans:
                        yield pending
                        pending, pending_count = ExportTraceServiceRequest(), 0
    if pending_count:
        yield pending
