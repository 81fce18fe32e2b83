"""`otelcli normalize`: map dialect attributes (OpenInference, OpenLLMetry, ...) to semconv."""

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
def normalize(
    inputs: InputsArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Where to write; the extension picks the format (.pb .json .jsonl .lp, + .gz). "
            "- for stdout (JSON Lines unless --to-format).",
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Drop the dialect keys that were mapped (default: keep them alongside).",
        ),
    ] = False,
    dialect: Annotated[
        str | None,
        typer.Option(
            "--dialect",
            help="Treat every span as this dialect instead of detecting it per span "
            "(openinference, openllmetry, vercel-ai, openlit, logfire, pydantic-ai, langfuse, "
            "portkey).",
        ),
    ] = None,
    to_format: Annotated[
        str | None,
        typer.Option("--to-format", help="pb, json, jsonl or lp (overrides the extension)."),
    ] = None,
    fmt: FormatOption = "auto",
) -> None:
    """Write a copy of captures with dialect attribute keys mapped to GenAI semconv keys.

    Each span's dialect is detected (scope name, marker attributes, span name); its keys get
    their semconv equivalents (the same mapping `cost` and `validate --normalized` use), and
    gen_ai.operation.name is added when the dialect tells the operation.

    Examples:

      otelcli normalize phoenix-export.jsonl -o run.pb

      otelcli normalize run.pb -o clean.pb --replace && otelcli validate clean.pb
    """
    from otelcli.flows.convert import NormalizeRequest, normalize
    from otelcli.otlp.formats import Format
    from otelcli.render.files import normalize_view

    check_format(fmt)
    out = make_output(fmt, data_on_stdout=output == "-")
    result = normalize(
        NormalizeRequest(inputs, output, Format.parse(to_format), replace=replace, dialect=dialect)
    )
    if output == "-":
        stats = result.stats
        out.notice(f"normalized {stats.changed:,} of {stats.spans:,} spans to stdout")
    finish(out, result, normalize_view, report=output != "-")
