"""`otelcli cost --format html`: one self-contained page (tables and inline SVG charts, no
scripts, no outside links) to share what a run cost."""

from __future__ import annotations

from html import escape
from typing import Any

from otelcli.render.cost import GROUP_COLUMNS, chart_series, cost_rows

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td.key { text-align: left; }
tr.other td { color: #777; }
svg text { font: 12px system-ui, sans-serif; }
"""


def report_html(result: dict[str, Any]) -> str:
    total = result["total"]
    usd = (total["usd"] or {}).get("total")
    tokens = total["tokens"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>otelcli cost report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>LLM cost</h1>",
        "<table>",
        _row("LLM calls", f"{total['spans']:,} ({total['unknown_spans']:,} unknown model)"),
        _row(
            "tokens",
            f"{tokens['input']:,} in ({tokens['cache_read']:,} cache read, "
            f"{tokens['cache_write']:,} cache write), {tokens['output']:,} out",
        ),
        _row("total", f"${usd}" if usd is not None else "unknown"),
        *(
            _row("no price", f"{u['model']} ({u['provider']}): {u['spans']:,} calls")
            for u in result["unknown_models"]
        ),
        "</table>",
    ]
    by = result["by"]
    for dimension in by:
        if dimension in ("day", "hour", "model"):
            parts.append(f"<h2>cost by {escape(dimension)}</h2>")
            parts.append(svg_bars(chart_series(result, dimension)))
    if by:
        parts.append(f"<h2>cost by {escape(', '.join(by))}</h2>")
        parts.append(_groups(result))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _row(key: str, value: str) -> str:
    return f'<tr><th>{escape(key)}</th><td class="key">{escape(value)}</td></tr>'


def _groups(result: dict[str, Any]) -> str:
    by = result["by"]
    head = "".join(f"<th>{escape(c)}</th>" for c in (*by, *GROUP_COLUMNS))
    lines = [f"<table><tr>{head}</tr>"]
    for group, row in zip(result["groups"], cost_rows(result), strict=True):
        keys = "".join(f'<td class="key">{escape(str(row[d]))}</td>' for d in by)
        figures = [
            f"{row['spans']:,}",
            f"{row['input_tokens']:,}",
            f"{row['cache_read_tokens']:,}",
            f"{row['cache_write_tokens']:,}",
            f"{row['output_tokens']:,}",
            f"${row['total_usd']}" if row["total_usd"] is not None else "unknown",
        ]
        cells = "".join(f"<td>{escape(f)}</td>" for f in figures)
        css = ' class="other"' if "other_groups" in group else ""
        lines.append(f"<tr{css}>{keys}{cells}</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def svg_bars(series: list[tuple[str, float, int]], width: int = 720) -> str:
    """Horizontal bars, one per label, with the cost and tokens written beside each."""
    bar_h, gap, label_w, figure_w = 18, 6, 220, 200
    top = max((usd for _, usd, _ in series), default=0.0) or 1.0
    span = width - label_w - figure_w
    height = len(series) * (bar_h + gap) + gap
    items = []
    for i, (label, usd, tokens) in enumerate(series):
        y = gap + i * (bar_h + gap)
        w = max(1.0, usd / top * span)
        text_y = y + bar_h - 5
        items.append(
            f'<text x="0" y="{text_y}">{escape(label[:34])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#3b82c4">'
            f"<title>{escape(label)}: ${usd:.6f}, {tokens:,} tokens</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{text_y}">${usd:,.6f} · {tokens:,} tok</text>'
        )
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{"".join(items)}</svg>'
    )
