"""`otelcli stats`: what is in a capture."""

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
    from otelcli.otlp.reader import CaptureReader
    from otelcli.otlp.stats import CaptureStats

    out = make_output(check_format(fmt))
    totals = CaptureStats()
    sources = []
    for path in inputs:
        reader = CaptureReader(path)
        for batch in reader:
            totals.add(batch)
        sources.append(_describe(reader))
    out.data({"inputs": sources, **totals.to_dict(top)}, _view)


def _describe(reader: Any) -> dict[str, Any]:
    return {
        "path": reader.name,
        "format": reader.format.value if reader.format else None,
        "compressed": reader.compressed,
        "batches": reader.batches,
        "bytes": reader.bytes_read,
    }


def _view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import counts, format_duration_ns, format_time_ns, key_values, stack

    first, last = result["first_start_ns"], result["last_end_ns"]
    inputs = ", ".join(
        f"{s['path']} ({s['format']}{', gzip' if s['compressed'] else ''})"
        for s in result["inputs"]
    )
    summary = key_values(
        None,
        [
            ("inputs", inputs),
            ("spans", f"{result['spans']:,}"),
            ("traces", f"{result['traces']:,}"),
            ("root spans", f"{result['root_spans']:,}"),
            ("error spans", f"{result['error_spans']:,}"),
            ("batches", f"{result['batches']:,}"),
            ("first start", format_time_ns(first)),
            ("last end", format_time_ns(last)),
            ("time span", format_duration_ns(last - first) if first and last else "-"),
        ],
    )
    return stack(
        summary,
        counts("services", result["services"], "service"),
        counts("scopes", result["scopes"], "scope"),
        counts(
            f"span names (top {len(result['span_names'])} of {result['distinct_span_names']})",
            result["span_names"],
            "span name",
        ),
    )
