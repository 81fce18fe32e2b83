"""`otelcli stats --from STORE`: what is in a trace store, as aggregates inside ClickHouse.

The same report as for files; a store has no batches (0) and its one input is the table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.store.connection import Store, open_store
from otelcli.store.query import SERVICE_SQL as _SERVICE
from otelcli.store.query import StoreSource

_SCOPE = "if(ScopeName = '', '(unnamed scope)', ScopeName)"
_ERROR = "StatusCode IN ('Error', 'STATUS_CODE_ERROR')"  # both exporter generations


@dataclass
class StoreStatsResult:
    source: StoreSource
    top: int
    totals: dict[str, Any] = field(default_factory=dict)
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        where = f"{self.source.url.display} table {self.source.table}"
        inputs = [{"path": where, "format": "clickhouse", "compressed": False, "batches": 0}]
        return {"inputs": inputs, "batches": 0, **self.totals}


def _counts(
    store: Store, source: StoreSource, column: str, limit: int | None = None
) -> dict[str, int]:
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    rows = store.query(
        f"SELECT {column} AS value, count() AS n FROM {source.table}"
        f" WHERE {source.predicate()} GROUP BY value ORDER BY n DESC, value{tail}"
    )
    return {str(value): int(n) for value, n in rows}


def run(source: StoreSource, top: int = 10) -> StoreStatsResult:
    result = StoreStatsResult(source, top)
    with open_store(source.url) as store:
        [[spans, traces, roots, errors, names, first, last]] = store.query(
            "SELECT count(), uniqExact(TraceId), countIf(ParentSpanId = ''),"
            f" countIf({_ERROR}), uniqExact(SpanName),"
            " minIf(toInt64(toUnixTimestamp64Nano(Timestamp)), Timestamp > 0),"
            " maxIf(toInt64(toUnixTimestamp64Nano(Timestamp)) + toInt64(Duration),"
            " Timestamp > 0)"
            f" FROM {source.table} WHERE {source.predicate()}"
        )
        result.totals = {
            "spans": int(spans),
            "traces": int(traces),
            "root_spans": int(roots),
            "error_spans": int(errors),
            "services": _counts(store, source, _SERVICE),
            "scopes": _counts(store, source, _SCOPE),
            "span_names": _counts(store, source, "SpanName", top),
            "distinct_span_names": int(names),
            "first_start_ns": int(first) if spans and int(first) else None,
            "last_end_ns": int(last) if spans and int(last) else None,
        }
    return result
