"""`otelcli replay`: re-send captures faithfully, and account for every span."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.commands._shared import (
    CompressionOption,
    EndpointOption,
    FormatOption,
    HeaderOption,
    InputsArgument,
    PresetOption,
    ProtocolOption,
    TimeoutOption,
    TlsNoVerifyOption,
    TracesEndpointOption,
    check_format,
    command_app,
    exporter_config,
    finish,
    guarded,
    make_output,
    note_unused,
)

app = command_app()

REWRITE = "Rewrite"
FILTER = "Filter"
BATCH = "Batching and faults"


@app.command()
@guarded
def replay(
    inputs: InputsArgument,
    endpoint: EndpointOption = None,
    traces_endpoint: TracesEndpointOption = None,
    to: PresetOption = None,
    header: HeaderOption = None,
    protocol: ProtocolOption = None,
    timeout: TimeoutOption = None,
    compression: CompressionOption = None,
    tls_no_verify: TlsNoVerifyOption = False,
    rebase_time: Annotated[
        str | None,
        typer.Option(
            help="Shift all timestamps so the capture ends (end) or starts (start) now, "
            "keeping every relative offset.",
            rich_help_panel=REWRITE,
        ),
    ] = None,
    pace: Annotated[
        str,
        typer.Option(
            help="max (as fast as possible), original (the capture's own timing) or Nx "
            "(original timing sped up N times, e.g. 10x).",
            rich_help_panel=REWRITE,
        ),
    ] = "max",
    new_ids: Annotated[
        bool,
        typer.Option(
            "--new-ids",
            help="Fresh trace and span ids, consistent across parents and links, so a capture "
            "can be replayed many times as distinct traces. Without it ids are kept bit-for-bit.",
            rich_help_panel=REWRITE,
        ),
    ] = False,
    service: Annotated[
        str | None,
        typer.Option(help="Set service.name on every resource.", rich_help_panel=REWRITE),
    ] = None,
    resource_attr: Annotated[
        list[str] | None,
        typer.Option(
            help="Set a resource attribute, k=v (typed like send's --attr; repeatable).",
            rich_help_panel=REWRITE,
        ),
    ] = None,
    drop_attr: Annotated[
        list[str] | None,
        typer.Option(
            help="Remove a span/event attribute; globs allowed, e.g. 'gen_ai.input.*' "
            "(repeatable).",
            rich_help_panel=REWRITE,
        ),
    ] = None,
    trace_id: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these traces (32 hex digits; repeatable): their spans and the log "
            "records that name them. Metric points sum many calls and are not filtered by trace.",
            rich_help_panel=FILTER,
        ),
    ] = None,
    service_filter: Annotated[
        list[str] | None,
        typer.Option(help="Only these services (globs; repeatable).", rich_help_panel=FILTER),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only spans starting at or after (RFC 3339 or epoch seconds).",
            rich_help_panel=FILTER,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Only spans starting before (RFC 3339 or epoch seconds).", rich_help_panel=FILTER
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, help="Spans (or log records) per request at most.", rich_help_panel=BATCH
        ),
    ] = 512,
    max_batch_bytes: Annotated[
        int,
        typer.Option(
            min=1024,
            help="Encoded bytes per request at most (split further when "
            "over; a 413 answer also splits).",
            rich_help_panel=BATCH,
        ),
    ] = 4 << 20,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Requests in flight.", rich_help_panel=BATCH)
    ] = 4,
    dead_letter: Annotated[
        str | None,
        typer.Option(
            help="Write batches that could not be delivered here (any capture format); "
            "replay it later.",
            rich_help_panel=BATCH,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the rewritten capture to a file instead of sending (dry run).",
        ),
    ] = None,
    fmt: FormatOption = "auto",
) -> None:
    """Re-send captured OTLP files to an endpoint: streaming, paced, rewritten, nothing lost.

    Reads every capture format (protobuf, OTLP/JSON, JSON Lines, length-prefixed, gzip, stdin).
    The summary always adds up: read = sent + rejected + failed + unknown + not sent + filtered.
    Unknown spans timed out after their request was sent: they may have arrived. --timeout is
    one deadline per batch, retries and waits included. Ctrl-C or SIGTERM stops reading and
    keeps whatever was not delivered (--dead-letter, else INPUT.unsent.jsonl; exit 130/143).
    Exits non-zero when anything was not delivered.

    Examples:

      otelcli replay run.pb --to langfuse

      otelcli replay collector.jsonl --rebase-time end --new-ids --pace 10x

      otelcli replay run.pb --drop-attr 'gen_ai.input.*' --drop-attr 'gen_ai.output.*'

      otelcli replay run.pb --dead-letter failed.jsonl && otelcli replay failed.jsonl
    """
    from otelcli.flows.replay import ReplayPlan, run_replay
    from otelcli.render.delivery import replay_view
    from otelcli.transport.delivery import stop_on_signals

    out = make_output(check_format(fmt))
    plan = ReplayPlan.from_options(
        inputs=inputs,
        rebase_time=rebase_time,
        pace=pace,
        new_ids=new_ids,
        service=service,
        resource_attrs=resource_attr or [],
        drop_attrs=drop_attr or [],
        trace_ids=trace_id or [],
        services=service_filter or [],
        since=since,
        until=until,
        batch_size=batch_size,
        max_batch_bytes=max_batch_bytes,
        concurrency=concurrency,
    )
    config = None
    if output is None:
        config = exporter_config(
            endpoint, traces_endpoint, to, header, protocol, timeout, compression, tls_no_verify
        )
    # Ctrl-C / SIGTERM: stop reading, give requests on the wire a short grace period, keep
    # every span not delivered (--dead-letter, else INPUT.unsent.jsonl), print the summary.
    with stop_on_signals() as stop, out.progress("replay", total=plan.total_bytes()) as bar:
        summary = run_replay(
            plan,
            config,
            output=output,
            dead_letter_path=dead_letter,
            on_progress=lambda done, read_bytes, spans, rate: bar.update(
                completed=read_bytes, detail=f"{spans:,} spans · {rate:,.0f}/s"
            ),
            stop=stop,
        )
    note_unused(out, summary.unused, "replay")
    finish(out, summary, replay_view)
