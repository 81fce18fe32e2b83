"""`otelcli validate`: GenAI semantic-conventions findings for captures or a live command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperCommand

from otelcli.commands._shared import command_app, guarded, make_output

if TYPE_CHECKING:
    from otelcli.genai.findings import ValidationReport
    from otelcli.genai.policy import Policy
    from otelcli.genai.rules import RuleTable

app = command_app()

VALIDATE_FORMATS = ("auto", "table", "json", "ndjson", "junit", "sarif", "github")
FAIL_LEVELS = ("violation", "improvement", "information", "none")


class _CommandAfterDashes(TyperCommand):
    """Keeps what follows `--` as the command to run (click would merge it into the inputs)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["otelcli.command"] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)


@app.command(cls=_CommandAfterDashes)
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
            "finding as it is found, then a summary), junit, sarif or github (annotations).",
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
    list_rules: Annotated[
        bool,
        typer.Option("--list-rules", help="List the rules with their default levels and exit."),
    ] = False,
) -> None:
    """Check GenAI spans against the OpenTelemetry GenAI semantic conventions.

    Attribute checks (unknown, deprecated, type, enum, naming), span checks (required and
    recommended attributes per span type and provider, span kind and name, error.type and
    status), content (message JSON schemas), sanity (token counts, timing, orphans,
    duplicates) and dialect detection. Exit 3 when findings reach --fail-on.

    Examples:

      otelcli validate run.pb

      otelcli validate run.pb -f junit -o validate.xml

      otelcli validate --fail-on improvement -f github run.jsonl.gz

      otelcli validate -- python app.py
    """
    from otelcli.genai.findings import RULES

    command: list[str] | None = ctx.meta.get("otelcli.command")
    if fmt not in VALIDATE_FORMATS:
        from otelcli.errors import UsageError

        raise UsageError(f"--format {fmt!r} is not one of {', '.join(VALIDATE_FORMATS)}")
    out = make_output(fmt if fmt in ("auto", "table", "json", "ndjson") else "json")
    if list_rules:
        out.data([_rule_row(rule) for rule in RULES.values()], _rules_view)
        return
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        from otelcli.errors import UsageError

        raise UsageError(f"--fail-on {fail_on!r} is not one of {', '.join(FAIL_LEVELS)}")
    if not inputs and command is None:
        from otelcli.errors import UsageError

        raise UsageError(
            "nothing to validate",
            hint="give capture files (or - for stdin), or -- COMMAND to run and validate",
        )
    if inputs and command is not None:
        from otelcli.errors import UsageError

        raise UsageError("give capture files or -- COMMAND, not both")

    from otelcli.genai.policy import load_policy

    policy = load_policy(config, known_rules=RULES)
    rules = _rule_table(semconv or policy.semconv, registry or policy.registry)
    threshold = fail_on or policy.fail_on or "violation"
    sink = None
    if fmt == "ndjson" and output is None:
        sink = _ndjson_sink(out)
    report, validator = _start(
        rules, policy, examples, max_findings, normalized, not no_content, sink
    )
    run = None
    if command is not None:
        from otelcli.transport.run_capture import run_with_receiver

        run = run_with_receiver(command, validator.check_batch, grace_s=grace)
        sources = [f"command: {' '.join(command)}"]
    else:
        from otelcli.otlp.reader import read_batches

        assert inputs is not None
        for batch in read_batches(inputs):
            validator.check_batch(batch)
        sources = list(inputs)
    validator.finish()

    from otelcli.render.reports import report_document

    command_info = None
    if run is not None:
        command_info = {**run.to_dict()}
        if run.spans == 0:
            command_info["problem"] = "the command sent no spans"
    document = report_document(
        report,
        rules,
        inputs=sources,
        fail_on=threshold,
        policy=policy.source,
        command=command_info,
    )
    if command_info is not None and run is not None and run.spans == 0:
        document["passed"] = False
    _emit(out, fmt, document, output, streamed=sink is not None)
    code = _exit_code(document, report.fails(threshold), run.exit_code if run else 0)
    if code:
        raise typer.Exit(code)


