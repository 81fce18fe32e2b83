"""The token-usage metric (gen_ai.client.token.usage) summed per series, for validate's
span-vs-metric check and for cost from metrics.

A cumulative series is exported again and again with its running total (the OTel SDK's
default temporality), so only its latest point counts; delta points each add their own.
A series is the metric's resource, scope and point attributes with the point's start time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.otlp.values import attributes_to_dict

if TYPE_CHECKING:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

TOKEN_USAGE = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
_CUMULATIVE = 2  # AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


@dataclass
class UsagePoint:
    attributes: dict[str, Any]  # point attributes over resource attributes
    tokens: int  # the histogram's sum (for the token-usage metric: tokens)
    calls: int  # the histogram's count
    time_ns: int
    trace_ids: frozenset[bytes] = frozenset()  # from exemplars, when there are any
    value: float = 0.0  # the sum as it is (seconds, for the duration metric)


@dataclass
class UsageMetricTally:
    metric: str = TOKEN_USAGE  # the histogram summed
    points: int = 0  # token-usage data points read (a cumulative series' repeats too)
    _series: dict[tuple[Any, ...], UsagePoint] = field(default_factory=dict)
    _deltas: list[UsagePoint] = field(default_factory=list)

    def add_batch(self, batch: ExportMetricsServiceRequest) -> None:
        for resource_metrics in batch.resource_metrics:
            resource: dict[str, Any] | None = None
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != self.metric or metric.WhichOneof("data") != "histogram":
                        continue
                    if resource is None:
                        resource = attributes_to_dict(resource_metrics.resource.attributes)
                    self._add_histogram(metric.histogram, resource, scope_metrics.scope.name)

    def _add_histogram(self, histogram: Any, resource: Mapping[str, Any], scope: str) -> None:
        cumulative = histogram.aggregation_temporality == _CUMULATIVE
        for point in histogram.data_points:
            self.points += 1
            attributes = {**resource, **attributes_to_dict(point.attributes)}
            usage = UsagePoint(
                attributes,
                int(point.sum),
                int(point.count),
                point.time_unix_nano,
                frozenset(e.trace_id for e in point.exemplars if e.trace_id),
                float(point.sum),
            )
            if not cumulative:
                self._deltas.append(usage)
                continue
            key = (scope, point.start_time_unix_nano, _frozen(attributes))
            kept = self._series.get(key)
            if kept is None or usage.time_ns >= kept.time_ns:
                if kept is not None:
                    usage.trace_ids |= kept.trace_ids
                self._series[key] = usage

    def __bool__(self) -> bool:
        return bool(self._series or self._deltas)

    def totals(self) -> Iterator[UsagePoint]:
        """One point per cumulative series (its latest) and every delta point."""
        yield from self._series.values()
        yield from self._deltas


def _frozen(attributes: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, repr(value)) for key, value in attributes.items()))


@dataclass
class ModelMetrics:
    calls: int = 0
    errors: int = 0  # calls whose duration point carries error.type
    seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def mean_s(self) -> float | None:
        return self.seconds / self.calls if self.calls else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None


@dataclass
class MetricsBoard:
    """tail's GenAI metrics: tokens, latency and error rate per model, from the token-usage
    and operation-duration histograms (a cumulative series counted once)."""

    tokens: UsageMetricTally = field(default_factory=UsageMetricTally)
    durations: UsageMetricTally = field(default_factory=lambda: UsageMetricTally(DURATION))

    def add_batch(self, batch: ExportMetricsServiceRequest) -> None:
        self.tokens.add_batch(batch)
        self.durations.add_batch(batch)

    def __bool__(self) -> bool:
        return bool(self.tokens or self.durations)

    def by_model(self) -> dict[str, ModelMetrics]:
        models: dict[str, ModelMetrics] = {}
        for point in self.durations.totals():
            row = models.setdefault(model_of(point.attributes), ModelMetrics())
            row.calls += point.calls
            row.seconds += point.value
            if point.attributes.get("error.type"):
                row.errors += point.calls
        for point in self.tokens.totals():
            row = models.setdefault(model_of(point.attributes), ModelMetrics())
            token_type = point.attributes.get("gen_ai.token.type")
            if token_type == "input":
                row.input_tokens += point.tokens
            elif token_type == "output":
                row.output_tokens += point.tokens
        return dict(sorted(models.items()))


def model_of(attributes: Mapping[str, Any]) -> str:
    """The model a point (or span) names: the requested one first."""
    for key in ("gen_ai.request.model", "gen_ai.response.model"):
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return "(no model)"
