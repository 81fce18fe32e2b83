"""validate for GenAI metrics: instrument name, type (histogram) and unit against the
registry, the recommended bucket boundaries, required and recommended attributes on each data
point, and span token usage against gen_ai.client.token.usage where a capture has both.

Findings go into the run's ValidationReport as signal "metrics" with the span type
"metric <name>"; a data point's exemplar, when it has one, gives the trace and span ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.genai.semconv.findings import Raw, SpanRef
from otelcli.genai.semconv.signal_rules import SignalRules, missing_attributes, signal_rules
from otelcli.genai.usage_metric import TOKEN_USAGE, UsageMetricTally, model_of
from otelcli.otlp.signals import metric_points
from otelcli.otlp.values import attributes_to_dict

if TYPE_CHECKING:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric

    from otelcli.genai.semconv.validate import Validator

_INSTRUMENTS = {  # OTLP data kinds as the conventions name instruments
    "histogram": "histogram",
    "exponential_histogram": "histogram",
    "sum": "counter",
    "gauge": "gauge",
    "summary": "summary",
}
# span usage keys -> gen_ai.token.type
_SPAN_USAGE = {"gen_ai.usage.input_tokens": "input", "gen_ai.usage.output_tokens": "output"}
# Spans of one model call; agent and workflow spans may carry sums of their calls' usage.
_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})


@dataclass
class MetricChecker:
    validator: Validator
    rules: SignalRules = field(default_factory=signal_rules)
    metrics: int = 0  # GenAI metrics (one per metric message)
    data_points: int = 0
    names: Counter[str] = field(default_factory=Counter)
    usage: UsageMetricTally = field(default_factory=UsageMetricTally)
    # (model, token type) -> tokens on spans
    span_tokens: Counter[tuple[str, str]] = field(default_factory=Counter)

    def check_batch(self, batch: ExportMetricsServiceRequest) -> None:
        self.usage.add_batch(batch)
        for resource_metrics in batch.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    self.check_metric(metric)

    def check_metric(self, metric: Metric) -> None:
        name = metric.name
        rules = self.rules
        definition = rules.metrics.get(name)
        if definition is None and not rules.owns(name):
            return  # not a GenAI metric
        self.metrics += 1
        self.names[name] += 1
        report = self.validator.report
        kind = metric.WhichOneof("data") or "none"
        instrument = _INSTRUMENTS.get(kind, kind)
        metric_ref = SpanRef(b"", b"", name, f"metric {name}", "metrics")
        raws: list[Raw] = []
        if definition is None:
            raws.append(("unknown_metric", name, None, None))
        else:
            if instrument != definition.instrument:
                detail = f"a {instrument}, the conventions define a {definition.instrument}"
                raws.append(("metric_instrument", name, detail, None))
            if metric.unit != definition.unit:
                detail = f"{metric.unit or '(none)'!r}, the conventions define {definition.unit!r}"
                raws.append(("metric_unit", name, detail, None))
        report.add(raws, metric_ref)
        for point in metric_points(metric):
            self.data_points += 1
            attributes = attributes_to_dict(point.attributes)
            raws = []
            if definition is not None:
                raws.extend(
                    (rule, key, None, None)
                    for rule, key in missing_attributes(attributes, definition.attributes)
                )
                bounds = tuple(getattr(point, "explicit_bounds", ()))
                if kind == "histogram" and bounds != definition.buckets:
                    raws.append(("metric_buckets", name, _bounds_detail(bounds), None))
            self.validator.check_attributes(attributes, raws)
            if raws:
                exemplar = point.exemplars[0] if getattr(point, "exemplars", None) else None
                ref = SpanRef(
                    exemplar.trace_id if exemplar else b"",
                    exemplar.span_id if exemplar else b"",
                    name,
                    f"metric {name}",
                    "metrics",
                )
                report.add(raws, ref)

    def add_span_usage(self, attributes: Mapping[str, Any]) -> None:
        """Tally a checked span's token usage, for the consistency check at the end."""
        tally_span_usage(attributes, self.span_tokens)

    def finish(self) -> None:
        """Span usage against the token-usage metric, per model and token type, where both are
        there (a capture with only one of them says nothing about the other)."""
        if not self.usage or not self.span_tokens:
            return
        metric_tokens: Counter[tuple[str, str]] = Counter()
        for point in self.usage.totals():
            token_type = str(point.attributes.get("gen_ai.token.type"))
            metric_tokens[(model_of(point.attributes), token_type)] += point.tokens
        span_tokens = self.span_tokens
        if {m for m, _ in metric_tokens} != {m for m, _ in span_tokens}:
            # Models named differently (request vs response model, or none on the points:
            # it is only conditionally required): compare per token type.
            metric_tokens, span_tokens = _by_type(metric_tokens), _by_type(span_tokens)
        for key in sorted(set(metric_tokens) | set(span_tokens)):
            from_metric, from_spans = metric_tokens[key], span_tokens[key]
            if from_metric != from_spans:
                model, token_type = key
                detail = (
                    f"{model} {token_type} tokens: {from_spans:,} on spans, "
                    f"{from_metric:,} in the metric"
                )
                ref = SpanRef(b"", b"", TOKEN_USAGE, f"metric {TOKEN_USAGE}", "metrics")
                self.validator.report.add(
                    [("usage_metric_mismatch", TOKEN_USAGE, detail, None)], ref
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "data_points": self.data_points,
            "metric_names": dict(self.names.most_common()),
        }


def _by_type(tokens: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    totals: Counter[tuple[str, str]] = Counter()
    for (_, token_type), count in tokens.items():
        totals[("all models", token_type)] += count
    return totals


def _bounds_detail(bounds: tuple[float, ...]) -> str:
    if not bounds:
        return "no explicit bounds"
    shown = ", ".join(f"{b:g}" for b in bounds[:6])
    return f"[{shown}{', ...' if len(bounds) > 6 else ''}]"


def tally_span_usage(attributes: Mapping[str, Any], span_tokens: Counter[tuple[str, str]]) -> None:
    """Add a span's token usage per (model, token type) to `span_tokens` (LLM calls only)."""
    if attributes.get("gen_ai.operation.name") not in _CALL_OPERATIONS:
        return
    for key, token_type in _SPAN_USAGE.items():
        value = attributes.get(key)
        if type(value) is int:
            span_tokens[(model_of(attributes), token_type)] += value