def _rule_table(semconv: str | None, registry: str | None) -> RuleTable:
    from otelcli.genai.rules import DEFAULT_TABLE, load_rules, load_rules_dir

    if registry:
        if semconv:
            from otelcli.errors import UsageError

            raise UsageError("use --semconv or --registry, not both")
        return load_rules_dir(registry)
    return load_rules(semconv or DEFAULT_TABLE)


def _start(
    rules: RuleTable,
    policy: Policy,
    examples: int,
    max_findings: int,
    normalized: bool,
    content: bool,
    sink: Any,
) -> tuple[ValidationReport, Any]:
    from otelcli.genai.findings import ValidationReport
    from otelcli.genai.validate import Options, Validator

    report = ValidationReport(
        level_for=policy.level_for, max_findings=max_findings, examples=examples, sink=sink
    )
    options = Options(
        normalized=normalized or bool(policy.normalized),
        content=content,
        require=policy.require,
    )
    return report, Validator(rules, report, options)


def _ndjson_sink(out: Any) -> Any:
    def emit(finding: Any) -> None:
        out.lines([finding.to_dict()])

    return emit


def _emit(out: Any, fmt: str, document: dict[str, Any], output: str | None, streamed: bool) -> None:
    from otelcli.render.output import to_json
    from otelcli.render.reports import render_github, render_junit, render_sarif, render_terminal

    text: str | None = None
    if fmt == "junit":
        text = render_junit(document)
    elif fmt == "sarif":
        text = to_json(render_sarif(document), pretty=True).decode() + "\n"
    elif fmt == "github":
        text = render_github(document)
    elif fmt == "ndjson":
        if streamed:
            out.lines([{"summary": _summary_record(document)}])
            return
        text = "".join(
            to_json(record).decode() + "\n"
            for record in [*document["findings"], {"summary": _summary_record(document)}]
        )
    elif output is not None and fmt in ("json", "auto"):
        text = to_json(document, pretty=True).decode() + "\n"
    if output is not None:
        if text is None:  # a table written to a file: plain text
            import io

            from rich.console import Console

            handle = io.StringIO()
            Console(file=handle, no_color=True, width=120).print(render_terminal(document))
            text = handle.getvalue()
        _write(output, text)
        out.notice(_one_line(document) + f" (report: {output})")
        return
    if text is not None:
        out.text(text)
        return
    out.data(document, render_terminal)


def _write(path: str, text: str) -> None:
    """The report at `path`, whole or not at all (symlinks, FIFOs and modes kept)."""
    from otelcli.otlp.outfile import write_output

    write_output(path, text.encode("utf-8"))


def _summary_record(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": document["schema"],
        "passed": document["passed"],
        "fail_on": document["fail_on"],
        "semconv": document["semconv"]["id"],
        **document["summary"],
        "command": document.get("command"),
    }


def _one_line(document: dict[str, Any]) -> str:
    summary = document["summary"]
    levels = ", ".join(f"{count} {level}" for level, count in summary["by_level"].items())
    verdict = "passed" if document["passed"] else "FAILED"
    return f"validate {verdict}: {summary['spans']} spans, {levels}"


def _exit_code(document: dict[str, Any], findings_fail: bool, command_code: int) -> int:
    """3 when findings reach --fail-on (or a command sent nothing); else the command's code."""
    from otelcli.errors import ExitCode

    if findings_fail or not document["passed"] and not command_code:
        return int(ExitCode.INVALID)
    return command_code


def _rule_row(rule: Any) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "level": rule.level,
        "category": rule.category,
        "description": rule.message.format(attribute="<attribute>", span_type=""),
        "weaver_id": rule.weaver,
    }


def _rules_view(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(
        title="validate rules (levels can be changed by a policy file)", title_justify="left"
    )
    for column in ("rule", "level", "category", "description", "weaver_id"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[c] or "") for c in ("rule", "level", "category", "description", "weaver_id"))
        )
    return table
