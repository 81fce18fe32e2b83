"""`otelcli cost --from STORE`: the cost report of a trace store, computed inside ClickHouse.

The same request options and the same result type as the file path (flows/cost.py), so the
same renderers print it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from otelcli.flows.cost import CostResult, PricingSource
from otelcli.store.connection import open_store
from otelcli.store.cost import store_cost_report
from otelcli.store.query import StoreSource


@dataclass(frozen=True)
class StoreCostRequest:
    source: StoreSource
    by: Sequence[str] = ()
    top: int | None = None
    input_includes_cache: bool | None = None
    pricing: PricingSource = PricingSource()


def price_store(request: StoreCostRequest) -> CostResult:
    table = request.pricing.table()
    with open_store(request.source.url) as store:
        report = store_cost_report(
            store,
            request.source,
            table,
            by=request.by,
            input_includes_cache=request.input_includes_cache,
        )
    return CostResult(report, request.top)
