"""The events and metrics that go with a scenario's spans, as the GenAI conventions define
them, for `otelcli send --signal logs|metrics`.

Both are made from the spans themselves (after mapping a dialect's keys to semconv keys), so
they always agree with them:

- logs: one `gen_ai.client.inference.operation.details` event per model call, in its span's
  context (trace and span id), with the call's attributes (and, with --content, its messages);
- metrics: `gen_ai.client.token.usage` (histogram, {token}) per model and token type, and
  `gen_ai.client.operation.duration` (histogram, s, error.type on failures), with the
  conventions' bucket advice and an exemplar pointing at a span.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.genai.semconv.signal_rules import signal_rules
from otelcli.otlp.spans import STATUS_ERROR, SpanView, iter_spans
from otelcli.otlp.values import set_attribute

EVENT = "gen_ai.client.inference.operation.details"
TOKEN_USAGE = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
_CALLS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
# The call's attributes an event and a metric point carry (the conventions' lists).
_EVENT_KEYS = tuple(signal_rules().events[EVENT].attributes) + (
    "gen_ai.request.max_tokens",
    "gen_ai.request.temperature",
    "server.port",
)
_CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")
_POINT_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "server.address",
    "server.port",
)
_SEVERITY_INFO = 9
_DELTA = 1  # each batch's calls on their own: load batches add up
SCOPE = "otelcli"


def _calls(batch: ExportTraceServiceRequest) -> list[tuple[SpanView, Mapping[str, Any]]]:
    """The model-call spans, with their attributes in semconv keys."""
    from otelcli.genai.dialects.normalize import load_dialects

    table = load_dialects()
    calls = []
    for view in iter_spans(batch):
        attributes: Mapping[str, Any] = view.attributes
        if "gen_ai.operation.name" not in attributes:
            attributes = table.normalize(attributes, span_name=view.name).attributes
        if attributes.get("gen_ai.operation.name") in _CALLS:
            calls.append((view, attributes))
    return calls


def _resource_of(batch: ExportTraceServiceRequest, target: Any) -> None:
    if batch.resource_spans:
        target.resource.CopyFrom(batch.resource_spans[0].resource)


def scenario_signals(
    batch: ExportTraceServiceRequest, signals: frozenset[str], *, content: bool
) -> list[ExportLogsServiceRequest | ExportMetricsServiceRequest]:
    """The logs and metrics batches asked for in `signals` (traces themselves are `batch`)."""
    made: list[ExportLogsServiceRequest | ExportMetricsServiceRequest] = []
    if "logs" in signals:
        made.append(scenario_logs(batch, content=content))
    if "metrics" in signals:
        made.append(scenario_metrics(batch))
    return made


def scenario_logs(batch: ExportTraceServiceRequest, *, content: bool) -> ExportLogsServiceRequest:
    """One operation-details event per model call of the trace(s) in `batch`."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    _resource_of(batch, resource_logs)
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = SCOPE
    keys = _EVENT_KEYS + (_CONTENT_KEYS if content else ())
    for view, attributes in _calls(batch):
        record = scope_logs.log_records.add()
        span = view.span
        record.event_name = EVENT
        record.time_unix_nano = span.end_time_unix_nano
        record.observed_time_unix_nano = span.end_time_unix_nano
        record.severity_number = _SEVERITY_INFO  # type: ignore[assignment]
        record.severity_text = "INFO"
        record.trace_id = span.trace_id
        record.span_id = span.span_id
        record.flags = span.flags & 0xFF or 1
        for key in keys:
            value = attributes.get(key)
            if value is not None:
                set_attribute(record.attributes, key, value)
        if span.status.code == STATUS_ERROR:
            set_attribute(record.attributes, "error.type", attributes.get("error.type", "_OTHER"))
    return request


def scenario_metrics(batch: ExportTraceServiceRequest) -> ExportMetricsServiceRequest:
    """Token usage and operation duration of the model calls in `batch`."""
    rules = signal_rules().metrics
    calls = _calls(batch)
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    _resource_of(batch, resource_metrics)
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = SCOPE
    if not calls:
        return request
    start = min(view.span.start_time_unix_nano for view, _ in calls)
    end = max(view.span.end_time_unix_nano for view, _ in calls)
    # series key -> (values, an exemplar span)
    usage: dict[tuple[Any, ...], tuple[list[float], SpanView]] = {}
    durations: dict[tuple[Any, ...], tuple[list[float], SpanView]] = {}
    for view, attributes in calls:
        base = tuple((k, attributes[k]) for k in _POINT_KEYS if attributes.get(k) is not None)
        for token_type, usage_key in (
            ("input", "gen_ai.usage.input_tokens"),
            ("output", "gen_ai.usage.output_tokens"),
        ):
            tokens = attributes.get(usage_key)
            if isinstance(tokens, int):
                key = (*base, ("gen_ai.token.type", token_type))
                usage.setdefault(key, ([], view))[0].append(tokens)
        error: tuple[tuple[str, Any], ...] = ()
        if view.span.status.code == STATUS_ERROR:
            error = (("error.type", attributes.get("error.type", "_OTHER")),)
        seconds = (view.span.end_time_unix_nano - view.span.start_time_unix_nano) / 1e9
        durations.setdefault((*base, *error), ([], view))[0].append(seconds)
    for name, series in ((TOKEN_USAGE, usage), (DURATION, durations)):
        if not series:
            continue
        rule = rules[name]
        metric = scope_metrics.metrics.add()
        metric.name, metric.unit = name, rule.unit
        metric.histogram.aggregation_temporality = _DELTA  # type: ignore[assignment]
        for point_key, (values, example) in series.items():
            point = metric.histogram.data_points.add()
            point.start_time_unix_nano, point.time_unix_nano = start, end
            for attribute, value in point_key:
                set_attribute(point.attributes, attribute, value)
            point.count = len(values)
            point.sum = float(sum(values))
            point.min, point.max = float(min(values)), float(max(values))
            point.explicit_bounds.extend(rule.buckets)
            counts = [0] * (len(rule.buckets) + 1)
            for value in values:
                counts[bisect.bisect_left(rule.buckets, value)] += 1
            point.bucket_counts.extend(counts)
            exemplar = point.exemplars.add()
            exemplar.time_unix_nano = example.span.end_time_unix_nano
            exemplar.as_double = float(values[-1])
            exemplar.trace_id = example.span.trace_id
            exemplar.span_id = example.span.span_id
    return request
