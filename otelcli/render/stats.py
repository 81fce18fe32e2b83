"""How `otelcli stats` and `otelcli presets` look on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table

from otelcli.render.tables import counts, format_duration_ns, format_time_ns, key_values, stack


def stats_view(result: dict[str, Any]) -> RenderableType:
    first, last = result["first_start_ns"], result["last_end_ns"]
    inputs = ", ".join(
        f"{s['path']} ({s['format']}{', gzip' if s['compressed'] else ''})"
        for s in result["inputs"]
    )
    summary = key_values(
        None,
        [
            ("inputs", inputs),
            ("spans", f"{result['spans']:,}"),
            ("traces", f"{result['traces']:,}"),
            ("root spans", f"{result['root_spans']:,}"),
            ("error spans", f"{result['error_spans']:,}"),
            ("batches", f"{result['batches']:,}"),
            ("first start", format_time_ns(first)),
            ("last end", format_time_ns(last)),
            ("time span", format_duration_ns(last - first) if first and last else "-"),
        ],
    )
    return stack(
        summary,
        counts("services", result["services"], "service"),
        counts("scopes", result["scopes"], "scope"),
        counts(
            f"span names (top {len(result['span_names'])} of {result['distinct_span_names']})",
            result["span_names"],
            "span name",
        ),
    )


def stats_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The counts as rows: all spans first, then per service, scope and (listed) span name."""
    rows = [{"count": "all", "name": "", "spans": result["spans"]}]
    for count, key in (("service", "services"), ("scope", "scopes"), ("span_name", "span_names")):
        rows += [{"count": count, "name": name, "spans": n} for name, n in result[key].items()]
    return rows


def presets_view(rows: list[dict[str, Any]]) -> RenderableType:
    table = Table(title="--to presets", title_justify="left")
    for column in ("preset", "backend", "reads", "endpoint now"):
        table.add_column(column)
    for row in rows:
        endpoint = row["endpoint"] or f"[yellow]{row['missing']}[/]"
        table.add_row(row["name"], row["description"], row["variables"], endpoint)
    return table
