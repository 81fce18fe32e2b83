"""Names the command line offers: output formats and signals. Plain data, so that TAB
completion offers them without loading what renders them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# --format on every command with a table (render/output.py gives them their meaning)
OUTPUT_FORMATS = ("auto", "table", "json", "ndjson", "csv")
# validate's report formats: the output formats and the CI ones
REPORT_FORMATS = (*OUTPUT_FORMATS, "junit", "sarif", "github")
SIGNALS = ("traces", "logs", "metrics")
# cost --by: what a cost report can group by (genai/pricing/cost.py gives them their meaning)
COST_DIMENSIONS = (
    "model",
    "provider",
    "service",
    "trace",
    "user",
    "session",
    "span-name",
    "day",
    "hour",
)


def complete(names: Callable[[], Iterable[str]] | Iterable[str]) -> Any:
    """A completer for typer's `autocompletion=`: the names that start with what was typed."""

    def names_for(incomplete: str) -> list[str]:
        values = names() if callable(names) else names
        return [name for name in values if name.startswith(incomplete)]

    return names_for
