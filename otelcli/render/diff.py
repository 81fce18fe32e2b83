"""How `otelcli diff` looks: the totals side by side, then spans and attribute keys that changed."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from otelcli.render.tables import stack

_STYLES = {"added": "green", "removed": "red", "retyped": "yellow", "count": "cyan"}
_TOTALS = (
    ("spans", "spans"),
    ("llm_calls", "LLM calls"),
    ("input_tokens", "input tokens"),
    ("output_tokens", "output tokens"),
    ("cache_read_tokens", "cache read tokens"),
    ("cache_write_tokens", "cache write tokens"),
    ("cost_usd", "cost (USD)"),
)


def diff_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per change (ndjson, csv): totals, spans, then attribute keys."""
    rows: list[dict[str, Any]] = []
    for key, _ in _TOTALS:
        value = result["totals"][key]
        if value["delta"] not in (0, "0", None):
            rows.append({"what": "total", "change": key, "type": "", "name": "", **value})
    for span in result["spans"]:
        rows.append({"what": "span", **span, "delta": span["b"] - span["a"]})
    for attr in result["attributes"]:
        rows.append(
            {
                "what": "attribute",
                "change": attr["change"],
                "type": attr["type"],
                "name": attr["key"],
                "a": "|".join(attr["a"]),
                "b": "|".join(attr["b"]),
                "delta": None,
            }
        )
    return rows


def _signed(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value if value.startswith("-") else f"+{value}"
    return f"{value:+,}"


def diff_view(result: dict[str, Any]) -> RenderableType:
    totals = Table(title="totals", title_justify="left")
    for column in ("", "A", "B", "change"):
        totals.add_column(column, justify="left" if not column else "right")
    for key, label in _TOTALS:
        value = result["totals"][key]
        a, b = value["a"], value["b"]
        totals.add_row(
            label,
            "unknown" if a is None else f"{a:,}" if isinstance(a, int) else f"${a}",
            "unknown" if b is None else f"{b:,}" if isinstance(b, int) else f"${b}",
            _signed(value["delta"]),
        )
    parts: list[RenderableType] = [
        Text(f"A  {' '.join(result['a'])}\nB  {' '.join(result['b'])}"),
        totals,
    ]
    if result["spans"]:
        spans = Table(title="spans by name and type", title_justify="left")
        for column in ("change", "type", "name", "A", "B"):
            spans.add_column(column, justify="right" if column in ("A", "B") else "left")
        for row in result["spans"]:
            spans.add_row(
                Text(row["change"], style=_STYLES[row["change"]]),
                row["type"],
                row["name"],
                f"{row['a']:,}",
                f"{row['b']:,}",
            )
        parts.append(spans)
    if result["attributes"]:
        keys = Table(title="attribute keys by span type", title_justify="left")
        for column in ("change", "type", "key", "A", "B"):
            keys.add_column(column, overflow="fold")
        for row in result["attributes"]:
            keys.add_row(
                Text(row["change"], style=_STYLES[row["change"]]),
                row["type"],
                row["key"],
                ", ".join(row["a"]) or "-",
                ", ".join(row["b"]) or "-",
            )
        parts.append(keys)
    for side in ("a", "b"):
        only = result[f"types_only_in_{side}"]
        if only:
            parts.append(Text(f"span types only in {side.upper()}: {', '.join(only)}"))
    if len(parts) == 2:
        parts.append(Text("same spans and attribute keys", style="green"))
    return stack(*parts)
