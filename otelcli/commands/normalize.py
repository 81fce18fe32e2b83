"""`otelcli normalize`: map dialect attributes (OpenInference, OpenLLMetry, ...) to semconv."""

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
    from otelcli.errors import UsageError
    from otelcli.genai.dialects.capture import CaptureNormalizer
    from otelcli.otlp.formats import Format
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.writer import open_writer

    check_format(fmt)
    if to_format is not None and to_format not in {f.value for f in Format}:
        raise UsageError(f"--to-format {to_format!r} is not one of pb, json, jsonl, lp")
    out = make_output(fmt)
    normalizer = CaptureNormalizer(replace=replace, dialect=dialect)
    with open_writer(output, to_format) as writer:
        for batch in read_batches(inputs):
            writer.write(normalizer.normalize_batch(batch))
    result = {"output": output, "format": writer.format.value, **normalizer.stats.to_dict()}
    if output == "-":
        out.notice(f"normalized {result['changed_spans']:,} of {result['spans']:,} spans to stdout")
    else:
        out.data(result, _view)


def _view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import counts, key_values, stack

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
