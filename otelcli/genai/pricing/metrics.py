"""Cost from the token-usage metric (gen_ai.client.token.usage), for captures whose calls
have metrics but no spans: a metrics-only pipeline, a gateway's metrics export.

The metric's sums per model and token type are priced like one call's usage; the histogram's
count of input points is the number of calls. It is reported in a section of its own, named
as from metrics, and enters the total only for calls no span covers:

- a point whose exemplars name traces: covered when a span of one of those traces was read;
- a point without exemplars cannot say which calls it counts: covered when the capture has
  any span at all, so metric cost is never added on top of span cost for the same calls.

The metric does not split cached input from the rest, so all input is priced at the input
rate (an upper bound when calls read from a cache); that is said in the report.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from otelcli.genai.dialects.normalize import load_dialects
from otelcli.genai.pricing.cost import CostBreakdown, CostTotals, Usage, cost_of
from otelcli.genai.pricing.table import PriceTable
from otelcli.genai.usage_metric import TOKEN_USAGE, UsageMetricTally

_MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model")  # as for spans: response first
_PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system")
_INPUT, _OUTPUT = "input", "output"
NO_CACHE_SPLIT = "the metric does not split cached input: all input priced at the input rate"


@dataclass
class MetricGroup:
    model: str
    provider: str | None
    covered: bool  # spans of the capture cover these calls: shown, not in the total
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    time_ns: int = 0  # the latest point's: prices of that day
    breakdown: CostBreakdown | None = None

    def to_dict(self) -> dict[str, Any]:
        b = self.breakdown
        usd = b.total_usd if b is not None else None
        return {
            "model": self.model,
            "provider": self.provider,
            "calls": self.calls,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "usd": None if usd is None else format(usd.normalize(), "f"),
            "price_id": b.price_id if b is not None else None,
            "in_total": not self.covered,
        }


@dataclass
class MetricCost:
    points: int = 0  # token-usage points read (repeats of a cumulative series included)
    groups: list[MetricGroup] = field(default_factory=list)
    other_token_types: dict[str, int] = field(default_factory=dict)  # type -> tokens, unpriced

    def added(self) -> CostTotals:
        """What enters the report's total: the calls no span covers."""
        totals = CostTotals()
        for group in self.groups:
            if group.covered or group.breakdown is None:
                continue
            usage = Usage(group.input_tokens, group.output_tokens)
            totals.count(usage, group.breakdown.cost_units)
            # count() adds one call; the group holds `calls` of them
            extra = max(group.calls, 1) - 1
            totals.spans += extra
            if group.breakdown.cost_units is None:
                totals.unknown_spans += extra
            else:
                totals.priced_spans += extra
        return totals

    def to_dict(self) -> dict[str, Any]:
        total = sum(
            (g.breakdown.total_usd or Decimal(0) for g in self.groups if g.breakdown),
            Decimal(0),
        )
        added = self.added()
        return {
            "metric": TOKEN_USAGE,
            "points": self.points,
            "groups": [g.to_dict() for g in self.groups],
            "usd": format(total.normalize(), "f"),
            "usd_in_total": format(added.total_usd.normalize(), "f"),
            "calls_in_total": added.spans,
            "other_token_types": self.other_token_types,
            "note": NO_CACHE_SPLIT,
        }


def price_usage_metric(
    tally: UsageMetricTally,
    table: PriceTable,
    span_traces: Container[bytes],
    spans_read: bool,
) -> MetricCost:
    """Price the token-usage metric; `span_traces` are the trace ids of the spans read."""
    dialects = load_dialects()
    result = MetricCost(points=tally.points)
    groups: dict[tuple[str, str | None, bool], MetricGroup] = {}
    for point in tally.totals():
        attributes = point.attributes
        token_type = str(attributes.get("gen_ai.token.type", ""))
        if token_type not in (_INPUT, _OUTPUT):
            key = token_type or "(none)"
            result.other_token_types[key] = result.other_token_types.get(key, 0) + point.tokens
            continue
        model = _first(attributes, _MODEL_KEYS) or "(no model)"
        raw_provider = _first(attributes, _PROVIDER_KEYS)
        provider = dialects.canonical_provider(raw_provider) if raw_provider else None
        if point.trace_ids:
            covered = any(trace_id in span_traces for trace_id in point.trace_ids)
        else:
            covered = spans_read
        group = groups.get((model, provider, covered))
        if group is None:
            group = groups[(model, provider, covered)] = MetricGroup(model, provider, covered)
        if token_type == _INPUT:
            group.input_tokens += point.tokens
            group.calls += point.calls
        else:
            group.output_tokens += point.tokens
        group.time_ns = max(group.time_ns, point.time_ns)
    for group in groups.values():
        group.breakdown = cost_of(
            table.resolve(group.model, group.provider),
            Usage(group.input_tokens, group.output_tokens),
            model=group.model,
            provider=group.provider,
            ts_ns=group.time_ns or None,
        )
    result.groups = sorted(groups.values(), key=lambda g: (g.covered, g.model, g.provider or ""))
    return result


def _first(attributes: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None
