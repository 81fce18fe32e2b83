"""`otelcli portkey`: Portkey x-portkey-trace headers -> OTLP traces, and back."""

from __future__ import annotations

from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from otelcli.choices import complete
from otelcli.commands._shared import (
    CompressionOption,
    EndpointOption,
    FormatOption,
    HeaderOption,
    PresetOption,
    ProtocolOption,
    TimeoutOption,
    TlsNoVerifyOption,
    TracesEndpointOption,
    check_format,
    exporter_config,
    finish,
    guarded,
    make_output,
)

_PREVIEW_TRACES = 50  # a terminal preview, not a dump: the newest traces of a long run


class _ConvertByDefault(TyperGroup):
    """`otelcli portkey FILE...` means `otelcli portkey convert FILE...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["convert", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_ConvertByDefault,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Turn Portkey x-portkey-trace-id/span-id/... headers into OTLP traces "
    "(`otelcli portkey FILE...` converts), or print the headers for an existing trace.",
)


@app.command("convert")
@guarded
def convert(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="HAR files, raw HTTP dumps, curl command files, JSON/JSON Lines request "
            "records or Portkey log records (detected from the content; .gz fine); - for stdin.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the spans here; the extension picks the format (.pb .json .jsonl .lp, "
            "+ .gz). - for stdout.",
        ),
    ] = None,
    to_format: Annotated[
        str | None,
        typer.Option("--to-format", help="pb, json, jsonl or lp (overrides the extension)."),
    ] = None,
    content: Annotated[
        bool,
        typer.Option(
            "--content/--no-content",
            help="Include message content (gen_ai.input.messages, ...). Off by default.",
        ),
    ] = False,
    span_names: Annotated[
        str,
        typer.Option(
            "--span-names",
            help="semconv: LLM calls named '{operation} {model}' (Portkey's name kept as "
            "portkey.span_name); portkey: the x-portkey-span-name as sent.",
        ),
    ] = "semconv",
    service_name: Annotated[
        str, typer.Option("--service-name", help="service.name of the spans.")
    ] = "portkey",
    endpoint: EndpointOption = None,
    traces_endpoint: TracesEndpointOption = None,
    preset: PresetOption = None,
    header: HeaderOption = None,
    protocol: ProtocolOption = None,
    timeout: TimeoutOption = None,
    compression: CompressionOption = None,
    tls_no_verify: TlsNoVerifyOption = False,
    fmt: FormatOption = "auto",
) -> None:
    """Convert captured Portkey requests into OTLP trace trees.

    Ids are mapped exactly as Portkey's gateway maps them, so trace ids match what Portkey
    shows. Orphans, parent cycles, reused span ids and skipped records are reported.

    Examples:

      otelcli portkey requests.har -o run.pb

      otelcli portkey gateway.log.jsonl --to langfuse

      pbpaste | otelcli portkey - -o run.jsonl --content
    """
    from otelcli.errors import UsageError
    from otelcli.flows import portkey as flow
    from otelcli.otlp.formats import Format
    from otelcli.portkey.build import BuildOptions
    from otelcli.render.delivery import portkey_one_line, portkey_view
    from otelcli.transport.delivery import stop_on_signals
    from otelcli.transport.sink import SinkTarget

    check_format(fmt)
    if span_names not in ("semconv", "portkey"):
        raise UsageError(f"--span-names {span_names!r} is not semconv or portkey")
    sending = any((endpoint, traces_endpoint, preset))
    config = (
        exporter_config(
            endpoint, traces_endpoint, preset, header, protocol, timeout, compression, tls_no_verify
        )
        if sending
        else None
    )
    target = SinkTarget(
        output=output,
        output_format=Format.parse(to_format),
        endpoint=config,
        concurrency=1,
        inputs=inputs,
    )
    out = make_output(fmt, data_on_stdout=target.data_on_stdout)
    options = BuildOptions(
        content=content,
        span_names="portkey" if span_names == "portkey" else "semconv",
        service_name=service_name,
        # Backends drop data far in the past: untimed requests are placed at "now" when sent.
        untimed_base_ns=_now_ms_ns() if sending else None,
    )
    # Ctrl-C / SIGTERM: the request on the wire gets a short grace period; the spans made but
    # not delivered then go to INPUT.unsent.jsonl, and the exit status is 130 / 143.
    with stop_on_signals() as stop:
        result = flow.run(flow.PortkeyRequest(inputs, options, target), stop)
    if target.data_on_stdout:
        out.notice(portkey_one_line(result.built.summary))
        finish(out, result, None, report=False)
        return
    preview = _preview(result.built.batches) if out.mode == "table" else []
    if target.empty and out.mode == "table":
        out.notice("nothing written: add -o FILE, or --endpoint / --to to send")
    finish(out, result, lambda report: portkey_view(report, preview))


@app.command("headers")
@guarded
def headers(
    traceparent: Annotated[
        str | None,
        typer.Option(
            "--traceparent",
            envvar="TRACEPARENT",
            help="W3C traceparent of the calling span (default: $TRACEPARENT).",
        ),
    ] = None,
    trace_id: Annotated[
        str | None, typer.Option("--trace-id", help="Trace id (wins over --traceparent).")
    ] = None,
    span_id: Annotated[
        str | None,
        typer.Option("--span-id", help="Span id of the Portkey request (default: a new one)."),
    ] = None,
    parent_span_id: Annotated[
        str | None,
        typer.Option("--parent-span-id", help="Parent span id (wins over --traceparent)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="x-portkey-span-name.")] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option("--metadata", "-m", help="x-portkey-metadata entry KEY=VALUE (repeatable)."),
    ] = None,
    baggage: Annotated[
        str | None,
        typer.Option("--baggage", help="W3C baggage to merge into the metadata (as Portkey does)."),
    ] = None,
    style: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="headers (Name: value lines), curl, json or env.",
            autocompletion=complete(("headers", "curl", "json", "env")),
        ),
    ] = "headers",
) -> None:
    """Print the x-portkey-* headers that put a Portkey request into an existing trace.

    Examples:

      otelcli portkey headers --traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01

      otelcli portkey headers --trace-id 1729 --span-id 11 --name "LLM Call" -f curl

      eval "$(otelcli portkey headers -f env)"    # uses $TRACEPARENT
    """
    from otelcli.errors import UsageError
    from otelcli.portkey.headers import (
        HEADER_FORMATS,
        headers_for_trace,
        render_headers,
    )

    if style not in HEADER_FORMATS:
        raise UsageError(
            f"--format {style!r} is not one of {', '.join(HEADER_FORMATS)}",
        )
    pairs: dict[str, str] = {}
    for item in metadata or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--metadata {item!r} is not KEY=VALUE")
        pairs[key.strip()] = value
    result = headers_for_trace(
        traceparent=traceparent,
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_span_id,
        name=name,
        metadata=pairs,
        baggage=baggage,
    )
    make_output().text(render_headers(result.as_dict(), style))


# -- helpers -----------------------------------------------------------------------------------


def _now_ms_ns() -> int:
    import time

    return time.time_ns() // 1_000_000 * 1_000_000


def _preview(batches: list[Any]) -> list[Any]:
    """The traces drawn by tail's tree renderer, Portkey's span name shown beside each span."""
    from otelcli.genai.pricing.summary import default_summarizer
    from otelcli.otlp.traces import TraceBoard
    from otelcli.render.tree import TreeStyle, render_trace

    board = TraceBoard(max_traces=_PREVIEW_TRACES)
    for batch in batches:
        board.add_batch(batch)
    summarizer = default_summarizer()
    style = TreeStyle(attrs=("portkey.span_name",))
    return [render_trace(entry, summarizer, style, settled=True) for entry in board.traces.values()]
