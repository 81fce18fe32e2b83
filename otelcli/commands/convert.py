"""`otelcli convert`: any capture format to any other."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from otelcli.commands._shared import (
    FormatOption,
    InputsArgument,
    check_format,
    command_app,
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
    from otelcli.otlp.formats import Format
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.spans import count_spans
    from otelcli.otlp.writer import open_writer

    check_format(fmt)
    requested = Format.parse(to_format)
    # With the data on stdout, the summary goes to stderr.
    out = make_output(fmt)
    spans = 0
    with open_writer(output, requested) as writer:
        for batch in read_batches(inputs):
            spans += count_spans(batch)
            writer.write(batch)
    result = {
        "output": output,
        "format": writer.format.value,
        "compressed": writer.compressed,
        "batches": writer.batches,
        "spans": spans,
        "bytes": writer.bytes_written,
    }
    if output == "-":
        out.notice(f"wrote {spans:,} spans ({writer.format.value}) to stdout")
    else:
        out.data(result, _view)


def _view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import key_values

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
