"""`otelcli show`: the trace trees of captures, as tail draws them, without a receiver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from otelcli.commands._shared import (
    InputsArgument,
    check_format,
    command_app,
    guarded,
    make_output,
)
from otelcli.commands._trace_options import (
    AttrsOption,
    ErrorsOption,
    GenaiOnlyOption,
    GrepOption,
    MinDurationOption,
    PricingOption,
    ServiceOption,
    build_filter,
    split_attrs,
)

if TYPE_CHECKING:
    from otelcli.genai.pricing.summary import Summarizer
    from otelcli.otlp.traces import TraceEntry

from otelcli.choices import complete

app = command_app()

SHOW_FORMATS = ("auto", "table", "tree", "json", "ndjson")


@app.command()
@guarded
def show(
    inputs: InputsArgument,
    service: ServiceOption = None,
    genai_only: GenaiOnlyOption = False,
    errors: ErrorsOption = False,
    min_duration: MinDurationOption = None,
    grep: GrepOption = None,
    attrs: AttrsOption = None,
    pricing: PricingOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            envvar="OTELCLI_FORMAT",
            help="auto (trees; coloured on a terminal), table or tree (the trees), json or "
            "ndjson (a line per span of the traces shown).",
            autocompletion=complete(SHOW_FORMATS),
        ),
    ] = "auto",
) -> None:
    """Draw each trace of captures as a tree: durations, timing bars, status, GenAI summaries.

    The same trees and filters as `otelcli tail`, read from files: traces spread over many
    batches are put together first. A summary of what was read goes to stderr.

    Examples:

      otelcli show run.pb

      otelcli show run.jsonl.gz --genai-only --attrs gen_ai.request.temperature

      otelcli show a.pb b.pb --errors --min-duration 2s
    """
    from otelcli.flows import show as flow
    from otelcli.otlp.traces import span_record
    from otelcli.render.live import text_console
    from otelcli.render.tree import TreeStyle, render_trace

    check_format(fmt, SHOW_FORMATS)
    lines = fmt in ("json", "ndjson")
    out = make_output("ndjson" if lines else "table")
    console = text_console(out)
    keys = split_attrs(attrs)
    style = TreeStyle(attrs=keys, max_nodes=1 << 30)

    def draw(entry: TraceEntry, summarizer: Summarizer) -> None:
        if lines:
            views = sorted(entry.spans.values(), key=lambda v: v.start_ns)
            out.lines(span_record(v, summarizer.summarize(v), keys) for v in views)
        else:
            console.print(render_trace(entry, summarizer, style, settled=True))

    span_filter = build_filter(service, genai_only, errors, min_duration, grep)
    result = flow.run(flow.ShowRequest(inputs, span_filter, pricing), draw)
    filtered = f" ({result.shown:,} shown)" if span_filter.active else ""
    out.notice(
        f"{result.traces:,} traces{filtered}, {result.spans:,} spans in {result.batches:,} batches"
    )
