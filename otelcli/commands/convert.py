"""`otelcli convert`: any capture format to any other."""

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
def convert(
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
    to_format: Annotated[
        str | None,
        typer.Option("--to-format", help="pb, json, jsonl or lp (overrides the extension)."),
    ] = None,
    fmt: FormatOption = "auto",
) -> None:
    """Convert captures between OTLP protobuf, OTLP/JSON, JSON Lines and length-prefixed records.

    Inputs of any format (detected from the content) are merged into one output.

    Examples:

      otelcli convert run.pb -o run.json

      otelcli convert collector-export.jsonl.gz -o run.pb

      otelcli convert a.pb b.pb -o - --to-format jsonl | jq .
    """
    from otelcli.flows.convert import ConvertRequest, convert
    from otelcli.otlp.formats import Format
    from otelcli.render.files import convert_view

    check_format(fmt)
    # With the data on stdout, the summary goes to stderr.
    out = make_output(fmt, data_on_stdout=output == "-")
    result = convert(ConvertRequest(inputs, output, Format.parse(to_format)))
    if output == "-":
        out.notice(f"wrote {result.spans:,} spans ({result.to_dict()['format']}) to stdout")
    finish(out, result, convert_view, report=output != "-")
