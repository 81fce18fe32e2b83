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
_CUMULATIVE = 2  # AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE


@dataclass
class UsagePoint:
    attributes: dict[str, Any]  # point attributes over resource attributes
    tokens: int  # the histogram's sum
    calls: int  # the histogram's count
    time_ns: int
    trace_ids: frozenset[bytes] = frozenset()  # from exemplars, when there are any


@dataclass
class UsageMetricTally:
    points: int = 0  # token-usage data points read (a cumulative series' repeats too)
    _series: dict[tuple[Any, ...], UsagePoint] = field(default_factory=dict)
    _deltas: list[UsagePoint] = field(default_factory=list)

    def add_batch(self, batch: ExportMetricsServiceRequest) -> None:
        for resource_metrics in batch.resource_metrics:
            resource: dict[str, Any] | None = None
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != TOKEN_USAGE or metric.WhichOneof("data") != "histogram":
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
