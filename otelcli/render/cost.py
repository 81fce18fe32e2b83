"""How `otelcli cost` looks: tables on a terminal, and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from otelcli.render.tables import key_values, stack

USD_PARTS = ("input", "cache_read", "cache_write", "output", "reasoning")
PRICE_COLUMNS = [
    "id",
    "name",
    "source",
    "from",
    "daily_utc",
    "above_input_tokens",
    "input",
    "output",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "note",
]


def report_csv(result: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    by = result["by"]
    tokens = ["input", "cache_read", "cache_write", "output", "reasoning"]
    writer.writerow(
        [
            *by,
            "spans",
            "unknown_spans",
            *(f"{t}_tokens" for t in tokens),
            *(f"{p}_usd" for p in USD_PARTS),
            "total_usd",
        ]
    )
    rows = result["groups"] if by else [{"key": {}, **result["total"]}]
    for group in rows:
        usd = group["usd"] or {}
        writer.writerow(
            [
                *(group["key"].get(d, "") for d in by),
                group["spans"],
                group["unknown_spans"],
                *(group["tokens"][t] for t in tokens),
                *(usd.get(p, "") for p in USD_PARTS),
                usd.get("total", ""),
            ]
        )
    return buffer.getvalue()


def prices_csv(payload: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PRICE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(payload["prices"])
    return buffer.getvalue()


def _money(value: str | None) -> str:
    if value is None:
        return "unknown"
    amount = float(value)
    return f"${amount:,.6f}" if amount < 1 else f"${amount:,.2f}"


def quick_view(result: dict[str, Any]) -> RenderableType:
    tokens, usd = result["tokens"], result["usd"] or {}
    rows = [("model", f"{result['model']} -> {result['price_id'] or 'unknown'}")]
    for part, label in (
        ("input", "input (uncached)"),
        ("cache_read", "cache read"),
        ("cache_write", "cache write"),
        ("output", "output"),
        ("reasoning", "reasoning"),
    ):
        count = tokens[part] - (
            tokens["cache_read"] + tokens["cache_write"] if part == "input" else 0
        )
        if count or part in ("input", "output"):
            rows.append((label, f"{count:,} tokens  {_money(usd.get(part)) if usd else ''}"))
    if result["tier_above_input_tokens"]:
        rows.append(("tier", f"above {result['tier_above_input_tokens']:,} input tokens"))
    rows.append(("total", _money(usd.get("total")) if usd else "unknown (no price)"))
    for note in result["notes"]:
        rows.append(("note", note))
    return key_values(None, rows)


def report_view(result: dict[str, Any]) -> RenderableType:
    total = result["total"]
    parts: list[Any] = []
    if result["by"]:
        table = Table(title=f"cost by {', '.join(result['by'])}", title_justify="left")
        for dim in result["by"]:
            table.add_column(dim)
        for column in ("spans", "input tok", "cached tok", "output tok", "cost"):
            table.add_column(column, justify="right")
        for group in result["groups"]:
            usd = group["usd"]
            table.add_row(
                *(str(group["key"][d]) for d in result["by"]),
                f"{group['spans']:,}",
                f"{group['tokens']['input']:,}",
                f"{group['tokens']['cache_read']:,}",
                f"{group['tokens']['output']:,}",
                _money(usd["total"]) if usd else "unknown",
            )
        parts.append(table)
    usd = total["usd"] or {}
    summary = [
        (
            "LLM spans",
            f"{total['spans']:,} ({total['priced_spans']:,} priced, "
            f"{total['unknown_spans']:,} unknown model)",
        ),
        (
            "tokens",
            f"{total['tokens']['input']:,} in ({total['tokens']['cache_read']:,} cached), "
            f"{total['tokens']['output']:,} out",
        ),
        ("total", _money(usd.get("total"))),
    ]
    for reason, count in result["skipped"].items():
        summary.append(("skipped", f"{count:,} x {reason}"))
    for unknown in result["unknown_models"]:
        summary.append(
            ("no price", f"{unknown['model']} ({unknown['provider']}): {unknown['spans']:,} spans")
        )
    disagreements = result["disagreements"]
    if disagreements["count"]:
        summary.append(("disagrees", f"{disagreements['count']:,} spans carry a different cost"))
    if result.get("enriched"):
        summary.append(("wrote", result["enriched"]))
    if result.get("from_metrics"):
        metrics = result["from_metrics"]
        summary.append(
            (
                "from metrics",
                f"{_money(metrics['usd_in_total'])} of the total "
                f"({metrics['calls_in_total']:,} calls no span covers)",
            )
        )
        parts.append(_metrics_table(metrics))
    parts.append(key_values(None, summary))
    return stack(*parts)


def _metrics_table(metrics: dict[str, Any]) -> RenderableType:
    """Cost from the token-usage metric, in a section of its own."""
    table = Table(
        title=f"cost from metrics ({metrics['metric']}; {metrics['note']})",
        title_justify="left",
    )
    for column in ("model", "provider", "calls", "input tok", "output tok", "cost", "in total"):
        table.add_column(column, justify="left" if column in ("model", "provider") else "right")
    for group in metrics["groups"]:
        table.add_row(
            group["model"],
            group["provider"] or "-",
            f"{group['calls']:,}",
            f"{group['tokens']['input']:,}",
            f"{group['tokens']['output']:,}",
            _money(group["usd"]) if group["usd"] is not None else "unknown",
            "yes" if group["in_total"] else "no: spans cover these calls",
        )
    return table


def prices_view(payload: dict[str, Any]) -> RenderableType:
    table = Table(title=f"{payload['models']} models ({payload['source']})", title_justify="left")
    for column in ("id", "from", "above", "input", "output", "cache read", "cache write"):
        table.add_column(column, justify="left" if column in ("id", "from") else "right")
    for row in payload["prices"]:
        table.add_row(
            row["id"],
            row["from"] or "",
            f">{row['above_input_tokens']:,}" if row["above_input_tokens"] else "",
            row.get("input", ""),
            row.get("output", ""),
            row.get("cache_read", ""),
            row.get("cache_write", ""),
        )
    return table
