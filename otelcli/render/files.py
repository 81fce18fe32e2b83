"""How `otelcli convert` and `otelcli normalize` summaries look on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from otelcli.render.tables import counts, key_values, stack


def convert_view(result: dict[str, Any]) -> RenderableType:
    kind = result["format"] + (" + gzip" if result["compressed"] else "")
    return key_values(
        None,
        [
            ("wrote", result["output"]),
            ("format", kind),
            ("spans", f"{result['spans']:,}"),
            ("batches", f"{result['batches']:,}"),
            ("bytes", f"{result['bytes']:,}"),
        ],
    )


def normalize_view(result: dict[str, Any]) -> RenderableType:
    summary = key_values(
        None,
        [
            ("written to", f"{result['output']} ({result['format']})"),
            ("spans", f"{result['spans']:,}"),
            ("changed spans", f"{result['changed_spans']:,}"),
        ],
    )
    return stack(
        summary,
        counts("dialects", result["dialects"], "dialect"),
        counts("keys mapped", dict(list(result["renamed"].items())[:20]), "dialect key -> semconv"),
    )
