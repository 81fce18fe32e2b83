"""`otelcli tail`: a local OTLP endpoint that shows traces as they arrive, and tees them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

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
from otelcli.errors import UsageError

if TYPE_CHECKING:
    from otelcli.otlp.traces import SpanFilter

app = command_app()

TAIL_FORMATS = ("auto", "live", "tree", "ndjson")


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
            "is acknowledged.",
            rich_help_panel="Capture and tee",
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
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            help="Only traces with spans of this service (repeatable).",
            rich_help_panel="Filters",
        ),
    ] = None,
    genai_only: Annotated[
        bool,
        typer.Option(
            "--genai-only", help="Only traces with GenAI spans.", rich_help_panel="Filters"
        ),
    ] = False,
    errors: Annotated[
        bool,
        typer.Option("--errors", help="Only traces with an error span.", rich_help_panel="Filters"),
    ] = False,
    min_duration: Annotated[
        str | None,
        typer.Option(
            "--min-duration",
            help="Only traces (NDJSON: spans) at least this long: "
            "500ms, 2s, 150us (a bare number is ms).",
            rich_help_panel="Filters",
        ),
    ] = None,
    grep: Annotated[
        str | None,
        typer.Option(
            "--grep",
            help="Only traces with a span whose name, status message or "
            "attribute matches this regular expression.",
            rich_help_panel="Filters",
        ),
    ] = None,
    attrs: Annotated[
        list[str] | None,
        typer.Option(
            "--attrs",
            help="Show these attributes on each span (comma-separated or "
            "repeated; resource attributes too).",
            rich_help_panel="View",
        ),
    ] = None,
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
    pricing: Annotated[
        str | None,
        typer.Option(
            "--pricing",
            help="Extra pricing file for costs (as for `otelcli cost`).",
            rich_help_panel="View",
        ),
    ] = None,
    run_for: RunForOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto (live view on a terminal, NDJSON spans when piped), live, "
            "tree (each trace as text once complete) or ndjson.",
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

      otelcli tail --genai-only --attrs gen_ai.request.temperature -- python app.py

      otelcli tail --format tree -- python app.py > traces.txt

      otelcli tail --file run.jsonl --follow
    """
    from otelcli.flows import receive as flow
    from otelcli.render.live import SessionView, ViewOptions, summary_lines

    if fmt not in TAIL_FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of {', '.join(TAIL_FORMATS)}")
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


# -- options -----------------------------------------------------------------------------------


def parse_duration_ns(text: str) -> int:
    """--min-duration: 500ms, 2s, 150us; a bare number is milliseconds."""
    from otelcli.parse import parse_duration

    bare = text.strip().replace(".", "", 1).isdigit()
    try:
        return parse_duration(text.strip() + "ms" if bare else text)
    except UsageError as exc:
        raise UsageError(f"--min-duration {text!r} is not a duration", hint=exc.hint) from None


def split_attrs(values: list[str] | None) -> list[str]:
    return [key.strip() for value in values or () for key in value.split(",") if key.strip()]


def build_filter(
    services: list[str] | None,
    genai_only: bool,
    errors: bool,
    min_duration: str | None,
    grep: str | None,
) -> SpanFilter:
    from otelcli.otlp.traces import SpanFilter

    pattern = None
    if grep:
        try:
            pattern = re.compile(grep)
        except re.error as exc:
            raise UsageError(
                f"--grep {grep!r}: {exc}", hint="a Python regular expression"
            ) from None
    return SpanFilter(
        services=tuple(services or ()),
        genai_only=genai_only,
        errors_only=errors,
        min_duration_ns=parse_duration_ns(min_duration) if min_duration else 0,
        grep=pattern,
    )
