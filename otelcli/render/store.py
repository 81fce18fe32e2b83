"""How `otelcli load` and `cost prices --into` look on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from otelcli.render.tables import counts, key_values, stack


def load_view(result: dict[str, Any]) -> RenderableType:
    refused = result["refused"]
    summary = key_values(
        None,
        [
            ("store", f"{result['store']} table {result['table']}"),
            ("spans read", f"{result['spans_read']:,}"),
            ("inserted", f"{result['inserted']:,}"),
            *_other_signals(result),
            ("refused", f"{refused['count']:,}"),
        ],
    )
    if not refused["count"]:
        return summary
    return stack(summary, counts("refused", refused["reasons"], "reason"))


def _other_signals(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Log records and data points, when the inputs held any."""
    lines = []
    for what, key in (("log records", "log_records"), ("data points", "data_points")):
        if result.get(f"{key}_read"):
            lines.append(
                (
                    f"{what} read / inserted",
                    f"{result[f'{key}_read']:,} / {result[f'{key}_inserted']:,}",
                )
            )
    return lines


def prices_written_view(result: dict[str, Any]) -> RenderableType:
    return key_values(
        None,
        [
            ("store", f"{result['store']} table {result['table']}"),
            ("price rows", f"{result['rows']:,}"),
            ("models", f"{result['models']:,}"),
            ("source", result["source"]),
        ],
    )
