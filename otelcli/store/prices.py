"""The pricing table as a ClickHouse table, so users can join their own SQL against it:
one row per model, validity period and long-context tier, rates in USD per million tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from otelcli.store.url import check_identifier

RATE_COLUMNS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")

PRICES_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    PriceId String,
    Name String,
    Source LowCardinality(String),
    ValidFrom Nullable(Date),
    AboveInputTokens Nullable(UInt64),
    DailyUtc Nullable(String),
{rates},
    Note Nullable(String)
) ENGINE = MergeTree
ORDER BY (PriceId, assumeNotNull(ValidFrom), assumeNotNull(AboveInputTokens))
SETTINGS allow_nullable_key = 1"""


def _column(rate: str) -> str:
    return "UsdPerMTok" + "".join(part.title() for part in rate.split("_")).replace("1H", "1h")


def prices_ddl(table: str) -> str:
    rates = ",\n".join(f"    {_column(r)} Nullable(Decimal(18, 9))" for r in RATE_COLUMNS)
    return PRICES_DDL.format(table=check_identifier(table), rates=rates)


def price_rows(prices: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """`cost prices` rows (flows/cost.py list_prices) as rows of the prices table."""
    for row in prices:
        out: dict[str, Any] = {
            "PriceId": row["id"],
            "Name": row["name"],
            "Source": row["source"],
            "ValidFrom": row["from"],
            "AboveInputTokens": row["above_input_tokens"],
            "DailyUtc": row.get("daily_utc"),
            "Note": row.get("note"),
        }
        for rate in RATE_COLUMNS:
            out[_column(rate)] = row.get(rate)
        yield out
