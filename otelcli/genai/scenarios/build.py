"""Synthetic GenAI traces for `otelcli send`: a scenario rendered in a dialect, as OTLP.

For load generation `scenario_template` serialises a scenario once (otlp.template) and
afterwards only patches trace ids, span ids and timestamps into the bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli import __version__
from otelcli.genai.scenarios import dialects
from otelcli.genai.scenarios.catalog import check_names, make_scenario
from otelcli.genai.scenarios.model import Scenario
from otelcli.genai.scenarios.semconv import render_semconv
from otelcli.otlp.build import RenderedSpan, fill_span, new_request, new_rng, random_id
from otelcli.otlp.template import TraceTemplate
from otelcli.otlp.values import AttrValue

SCOPES: dict[str, tuple[str, str]] = {
    # Where a backend keys dialect detection on the scope name, use the library's own name.
    "semconv": ("otelcli", __version__),
    "openinference": ("openinference.instrumentation", ""),
    "openllmetry": ("traceloop.tracer", ""),
    "vercel": ("ai", ""),
    "openlit": ("openlit.otel.tracing", ""),
}


def render_spans(scenario: Scenario, dialect: str, *, content: bool) -> list[RenderedSpan]:
    check_names(scenario.name, dialect)
    if dialect == "semconv":
        return render_semconv(scenario, content)
    return dialects.render(scenario, dialect, content=content)


def build_scenario(
    name: str,
    *,
    dialect: str = "semconv",
    seed: int | None = None,
    content: bool = False,
    service: str = "otelcli-demo",
    now_ns: int | None = None,
    resource_attrs: Mapping[str, AttrValue] | None = None,
) -> ExportTraceServiceRequest:
    """One trace of the scenario as an OTLP request; the trace ends at `now_ns` (default: now)."""
    check_names(name, dialect)
    rng = new_rng(seed)
    scenario = make_scenario(name, rng)
    rendered = render_spans(scenario, dialect, content=content)
    end_ns = time.time_ns() if now_ns is None else now_ns
    base_ns = end_ns - max(span.end_ns for span in rendered)
    trace_id = random_id(rng, 16)
    span_ids = [random_id(rng, 8) for _ in rendered]
    request, scope_spans = new_request(service, resource_attrs, *SCOPES[dialect])
    for index, span in enumerate(rendered):
        fill_span(
            scope_spans.spans.add(),
            span,
            trace_id=trace_id,
            span_id=span_ids[index],
            parent_id=span_ids[span.parent] if span.parent is not None else b"",
            base_ns=base_ns,
        )
    return request


def scenario_template(
    name: str,
    dialect: str = "semconv",
    *,
    seed: int | None = None,
    content: bool = False,
    service: str = "otelcli-demo",
    resource_attrs: Mapping[str, AttrValue] | None = None,
) -> TraceTemplate:
    """A pre-encoded scenario for load generation: `template.batch(n)` gives n traces' bytes."""
    check_names(name, dialect)
    rng = new_rng(seed)
    rendered = render_spans(make_scenario(name, rng), dialect, content=content)
    return TraceTemplate(
        rendered,
        service=service,
        resource_attrs=resource_attrs,
        scope=SCOPES[dialect],
        seed=None if seed is None else rng.getrandbits(64),
    )
