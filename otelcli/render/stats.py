"""How `otelcli stats` and `otelcli presets` look on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table

from otelcli.render.tables import counts, format_duration_ns, format_time_ns, key_values, stack


def stats_view(result: dict[str, Any]) -> RenderableType:
    first, last = result["first_start_ns"], result["last_end_ns"]
    inputs = ", ".join(
        f"{s['path']} (skipped: {s['skipped']})"
        if "skipped" in s
        else f"{s['path']} ({s['format']}{', gzip' if s['compressed'] else ''})"
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
            ("log records", f"{result['logs']['log_records']:,}"),
            ("data points", f"{result['metrics']['data_points']:,}"),
            ("batches", _signal_batches(result)),
            ("first start", format_time_ns(first)),
            ("last end", format_time_ns(last)),
            ("time span", format_duration_ns(last - first) if first and last else "-"),
        ],
    )
    parts: list[RenderableType] = [summary]
    if result["spans"] or not (result["logs"]["log_records"] or result["metrics"]["data_points"]):
        parts += [
            counts("services", result["services"], "service"),
            counts("scopes", result["scopes"], "scope"),
            counts(
                f"span names (top {len(result['span_names'])} of {result['distinct_span_names']})",
                result["span_names"],
                "span name",
            ),
        ]
    return stack(*parts, *_logs_view(result["logs"]), *_metrics_view(result["metrics"]))


def _signal_batches(result: dict[str, Any]) -> str:
    by_signal = ", ".join(f"{n:,} {signal}" for signal, n in result["signals"].items() if n)
    return f"{result['batches']:,}" + (f" ({by_signal})" if by_signal else "")


def _time_rows(times: dict[str, int | None]) -> list[tuple[str, str]]:
    first, last = times["first_ns"], times["last_ns"]
    return [
        ("first", format_time_ns(first)),
        ("last", format_time_ns(last)),
        ("time span", format_duration_ns(last - first) if first and last else "-"),
    ]


def _logs_view(logs: dict[str, Any]) -> list[RenderableType]:
    if not logs["log_records"]:
        return []
    summary = key_values(
        "logs",
        [
            ("log records", f"{logs['log_records']:,}"),
            ("with trace context", f"{logs['with_trace_context']:,}"),
            *_time_rows(logs["time_range"]),
        ],
    )
    title = f"event names (top {len(logs['event_names'])} of {logs['distinct_event_names']})"
    return [
        summary,
        counts(title, logs["event_names"], "event name", "log records"),
        counts("log scopes", logs["scopes"], "scope", "log records"),
    ]


def _metrics_view(metrics: dict[str, Any]) -> list[RenderableType]:
    if not metrics["metrics"]:
        return []
    summary = key_values(
        "metrics",
        [
            ("metrics", f"{metrics['metrics']:,}"),
            ("data points", f"{metrics['data_points']:,}"),
            *_time_rows(metrics["time_range"]),
        ],
    )
    table = Table(
        title=f"metric names (top {len(metrics['metric_names'])} of "
        f"{metrics['distinct_metric_names']})",
        title_justify="left",
    )
    for column in ("metric", "type", "unit", "data points"):
        table.add_column(column, justify="right" if column == "data points" else "left")
    for row in metrics["metric_names"]:
        table.add_row(row["name"], row["type"], row["unit"] or "-", f"{row['data_points']:,}")
    return [summary, table, counts("metric scopes", metrics["scopes"], "scope", "data points")]


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
