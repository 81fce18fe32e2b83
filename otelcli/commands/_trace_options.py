"""The options of the commands that draw traces (tail, show): filters and what each span shows.

Imported when such a command loads: stdlib and typer only at module level.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from otelcli.errors import UsageError

if TYPE_CHECKING:
    from otelcli.otlp.traces import SpanFilter

ServiceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        help="Only traces with spans of this service (repeatable).",
        rich_help_panel="Filters",
    ),
]

GenaiOnlyOption = Annotated[
    bool,
    typer.Option("--genai-only", help="Only traces with GenAI spans.", rich_help_panel="Filters"),
]

ErrorsOption = Annotated[
    bool,
    typer.Option("--errors", help="Only traces with an error span.", rich_help_panel="Filters"),
]

MinDurationOption = Annotated[
    str | None,
    typer.Option(
        "--min-duration",
        help="Only traces (NDJSON: spans) at least this long: "
        "500ms, 2s, 150us (a bare number is ms).",
        rich_help_panel="Filters",
    ),
]

GrepOption = Annotated[
    str | None,
    typer.Option(
        "--grep",
        help="Only traces with a span whose name, status message or "
        "attribute matches this regular expression.",
        rich_help_panel="Filters",
    ),
]

AttrsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--attrs",
        help="Show these attributes on each span (comma-separated or "
        "repeated; resource attributes too).",
        rich_help_panel="View",
    ),
]

PricingOption = Annotated[
    str | None,
    typer.Option(
        "--pricing",
        help="Extra pricing file for costs (as for `otelcli cost`).",
        rich_help_panel="View",
    ),
]


def parse_duration_ns(text: str) -> int:
    """--min-duration: 500ms, 2s, 150us; a bare number is milliseconds."""
    from otelcli.parse import parse_duration

    bare = text.strip().replace(".", "", 1).isdigit()
    try:
        return parse_duration(text.strip() + "ms" if bare else text)
    except UsageError as exc:
        raise UsageError(f"--min-duration {text!r} is not a duration", hint=exc.hint) from None


def split_attrs(values: list[str] | None) -> list[str]:
    return [key.strip() for value in values or () for key in value.split(",") if key.strip()]


def build_filter(
    services: list[str] | None,
    genai_only: bool,
    errors: bool,
    min_duration: str | None,
    grep: str | None,
) -> SpanFilter:
    from otelcli.otlp.traces import SpanFilter

    pattern = None
    if grep:
        try:
            pattern = re.compile(grep)
        except re.error as exc:
            raise UsageError(
                f"--grep {grep!r}: {exc}", hint="a Python regular expression"
            ) from None
    return SpanFilter(
        services=tuple(services or ()),
        genai_only=genai_only,
        errors_only=errors,
        min_duration_ns=parse_duration_ns(min_duration) if min_duration else 0,
        grep=pattern,
    )
