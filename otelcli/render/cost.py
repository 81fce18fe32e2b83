"""How `otelcli cost` looks: tables on a terminal, and CSV."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table

from otelcli.render.tables import BarChart, Fitted, key_values, stack

USD_PARTS = ("input", "cache_read", "cache_write", "output", "reasoning")
TOKENS = USD_PARTS
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


def cost_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's rows (ndjson, csv): one per group (the total when not grouped)."""
    by = result["by"]
    rows = []
    for group in result["groups"] if by else [{"key": {}, **result["total"]}]:
        usd = group["usd"] or {}
        row: dict[str, Any] = {d: group["key"].get(d, "") for d in by}
        row.update(spans=group["spans"], unknown_spans=group["unknown_spans"])
        row.update({f"{t}_tokens": group["tokens"][t] for t in TOKENS})
        row.update({f"{p}_usd": usd.get(p) for p in USD_PARTS})
        row["total_usd"] = usd.get("total")
        rows.append(row)
    return rows


def prices_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [{column: row.get(column) for column in PRICE_COLUMNS} for row in payload["prices"]]


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


GROUP_COLUMNS = ("spans", "input", "cache read", "cache write", "output", "cost")
# what a narrow terminal drops first: the groups and their cost stay
GROUP_VIEW = (GROUP_COLUMNS, ("spans", "cache read", "cache write", "input", "output"))


def _groups_table(result: dict[str, Any], columns: Sequence[str]) -> Table:
    table = Table(
        title=f"cost by {', '.join(result['by'])}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    for dim in result["by"]:
        table.add_column(dim, overflow="fold")  # whole, on two lines if need be
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for group in result["groups"]:
        usd, tokens = group["usd"], group["tokens"]
        key = [str(group["key"][d]) for d in result["by"]]
        if "other_groups" in group:
            key[0] = f"(other {group['other_groups']:,})"
        cells = {
            "spans": f"{group['spans']:,}",
            "input": f"{tokens['input']:,}",
            "cache read": f"{tokens['cache_read']:,}",
            "cache write": f"{tokens['cache_write']:,}",
            "output": f"{tokens['output']:,}",
            "cost": _money(usd["total"]) if usd else "unknown",
        }
        table.add_row(
            *key,
            *(cells[c] for c in columns),
            style="dim" if "other_groups" in group else None,
        )
    return table


def report_view(result: dict[str, Any]) -> RenderableType:
    total = result["total"]
    parts: list[Any] = []
    if result["by"]:
        parts.append(Fitted(lambda columns: _groups_table(result, columns), *GROUP_VIEW))
        parts.extend(cost_charts(result))
    usd = total["usd"] or {}
    summary = [
        (
            "LLM spans",
            f"{total['spans']:,} ({total['priced_spans']:,} priced, "
            f"{total['unknown_spans']:,} unknown model)",
        ),
        (
            "tokens",
            f"{total['tokens']['input']:,} in ({total['tokens']['cache_read']:,} cache read, "
            f"{total['tokens']['cache_write']:,} cache write), {total['tokens']['output']:,} out",
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
    for note, count in disagreements.get("notes", {}).items():
        summary.append(("reported cost", f"{count:,} x {note}"))
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


PRICE_VIEW = ("id", "from", "above", "input", "output", "cache read", "cache write")


def prices_view(payload: dict[str, Any]) -> RenderableType:
    """Model ids stay whole however narrow the terminal: the columns after them give way."""

    def build(columns: Sequence[str]) -> Table:
        table = Table(
            title=f"{payload['models']} models ({payload['source']})", title_justify="left"
        )
        for column in columns:
            # an id longer than the terminal folds onto the next line rather than losing its end
            table.add_column(
                column,
                justify="left" if column in ("id", "from") else "right",
                no_wrap=column != "id",
                overflow="fold",
            )
        previous = None
        for row in payload["prices"]:
            cells = {
                "id": row["id"],
                "from": row["from"] or "",
                "above": _above(row["above_input_tokens"]),
                "input": row.get("input", ""),
                "output": row.get("output", ""),
                "cache read": row.get("cache_read", ""),
                "cache write": row.get("cache_write", ""),
            }
            if row["id"] == previous:  # another period or tier of the same model: say which
                gone = [
                    f"{c} {cells[c]}".replace("above >", ">")
                    for c in ("from", "above")
                    if c not in columns and cells[c]
                ]
                cells["id"] = "  └ " + " ".join(gone) if gone else "  └"
            previous = row["id"]
            table.add_row(*(cells[c] for c in columns))
        return table

    return Fitted(build, PRICE_VIEW, ("cache write", "cache read", "from", "above"))


def _above(tokens: int | None) -> str:
    """A tier's threshold, short: >200k."""
    if not tokens:
        return ""
    return f">{tokens // 1000:,}k" if tokens % 1000 == 0 else f">{tokens:,}"


def cost_charts(result: dict[str, Any]) -> list[RenderableType]:
    """Bars of cost (and tokens) per time bucket and per model, when the report has them."""
    from otelcli.genai.pricing.cost import TIME_DIMENSIONS

    time = next((d for d in result["by"] if d in TIME_DIMENSIONS), None)
    if time is None:
        return []
    charts: list[RenderableType] = [bar_chart(f"cost by {time}", chart_series(result, time))]
    if "model" in result["by"]:
        charts.append(bar_chart("cost by model", chart_series(result, "model")))
    return charts


def chart_series(result: dict[str, Any], dimension: str) -> list[tuple[str, float, int]]:
    """(label, USD, tokens) per value of one dimension, summed over the others."""
    sums: dict[str, list[float]] = {}
    for group in result["groups"]:
        label = str(group["key"][dimension])
        usd = float((group["usd"] or {}).get("total") or 0)
        tokens = sum(group["tokens"][t] for t in ("input", "output"))
        entry = sums.setdefault(label, [0.0, 0])
        entry[0] += usd
        entry[1] += tokens
    return [(label, usd, int(tokens)) for label, (usd, tokens) in sums.items()]


def bar_chart(title: str, series: list[tuple[str, float, int]]) -> BarChart:
    return BarChart(
        title, [(label, usd, _money(str(usd)), f"{tokens:,} tok") for label, usd, tokens in series]
    )
