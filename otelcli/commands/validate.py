"""`otelcli validate`: GenAI semantic-conventions findings for captures or a live command."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.choices import REPORT_FORMATS, complete
from otelcli.commands._shared import (
    CommandAfterDashes,
    command_after_dashes,
    command_app,
    finish,
    guarded,
    make_output,
    note_unused,
)
from otelcli.commands._store import (
    FromOption,
    ServiceOption,
    SinceOption,
    TableOption,
    UntilOption,
    WhereOption,
    refuse_store_filters,
    store_source,
)

app = command_app()


@app.command(cls=CommandAfterDashes)
@guarded
def validate(
    ctx: typer.Context,
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Capture files (.pb .json .jsonl, length-prefixed, optionally .gz); - for stdin. "
            "Or: -- COMMAND ARGS to run a command and validate what it sends.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            envvar="OTELCLI_FORMAT",
            help="auto (table on a terminal, JSON when piped), table, json, ndjson (every "
            "finding as it is found, then a summary), csv (a row per finding), junit, sarif or "
            "github (annotations).",
            autocompletion=complete(REPORT_FORMATS),
        ),
    ] = "auto",
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write the report to this file (a summary stays on stderr)."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 3 when a finding reaches this level: violation (default), improvement, "
            "information or none.",
        ),
    ] = None,
    semconv: Annotated[
        str | None,
        typer.Option(
            "--semconv",
            help="Built-in rule table: gen-ai-dev-1.42 (current, default) or v1.41.1 (the last "
            "core release with GenAI).",
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Check against a semantic-conventions-genai model directory (YAML) instead; "
            "needs PyYAML (pip install 'otelcli[registry]').",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="Policy file (default: nearest otelcli.toml, or pyproject.toml with "
            "[tool.otelcli.validate]).",
        ),
    ] = None,
    normalized: Annotated[
        bool,
        typer.Option(
            "--normalized",
            help="Check dialect spans (OpenInference, OpenLLMetry, ...) after mapping them to "
            "semconv, as `otelcli normalize --replace` would write them.",
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also list, as information, requirements whose condition a span cannot tell "
            '("if the request includes a seed", "when available"); by default they are '
            "only counted (summary.not_evaluated).",
        ),
    ] = False,
    no_content: Annotated[
        bool, typer.Option("--no-content", help="Skip JSON-schema checks of message content.")
    ] = False,
    examples: Annotated[
        int, typer.Option("--examples", min=0, help="Example spans kept per rule.")
    ] = 3,
    max_findings: Annotated[
        int,
        typer.Option(
            "--max-findings", min=0, help="Findings listed in json/sarif (all are counted)."
        ),
    ] = 1000,
    grace: Annotated[
        float,
        typer.Option("--grace", min=0, help="With -- COMMAND: seconds to wait for late batches."),
    ] = 3.0,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes that read and check capture files (default: the cores, up to 8; "
            "the report is the same with any number).",
            show_default=False,
        ),
    ] = None,
    list_rules: Annotated[
        bool,
        typer.Option("--list-rules", help="List the rules with their default levels and exit."),
    ] = False,
    from_store: FromOption = None,
    table: TableOption = "otel_traces",
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    where: WhereOption = None,
) -> None:
    """Check GenAI spans against the OpenTelemetry GenAI semantic conventions.

    Attribute checks (unknown, deprecated, type, enum, naming), span checks (required and
    recommended attributes per span type and provider, each conditional one only when its
    condition holds on the span: streaming, status, provider, other attributes, the request's
    parameters where recorded; span kind and name, error.type and status), content (message
    JSON schemas), sanity (token counts, timing, orphans, duplicates) and dialect detection.
    Exit 3 when findings reach --fail-on.

    Examples:

      otelcli validate run.pb

      otelcli validate run.pb -f junit -o validate.xml

      otelcli validate --fail-on improvement -f github run.jsonl.gz

      otelcli validate -- python app.py

      otelcli validate --from chdb:./traces.chdb --since 24h
    """
    from otelcli.flows import validate as flow
    from otelcli.flows.jobs import check_jobs
    from otelcli.otlp.outfile import write_output
    from otelcli.render import reports
    from otelcli.render.output import FORMATS

    command = command_after_dashes(ctx)
    if fmt not in reports.REPORT_FORMATS:
        from otelcli.errors import UsageError

        raise UsageError(f"--format {fmt!r} is not one of {', '.join(reports.REPORT_FORMATS)}")
    out = make_output(fmt if fmt in FORMATS else "json")
    if list_rules:
        finish(out, flow.list_rules(), reports.rules_view)
        return
    streamed = fmt == "ndjson" and output is None
    if from_store is not None:
        from otelcli.flows import store_validate

        source = store_source(
            from_store,
            table,
            since,
            until,
            service,
            where,
            also=inputs or command,
            what="files (or -- COMMAND)",
        )
        result = store_validate.run(
            store_validate.StoreValidateRequest(
                source,
                semconv=semconv,
                registry=registry,
                config=config,
                fail_on=fail_on,
                normalized=normalized,
                explain=explain,
                content=not no_content,
                examples=examples,
                max_findings=max_findings,
            )
        )
    else:
        refuse_store_filters(table=table, since=since, until=until, service=service, where=where)
        result = flow.run(
            flow.ValidateRequest(
                inputs=inputs or (),
                command=command,
                semconv=semconv,
                registry=registry,
                config=config,
                fail_on=fail_on,
                normalized=normalized,
                explain=explain,
                content=not no_content,
                examples=examples,
                max_findings=max_findings,
                grace_s=grace,
                on_finding=(lambda finding: out.lines([finding.to_dict()])) if streamed else None,
                jobs=check_jobs(jobs),
            )
        )
    document = result.document
    note_unused(out, result.unused, "validate")
    if streamed and from_store is not None:  # a census has its findings at the end
        out.lines(document["findings"])
    if streamed:
        out.lines([{"summary": reports.summary_record(document)}])
    elif output is not None:
        text = reports.render_report(document, fmt, to_file=True)
        report = text if text is not None else reports.terminal_text(document)
        write_output(output, report.encode("utf-8"))
        out.notice(reports.one_line(document) + f" (report: {output})")
    elif (text := reports.render_report(document, fmt, to_file=False)) is not None:
        out.text(text)
    else:
        out.data(document, reports.render_terminal)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
