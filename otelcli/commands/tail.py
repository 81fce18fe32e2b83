"""`otelcli tail`: a local OTLP endpoint that shows traces as they arrive, and tees them."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.choices import complete
from otelcli.commands._shared import (
    AuthTokenOption,
    CommandAfterDashes,
    CompressionOption,
    GrpcListenOption,
    GrpcOption,
    HeaderOption,
    ListenOption,
    MaxBodyOption,
    PresetOption,
    ProtocolOption,
    RunForOption,
    TimeoutOption,
    TlsNoVerifyOption,
    command_after_dashes,
    command_app,
    exporter_config,
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
from otelcli.errors import UsageError

app = command_app()

TAIL_FORMATS = ("auto", "live", "tree", "ndjson", "table", "json")
# the names every command takes, as tail streams them: a table is the live view (trees when
# piped), JSON is one document per span
ALIASES = {"json": "ndjson"}


@app.command(cls=CommandAfterDashes)
@guarded
def tail(
    ctx: typer.Context,
    listen: ListenOption = None,
    auth_token: AuthTokenOption = None,
    max_body_mib: MaxBodyOption = 64,
    grpc: GrpcOption = None,
    grpc_listen: GrpcListenOption = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Render a capture file instead of receiving (any format; "
            "JSONL or length-prefixed with --follow).",
            rich_help_panel="Input",
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-F", help="Keep reading --file as it grows.", rich_help_panel="Input"
        ),
    ] = False,
    save: Annotated[
        str | None,
        typer.Option(
            "--save",
            "-o",
            help="Write every received batch to FILE (.pb .jsonl .lp, + .gz), each before it "
            "is acknowledged; or insert spans, log records and metric points into a trace "
            "store, chdb:DIR or clickhouse://[user[:password]@]host[:port]/database, in the "
            "tables `load` writes, each batch acknowledged once inserted.",
            rich_help_panel="Capture and tee",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            help="With --save STORE: the traces table (created with the Collector's DDL; "
            "default otel_traces). Logs and metrics keep the exporter's table names.",
            rich_help_panel="Capture and tee",
            show_default=False,
        ),
    ] = None,
    forward: Annotated[
        str | None,
        typer.Option(
            "--forward",
            help="Tee every batch to this OTLP/HTTP endpoint (base URL or .../v1/traces).",
            rich_help_panel="Capture and tee",
        ),
    ] = None,
    preset: PresetOption = None,
    headers: HeaderOption = None,
    protocol: ProtocolOption = None,
    timeout: TimeoutOption = None,
    compression: CompressionOption = None,
    tls_no_verify: TlsNoVerifyOption = False,
    service: ServiceOption = None,
    genai_only: GenaiOnlyOption = False,
    errors: ErrorsOption = False,
    min_duration: MinDurationOption = None,
    grep: GrepOption = None,
    attrs: AttrsOption = None,
    max_traces: Annotated[
        int,
        typer.Option(
            "--max-traces",
            min=1,
            help="Traces kept in memory (oldest go first).",
            rich_help_panel="View",
        ),
    ] = 100,
    idle: Annotated[
        float,
        typer.Option(
            "--idle",
            min=0,
            help="Seconds without new spans after which a trace counts as complete.",
            rich_help_panel="View",
        ),
    ] = 2.0,
    pricing: PricingOption = None,
    run_for: RunForOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto (live view on a terminal, NDJSON spans when piped), live (or table), "
            "tree (each trace as text once complete) or ndjson (or json: a line per span).",
            autocompletion=complete(TAIL_FORMATS),
        ),
    ] = "auto",
) -> None:
    """Receive OTLP on a local endpoint and show traces as a live tree as they arrive.

    Listens for OTLP/HTTP (protobuf and JSON, gzip) on /v1/traces, /v1/logs and /v1/metrics,
    and, with grpcio installed, for OTLP/gRPC on port 4317 (--grpc-listen; --no-grpc for none).
    Logs appear under their spans, metrics are counted. On a terminal each trace is a tree
    with durations, timing bars, status and GenAI summaries (model, tokens, cost); piped, it
    writes one JSON line per span, or with --format tree each trace as text once complete.

    Stop with Ctrl-C (exit 0). With a command after --, otelcli runs it with
    OTEL_EXPORTER_OTLP_* pointed at the receiver, stops when it exits, and exits with its code.
    The command is told to use http/protobuf; one whose exporter is fixed to gRPC can send to
    the gRPC endpoint instead: it gets it as OTELCLI_GRPC_ENDPOINT (a free port by default).

    Examples:

      otelcli tail

      otelcli tail --save run.pb --forward https://collector:4318

      otelcli tail --save chdb:./traces.chdb -- python app.py

      otelcli tail --genai-only --attrs gen_ai.request.temperature -- python app.py

      otelcli tail --format tree -- python app.py > traces.txt

      otelcli tail --file run.jsonl --follow
    """
    from otelcli.flows import receive as flow
    from otelcli.render.live import SessionView, ViewOptions, summary_lines

    if fmt not in TAIL_FORMATS:
        raise UsageError(
            f"--format {fmt!r} is not one of {', '.join(TAIL_FORMATS)}",
            hint="spans stream as NDJSON (-f ndjson); `otelcli convert` writes other files",
        )
    fmt = ALIASES.get(fmt, fmt)
    out = make_output("ndjson" if fmt == "ndjson" else "auto")
    command = command_after_dashes(ctx) or ()
    if file is not None and command:
        raise UsageError("--file and a command cannot be combined", hint="use one source")
    if follow and file is None:
        raise UsageError("--follow needs --file", hint="e.g. otelcli tail --file run.jsonl -F")
    if file is not None and (listen or auth_token):
        raise UsageError("--listen and --auth-token apply to the receiver, not to --file")
    forward_config = None
    if forward or preset:
        forward_config = exporter_config(
            forward, None, preset, headers, protocol, timeout, compression, tls_no_verify
        )
    elif headers or protocol or compression or tls_no_verify:
        raise UsageError("endpoint options need --forward URL or --to PRESET")
    mode = fmt
    if mode == "auto":
        mode = "live" if out.is_terminal else "ndjson"
    if mode == "table":
        mode = "live" if out.is_terminal else "tree"
    if mode == "live" and file is not None and not follow:
        mode = "tree"  # a finished file has nothing to watch
    span_filter = build_filter(service, genai_only, errors, min_duration, grep)
    view = SessionView(
        out,
        ViewOptions(
            mode=mode,
            attrs=split_attrs(attrs),
            span_filter=span_filter,
            max_traces=max_traces,
            idle_s=idle,
            pricing=pricing,
            save=save,
            forward=forward_config.endpoint if forward_config is not None else None,
        ),
    )
    result = flow.run(
        flow.ReceiveRequest(
            receiver=flow.ReceiverOptions(
                listen, auth_token, max_body_mib << 20, grpc, grpc_listen
            ),
            file=file,
            follow=follow,
            save=save,
            save_table=table,
            forward=forward_config,
            command=command,
            run_for=run_for,
            subscriber=view,
        )
    )
    for line in summary_lines(result):
        out.notice(line)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
