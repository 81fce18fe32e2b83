"""`otelcli diff A B`: what changed between two captures of the same scenario."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.commands._shared import (
    FormatOption,
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
)

app = command_app()


@app.command()
@guarded
def diff(
    a: Annotated[str, typer.Argument(help="The capture before (any format; - for stdin).")],
    b: Annotated[str, typer.Argument(help="The capture after.")],
    pricing: Annotated[
        str | None,
        typer.Option("--pricing", help="Pricing file for the costs (as for `otelcli cost`)."),
    ] = None,
    no_fallback: Annotated[
        bool, typer.Option("--no-fallback", help="Do not ask genai-prices about unknown models.")
    ] = False,
    fmt: FormatOption = "auto",
) -> None:
    """Compare two captures: spans added or removed (by name and type), attribute keys each
    span type gained, lost or sends with another value type, and the change in tokens and cost.

    The question after upgrading an instrumentation library: record the same scenario before
    and after, then diff the two captures.

    Examples:

      otelcli diff before.pb after.pb

      otelcli diff before.jsonl after.jsonl -f csv > changes.csv
    """
    from otelcli.flows import diff as flow
    from otelcli.render.diff import diff_rows, diff_view

    out = make_output(check_format(fmt))
    result = flow.run(flow.DiffRequest([a], [b], pricing, fallback=not no_fallback))
    finish(out, result, diff_view, rows=diff_rows)
