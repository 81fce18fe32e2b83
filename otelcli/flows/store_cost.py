"""`otelcli cost --from STORE`: the cost report of a trace store, computed inside ClickHouse;
`otelcli cost prices --into STORE`: the pricing table as a table of the store.

The same request options and the same result type as the file path (flows/cost.py), so the
same renderers print it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.flows.cost import CostResult, PricingSource, list_prices
from otelcli.store.connection import open_store
from otelcli.store.cost import store_cost_report
from otelcli.store.prices import price_rows, prices_ddl
from otelcli.store.query import StoreSource
from otelcli.store.rows import encode_rows
from otelcli.store.url import check_identifier, parse_store_url


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


# -- the pricing table into a store -------------------------------------------------------------


@dataclass
class PricesWritten:
    store: str
    table: str
    rows: int
    models: int
    source: str
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "table": self.table,
            "rows": self.rows,
            "models": self.models,
            "source": self.source,
        }


def write_prices(
    into: str, table: str, pricing: PricingSource, pattern: str | None
) -> PricesWritten:
    """Replace the store's prices table with the pricing table (or the entries PATTERN names)."""
    url = parse_store_url(into)
    prices = list_prices(pricing, pattern)
    rows = list(price_rows(prices.prices))
    with open_store(url, create=True) as store:
        store.command(prices_ddl(table))
        store.command(f"TRUNCATE TABLE {check_identifier(table)}")
        if rows:
            store.insert(table, encode_rows(rows))
    return PricesWritten(url.display, table, len(rows), prices.to_dict()["models"], prices.source)
