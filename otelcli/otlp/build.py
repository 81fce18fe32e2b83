"""Build OTLP trace requests from spans described in plain values (ids and times given later).

A RenderedSpan is what a scenario renderer or a hand-built span produces: a name, kind, parent
(as an index), offsets from the trace start, attributes, events and status. `fill_span` turns
one into protobuf with real ids and a time base.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span

from otelcli.otlp.values import AttrValue, fill_any_value


@dataclass
class RenderedEvent:
    name: str
    time_ns: int  # offset from the start of the trace
    attributes: dict[str, AttrValue]


@dataclass
class RenderedSpan:
    name: str
    kind: int
    parent: int | None  # index into the rendered list
    start_ns: int
    end_ns: int
    attributes: dict[str, AttrValue]
    status_code: int = 0
    status_message: str = ""
    events: list[RenderedEvent] = field(default_factory=list)


def new_request(
    service: str,
    resource_attrs: Mapping[str, AttrValue] | None,
    scope_name: str,
    scope_version: str = "",
) -> tuple[ExportTraceServiceRequest, ScopeSpans]:
    """An empty request with one resource and one scope; returns it and its ScopeSpans."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attributes = dict(resource_attrs or {})
    # the explicit service name wins, as OTEL_SERVICE_NAME does over OTEL_RESOURCE_ATTRIBUTES
    attributes["service.name"] = service
    for key, value in attributes.items():
        fill_any_value(resource_spans.resource.attributes.add(key=key).value, value)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope_name
    if scope_version:
        scope_spans.scope.version = scope_version
    return request, scope_spans


def fill_span(
    target: Span,
    rendered: RenderedSpan,
    *,
    trace_id: bytes,
    span_id: bytes,
    parent_id: bytes,
    base_ns: int,
) -> None:
    target.trace_id = trace_id
    target.span_id = span_id
    if parent_id:
        target.parent_span_id = parent_id
    target.name = rendered.name
    target.kind = rendered.kind  # type: ignore[assignment]
    target.start_time_unix_nano = base_ns + rendered.start_ns
    target.end_time_unix_nano = base_ns + rendered.end_ns
    for key, value in rendered.attributes.items():
        fill_any_value(target.attributes.add(key=key).value, value)
    for event in rendered.events:
        ev = target.events.add(name=event.name, time_unix_nano=base_ns + event.time_ns)
        for key, value in event.attributes.items():
            fill_any_value(ev.attributes.add(key=key).value, value)
    if rendered.status_code:
        target.status.code = rendered.status_code  # type: ignore[assignment]
        if rendered.status_message:
            target.status.message = rendered.status_message


def new_rng(seed: int | None) -> random.Random:
    return random.Random(seed) if seed is not None else random.Random()


def random_id(rng: random.Random, size: int) -> bytes:
    while True:  # an all-zero id is invalid in OTLP and W3C trace context
        value = rng.randbytes(size)
        if any(value):
            return value
