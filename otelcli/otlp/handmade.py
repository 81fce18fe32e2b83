"""Hand-built spans, otel-cli style: one span in a one-span batch, optionally under a parent."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli import __version__
from otelcli.errors import UsageError
from otelcli.otlp.build import new_request, random_id
from otelcli.otlp.ids import TraceParent
from otelcli.otlp.values import AttrValue, fill_any_value
from otelcli.parse import parse_kind, parse_status


@dataclass(frozen=True)
class HandmadeSpan:
    request: ExportTraceServiceRequest
    context: TraceParent  # the new span's own context, for --print-traceparent


def build_span(
    *,
    name: str,
    kind: str = "client",
    attributes: Mapping[str, AttrValue] | None = None,
    status: str = "unset",
    status_message: str = "",
    service: str = "otelcli",
    resource_attributes: Mapping[str, AttrValue] | None = None,
    start_ns: int,
    end_ns: int,
    parent: TraceParent | None = None,
    trace_state: str = "",
    rng: random.Random | None = None,
) -> HandmadeSpan:
    """One span in a one-span batch. With a parent the span joins its trace; otherwise it
    starts a new trace. The span inherits the parent's sampled flag."""
    if not name.strip():
        raise UsageError("the span needs a name", hint="pass --name")
    if end_ns < start_ns:
        raise UsageError("the span ends before it starts", hint="check the start and end times")
    rng = rng or random.Random()
    trace_id = parent.trace_id if parent is not None else random_id(rng, 16)
    span_id = random_id(rng, 8)
    flags = parent.flags if parent is not None else 1
    code = parse_status(status)
    request, scope_spans = new_request(service, resource_attributes, "otelcli", __version__)
    span = scope_spans.spans.add()
    span.trace_id = trace_id
    span.span_id = span_id
    if parent is not None:
        span.parent_span_id = parent.span_id
    if trace_state:
        span.trace_state = trace_state
    span.name = name
    span.kind = parse_kind(kind)  # type: ignore[assignment]
    span.start_time_unix_nano = start_ns
    span.end_time_unix_nano = end_ns
    # low byte: W3C trace flags; 0x100: the is-remote bit is known; 0x200: the parent is remote
    span.flags = (flags & 0xFF) | 0x100 | (0x200 if parent is not None else 0)
    for key, value in (attributes or {}).items():
        fill_any_value(span.attributes.add(key=key).value, value)
    if code:
        span.status.code = code  # type: ignore[assignment]
        if status_message:
            span.status.message = status_message
    return HandmadeSpan(request, TraceParent(trace_id, span_id, flags))
