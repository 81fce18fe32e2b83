"""`otelcli send`: realistic GenAI test traces, hand-built spans, and load."""

from __future__ import annotations

from typing import Annotated, Any

import typer

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
    guarded,
    make_output,
)

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
            help="chat, agent, rag, embeddings, stream, gemini or error.", rich_help_panel=SCENARIO
        ),
    ] = "agent",
    dialect: Annotated[
        str,
        typer.Option(
            help="Attribute dialect: semconv, openinference, openllmetry, vercel, openlit.",
            rich_help_panel=SCENARIO,
        ),
    ] = "semconv",
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

      export TRACEPARENT=$(otelcli send --name build --print-traceparent)

      otelcli send --dry-run -o agent.jsonl --seed 7
    """
    from otelcli.errors import UsageError
    from otelcli.transport.config import resource_from_env

    out = make_output(check_format(fmt))
    if (dry_run or output) and not (dry_run and output):
        raise UsageError("--dry-run writes to --output", hint="pass both: --dry-run -o FILE")
    if name is None and (attr or start or end or span_duration or print_traceparent):
        raise UsageError("span options need --name", hint="e.g. --name deploy --attr env=prod")
    resource, warnings = resource_from_env()
    for warning in warnings:
        out.warning(warning)
    if resource_attr:
        from otelcli.parse import parse_attrs

        resource.update(parse_attrs(resource_attr))
    service_name = service or resource.pop("service.name", None)
    config = (
        None
        if dry_run
        else exporter_config(
            endpoint, traces_endpoint, to, header, protocol, timeout, compression, tls_no_verify
        )
    )

    if count is not None or duration is not None:
        if name is not None:
            raise UsageError(
                "load mode sends scenarios, not hand-built spans",
                hint="drop --name, or drop --count/--duration",
            )
        _load(
            out,
            config,
            output,
            scenario,
            dialect,
            seed,
            content,
            service_name,
            resource,
            count,
            rate,
            duration,
            concurrency,
            batch_size,
        )
        return

    from otelcli.genai.scenarios.build import build_scenario
    from otelcli.otlp.handmade import build_span
    from otelcli.otlp.ids import parse_traceparent
    from otelcli.parse import parse_attrs, resolve_times

    if name is not None:
        start_ns, end_ns = resolve_times(start, end, span_duration)
        made = build_span(
            name=name,
            kind=kind,
            attributes=parse_attrs(attr or []),
            status=status,
            status_message=status_message,
            service=service_name or "otelcli",
            resource_attributes=resource,
            start_ns=start_ns,
            end_ns=end_ns,
            parent=parse_traceparent(traceparent) if traceparent else None,
        )
        batch, label = made.request, f"span {name!r}"
    else:
        batch = build_scenario(
            scenario,
            dialect=dialect,
            seed=seed,
            content=content,
            service=service_name or "otelcli-demo",
            resource_attrs=resource,
        )
        label, made = f"{scenario} ({dialect})", None

    result, error = _send_one(batch, config, output)
    result["sent"] = label
    if print_traceparent and made is not None:
        out.text(made.context.format())
        out.notice(_one_line(result))
    else:
        out.data(result, _view)
    if error is not None:
        if not out.machine:
            out.error(error)
        raise typer.Exit(int(error.exit_code))


def _send_one(batch: Any, config: Any, output: str | None) -> tuple[dict[str, Any], Any]:
    from otelcli.otlp.spans import count_spans
    from otelcli.otlp.writer import open_writer
    from otelcli.redact import redact_url
    from otelcli.transport.exporter import OtlpExporter

    trace_ids = sorted(
        {s.trace_id.hex() for rs in batch.resource_spans for ss in rs.scope_spans for s in ss.spans}
    )
    if config is None:
        with open_writer(output or "-") as writer:
            writer.write(batch)
        return {
            "endpoint": None,
            "output": output,
            "trace_ids": trace_ids,
            "spans": count_spans(batch),
        }, None
    with OtlpExporter(config) as exporter:
        result = exporter.export(batch)
    summary: dict[str, Any] = {
        "endpoint": redact_url(config.endpoint),
        "endpoint_from": config.endpoint_source,
        "trace_ids": trace_ids,
        "spans": result.spans,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "failed": result.failed,
        "unknown": result.unknown,
        "status": result.status,
        "latency_ms": round(result.latency_s * 1000, 1),
        "attempts": result.attempts,
        "messages": result.messages,
        "error": result.error.to_dict() if result.error else None,
    }
    return summary, result.error


def _load(
    out: Any,
    config: Any,
    output: str | None,
    scenario: str,
    dialect: str,
    seed: int | None,
    content: bool,
    service: str | None,
    resource: dict[str, Any],
    count: int | None,
    rate: float | None,
    duration: float | None,
    concurrency: int,
    batch_size: int,
) -> None:
    from otelcli.genai.scenarios.build import scenario_template
    from otelcli.redact import redact_url
    from otelcli.send import LoadPlan, generate
    from otelcli.transport.delivery import deliver, stop_on_signals
    from otelcli.transport.exporter import OtlpExporter

    template = scenario_template(
        scenario,
        dialect,
        seed=seed,
        content=content,
        service=service or "otelcli-demo",
        resource_attrs=resource,
    )
    plan = LoadPlan(template.spans_per_copy, count, rate, duration, batch_size)
    copies = plan.total_copies
    total = copies * plan.spans_per_copy if copies is not None else None
    with out.progress("send", total=total) as bar:
        if config is None:
            from otelcli.otlp.writer import open_writer

            written = 0
            with open_writer(output or "-") as writer:
                for item in generate(plan, template):
                    writer.write_bytes(item.data or b"")
                    written += item.spans
                    bar.update(completed=written)
            out.data(
                {"output": output, "scenario": scenario, "dialect": dialect, "spans": written},
                _view,
            )
            return
        # Ctrl-C / SIGTERM stop generating; requests on the wire get a short grace period.
        # Generated spans that were not sent are counted, not saved: they can be made again.
        with OtlpExporter(config) as exporter, stop_on_signals() as stop:
            report = deliver(
                generate(plan, template, stop=stop),
                exporter,
                concurrency=concurrency,
                stop=stop,
                on_progress=lambda r: bar.update(
                    completed=r.accepted + r.rejected + r.failed + r.unknown,
                    detail=f"{r.accepted / max(r.elapsed_s, 1e-9):,.0f}/s" if r.elapsed_s else "",
                ),
            )
    summary = {
        "endpoint": redact_url(config.endpoint),
        "scenario": scenario,
        "dialect": dialect,
        "spans_per_trace": plan.spans_per_copy,
        **report.to_dict(),
    }
    out.data(summary, _view)
    error = report.outcome(stop)
    if error is not None:
        if not out.machine:
            out.error(error)
        raise typer.Exit(int(error.exit_code))


def _one_line(result: dict[str, Any]) -> str:
    if result.get("endpoint") is None:
        return f"wrote {result['spans']} span(s) to {result.get('output')}"
    return (
        f"sent {result['sent']} to {result['endpoint']}: HTTP {result.get('status')}, "
        f"{result.get('accepted', 0)} accepted, {result.get('latency_ms')} ms"
    )


def _view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import key_values

    rows: list[tuple[str, Any]] = []
    for key in ("sent", "scenario", "dialect", "endpoint", "endpoint_from", "output"):
        if result.get(key):
            rows.append((key.replace("_", " "), result[key]))
    if "trace_ids" in result:
        rows.append(("trace ids", ", ".join(result["trace_ids"])))
    if "offered" in result:  # load
        latency = result["latency"]
        rows += [
            (
                "spans",
                f"{result['offered']:,} offered, {result['accepted']:,} accepted, "
                f"{result['rejected']:,} rejected, {result['failed']:,} failed",
            ),
        ]
        if result["unknown"]:
            rows.append(("unknown", f"{result['unknown']:,} (timed out after sending)"))
        if result["interrupted"]:
            rows.append(
                (
                    f"not sent ({result['signal'] or 'interrupted'})",
                    f"{result['not_sent']:,}",
                )
            )
        rows += [
            ("requests", f"{result['requests']:,} ({result['retries']:,} retries)"),
            (
                "throughput",
                f"{result['spans_per_second']:,.0f} spans/s over {result['elapsed_s']:.2f}s",
            ),
        ]
        if latency:
            rows.append(
                (
                    "latency",
                    f"p50 {latency['p50_ms']:.1f} ms · p95 "
                    f"{latency['p95_ms']:.1f} ms · p99 {latency['p99_ms']:.1f} ms",
                )
            )
    elif "accepted" in result:
        rows += [
            (
                "spans",
                f"{result['spans']} sent, {result['accepted']} accepted, "
                f"{result['rejected']} rejected",
            ),
            ("status", f"HTTP {result['status']}" if result["status"] else "no response"),
            *(
                [("unknown", f"{result['unknown']} (timed out after sending)")]
                if result.get("unknown")
                else []
            ),
            ("latency", f"{result['latency_ms']} ms ({result['attempts']} attempt(s))"),
        ]
    else:
        rows.append(("spans", f"{result['spans']:,} written"))
    for message in result.get("messages") or ():
        rows.append(("server said", message))
    return key_values(None, rows)
