"""`otelcli send`: realistic GenAI test traces, hand-built spans, and load."""

from __future__ import annotations

from typing import Annotated, Any

import typer

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
    command_app,
    exporter_config,
    finish,
    guarded,
    make_output,
)
from otelcli.genai.scenarios.names import DIALECTS, SCENARIOS

app = command_app()

SCENARIO = "Scenario"
SPAN = "Hand-built span (when --name is given)"
LOAD = "Load"


@app.command()
@guarded
def send(
    endpoint: EndpointOption = None,
    traces_endpoint: TracesEndpointOption = None,
    to: PresetOption = None,
    header: HeaderOption = None,
    protocol: ProtocolOption = None,
    timeout: TimeoutOption = None,
    compression: CompressionOption = None,
    tls_no_verify: TlsNoVerifyOption = False,
    scenario: Annotated[
        str,
        typer.Option(
            help="chat, agent, rag, embeddings, stream, gemini or error.",
            rich_help_panel=SCENARIO,
            autocompletion=complete(SCENARIOS),
        ),
    ] = "agent",
    dialect: Annotated[
        str,
        typer.Option(
            help="Attribute dialect: semconv, openinference, openllmetry, vercel, openlit.",
            rich_help_panel=SCENARIO,
            autocompletion=complete(DIALECTS),
        ),
    ] = "semconv",
    signal: Annotated[
        list[str] | None,
        typer.Option(
            "--signal",
            help="traces, logs (each call's gen_ai.client.inference.operation.details event) "
            "or metrics (gen_ai.client.token.usage, gen_ai.client.operation.duration); "
            "repeatable. Default: traces.",
            rich_help_panel=SCENARIO,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Make ids, tokens and timings reproducible.", rich_help_panel=SCENARIO),
    ] = None,
    content: Annotated[
        bool,
        typer.Option(
            "--content",
            help="Include prompts and completions (message attributes).",
            rich_help_panel=SCENARIO,
        ),
    ] = False,
    service: Annotated[
        str | None,
        typer.Option(
            help="service.name (default: OTEL_SERVICE_NAME, then otelcli-demo).",
            rich_help_panel=SCENARIO,
        ),
    ] = None,
    resource_attr: Annotated[
        list[str] | None,
        typer.Option(
            help="Resource attribute k=v (repeatable; adds to OTEL_RESOURCE_ATTRIBUTES).",
            rich_help_panel=SCENARIO,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Send one hand-built span with this name.", rich_help_panel=SPAN),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(help="internal, server, client, producer or consumer.", rich_help_panel=SPAN),
    ] = "client",
    attr: Annotated[
        list[str] | None,
        typer.Option(
            help="Span attribute: k=v typed by its look (k=1 int, k=1.5, k=true, "
            'k=\'["a","b"]\'), or explicit k:str=1, k:int=, k:double=, k:bool=, '
            "k:json= (repeatable).",
            rich_help_panel=SPAN,
        ),
    ] = None,
    status: Annotated[
        str, typer.Option(help="unset, ok or error.", rich_help_panel=SPAN)
    ] = "unset",
    status_message: Annotated[
        str, typer.Option(help="Status description.", rich_help_panel=SPAN)
    ] = "",
    start: Annotated[
        str | None,
        typer.Option(help="Start: RFC 3339, epoch seconds[.nanos] or now.", rich_help_panel=SPAN),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End, same forms as --start.", rich_help_panel=SPAN)
    ] = None,
    span_duration: Annotated[
        str | None,
        typer.Option(
            help="Span duration (250ms, 1.5s, 2m) instead of --start/--end.", rich_help_panel=SPAN
        ),
    ] = None,
    traceparent: Annotated[
        str | None,
        typer.Option(
            envvar="TRACEPARENT",
            help="W3C parent to join (default: TRACEPARENT).",
            rich_help_panel=SPAN,
        ),
    ] = None,
    print_traceparent: Annotated[
        bool,
        typer.Option(
            "--print-traceparent",
            help="Print only the new span's traceparent on stdout, for chaining in scripts.",
            rich_help_panel=SPAN,
        ),
    ] = False,
    count: Annotated[
        int | None,
        typer.Option(
            min=1, help="Spans to send (whole traces of the scenario).", rich_help_panel=LOAD
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="Spans per second (default: as fast as possible).", rich_help_panel=LOAD),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Seconds to keep sending.", rich_help_panel=LOAD)
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Requests in flight.", rich_help_panel=LOAD)
    ] = 4,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Spans per request (whole traces).", rich_help_panel=LOAD)
    ] = 512,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the batches to --output instead of sending.")
    ] = False,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="File for --dry-run (any capture format; - stdout)."),
    ] = None,
    fmt: FormatOption = "auto",
) -> None:
    """Send realistic GenAI traces, a hand-built span, or load to an OTLP/HTTP endpoint.

    With no options: one agent run (invoke_agent -> chat -> execute_tool -> chat) following the
    GenAI semantic conventions, with token usage of real models, to the configured endpoint.

    Examples:

      otelcli send --to langfuse

      otelcli send --scenario rag --dialect openinference --content

      otelcli send --count 100000 --rate 5000

      otelcli send --signal traces --signal logs --signal metrics

      export TRACEPARENT=$(otelcli send --name build --print-traceparent)

      otelcli send --dry-run -o agent.jsonl --seed 7
    """
    from otelcli.errors import UsageError
    from otelcli.flows import send as flow
    from otelcli.render.delivery import send_one_line, send_view
    from otelcli.transport.config import resource_from_env
    from otelcli.transport.sink import SinkTarget

    if (dry_run or output) and not (dry_run and output):
        raise UsageError("--dry-run writes to --output", hint="pass both: --dry-run -o FILE")
    if name is None and (attr or start or end or span_duration or print_traceparent):
        raise UsageError("span options need --name", hint="e.g. --name deploy --attr env=prod")
    loading = count is not None or duration is not None
    if loading and name is not None:
        raise UsageError(
            "load mode sends scenarios, not hand-built spans",
            hint="drop --name, or drop --count/--duration",
        )
    target = SinkTarget(
        output=output if dry_run else None,
        endpoint=None
        if dry_run
        else exporter_config(
            endpoint, traces_endpoint, to, header, protocol, timeout, compression, tls_no_verify
        ),
        concurrency=concurrency,
    )
    out = make_output(check_format(fmt), data_on_stdout=target.data_on_stdout)
    resource, warnings = resource_from_env()
    for warning in warnings:
        out.warning(warning)
    if resource_attr:
        from otelcli.parse import parse_attrs

        resource.update(parse_attrs(resource_attr))
    service_name = service or resource.pop("service.name", None)
    spec = flow.ScenarioSpec(
        scenario,
        dialect,
        seed,
        content,
        service_name or "otelcli-demo",
        resource,
        frozenset(s.lower() for s in signal) if signal else frozenset({"traces"}),
    )

    if loading:
        from otelcli.transport.delivery import stop_on_signals

        template = flow.load_template(spec)
        plan = flow.LoadPlan(template.spans_per_copy, count, rate, duration, batch_size)
        copies = plan.total_copies
        total = copies * plan.spans_per_copy if copies is not None else None
        # Ctrl-C / SIGTERM stop generating; requests on the wire get a short grace period.
        with out.progress("send", total=total) as bar, stop_on_signals() as stop:
            loaded = flow.send_load(
                target, spec, plan, template, stop=stop, on_progress=lambda r: _advance(bar, r)
            )
        finish(out, loaded, send_view)
        return

    span = None
    if name is not None:
        from otelcli.otlp.ids import parse_traceparent
        from otelcli.parse import parse_attrs, resolve_times

        start_ns, end_ns = resolve_times(start, end, span_duration)
        span = flow.SpanSpec(
            name,
            kind,
            parse_attrs(attr or []),
            status,
            status_message,
            start_ns,
            end_ns,
            parse_traceparent(traceparent) if traceparent else None,
            service_name or "otelcli",
        )
    sent = flow.send_one(target, spec, span)
    if print_traceparent and sent.context is not None:
        out.text(sent.context.format())
        out.notice(send_one_line(sent.to_dict()))
        finish(out, sent, None, report=False)
        return
    finish(out, sent, send_view)


def _advance(bar: Any, report: Any) -> None:
    delivery = report.delivery
    if delivery is None:
        bar.update(completed=report.file.spans if report.file else 0)
        return
    done = delivery.accepted + delivery.rejected + delivery.failed + delivery.unknown
    rate = delivery.accepted / max(delivery.elapsed_s, 1e-9) if delivery.elapsed_s else 0
    bar.update(completed=done, detail=f"{rate:,.0f}/s" if rate else "")
