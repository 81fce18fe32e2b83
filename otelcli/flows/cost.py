"""`otelcli cost`: price captures, one call (quick mode), or list the pricing table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.genai.pricing.cost import (
    CostBreakdown,
    CostCalculator,
    CostReport,
    enrich_batches,
    price_call,
)
from otelcli.genai.pricing.table import PriceTable, iter_rates, load_table
from otelcli.otlp.reader import read_batches
from otelcli.otlp.signals import Unused
from otelcli.transport.delivery import Outgoing
from otelcli.transport.sink import SinkTarget, drain


@dataclass(frozen=True)
class PricingSource:
    pricing: str | None = None  # a pricing file over the built-in table
    fallback: bool = True  # ask genai-prices about models the table lacks

    def table(self) -> PriceTable:
        return load_table(self.pricing, use_fallback=self.fallback)


# -- one call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickRequest:
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    provider: str | None = None
    at: datetime | None = None
    input_includes_cache: bool | None = None
    source: PricingSource = PricingSource()


@dataclass
class QuickResult:
    breakdown: CostBreakdown
    error: OtelcliError | None = None

    @property
    def unknown(self) -> bool:
        return bool(self.breakdown.unknown)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = self.breakdown.to_dict()
        return result


def price_one(request: QuickRequest) -> QuickResult:
    breakdown = price_call(
        request.source.table(),
        request.model,
        request.input_tokens,
        request.output_tokens,
        cached_tokens=request.cached_tokens,
        cache_write_tokens=request.cache_write_tokens,
        reasoning_tokens=request.reasoning_tokens,
        provider=request.provider,
        at=request.at,
        input_includes_cache=request.input_includes_cache,
    )
    return QuickResult(breakdown)


# -- captures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRequest:
    inputs: Sequence[str]
    by: Sequence[str] = ()
    top: int | None = None
    input_includes_cache: bool | None = None
    enrich_to: str | None = None  # write the priced spans (gen_ai.usage.cost) here
    source: PricingSource = PricingSource()


@dataclass
class CostResult:
    report: CostReport
    top: int | None = None
    enriched: str | None = None
    error: OtelcliError | None = None
    unused: Unused = field(default_factory=Unused)  # batches of signals cost does not price

    def to_dict(self) -> dict[str, Any]:
        result = self.report.to_dict(self.top)
        if self.enriched is not None:
            result["enriched"] = self.enriched
        if self.unused:
            result["not_used"] = self.unused.to_dict()
        return result


def price_captures(request: CostRequest) -> CostResult:
    calculator = CostCalculator(
        request.source.table(),
        by=list(request.by),
        input_includes_cache=request.input_includes_cache,
    )
    unused = Unused()
    batches = read_batches(request.inputs, unused=unused)
    error = None
    if request.enrich_to is not None:
        priced = (Outgoing.of(batch) for batch in enrich_batches(batches, calculator))
        error = drain(priced, SinkTarget(output=request.enrich_to)).error
    else:
        for batch in batches:
            calculator.add_batch(batch)
    return CostResult(calculator.report, request.top, request.enrich_to, error, unused)


# -- the table ---------------------------------------------------------------------------------


@dataclass
class PricesResult:
    source: str
    table_size: int
    prices: list[dict[str, Any]] = field(default_factory=list)
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": len({row["id"] for row in self.prices}),
            "table_size": self.table_size,
            "source": self.source,
            "prices": self.prices,
        }


def list_prices(source: PricingSource, pattern: str | None) -> PricesResult:
    table = source.table()
    result = PricesResult(table.source, len(table))
    for entry in table.find(pattern):
        for period, rates, above in iter_rates(entry):
            row: dict[str, Any] = {
                "id": entry.entry_id,
                "name": entry.name,
                "source": entry.source,
                "from": _date(period.start_ns),
                "above_input_tokens": above,
            }
            for key, value in rates.usd().items():
                row[key] = format(value.normalize(), "f")
            if period.daily:
                start, end = period.daily
                row["daily_utc"] = (
                    f"{start // 3600:02d}:{start % 3600 // 60:02d}-"
                    f"{end // 3600:02d}:{end % 3600 // 60:02d}"
                )
            if entry.note:
                row["note"] = entry.note
            result.prices.append(row)
    return result


def _date(ns: int | None) -> str | None:
    if ns is None:
        return None
    from datetime import UTC

    return datetime.fromtimestamp(ns / 1e9, tz=UTC).date().isoformat()
