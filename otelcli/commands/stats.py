"""`otelcli stats`: what is in a capture."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.commands._shared import (
    FormatOption,
    InputsArgument,
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
)

app = command_app()


@app.command()
@guarded
def stats(
    inputs: InputsArgument,
    top: Annotated[int, typer.Option(help="How many span names to list.")] = 10,
    fmt: FormatOption = "auto",
) -> None:
    """Count spans, traces, services, scopes and span names in captures, and their time range.

    Examples:

      otelcli stats run.pb

      otelcli stats a.jsonl.gz b.pb --format json

      cat run.jsonl | otelcli stats -
    """
    from otelcli.flows import stats as flow
    from otelcli.render.stats import stats_rows, stats_view

    out = make_output(check_format(fmt))
    finish(out, flow.run(flow.StatsRequest(inputs, top)), stats_view, rows=stats_rows)
