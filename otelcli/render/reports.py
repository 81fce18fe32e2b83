"""validate's report in every format: JSON (the stable schema), JUnit XML, SARIF 2.1.0,
GitHub workflow annotations and the rich terminal view.

Every format renders the same JSON document (genai/semconv/document.py), so they cannot
disagree.
The JSON schema is documented in docs/validate-json.md and checked by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from otelcli.choices import REPORT_FORMATS as REPORT_FORMATS
from otelcli.genai.semconv.findings import LEVEL_RANK, RULES
from otelcli.render.output import flat, to_csv, to_json, uniform

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import RenderableType
    from rich.table import Table

_SARIF_LEVELS = {"violation": "error", "improvement": "warning", "information": "note"}
_GITHUB_COMMANDS = {"violation": "error", "improvement": "warning", "information": "notice"}


# -- JUnit -----------------------------------------------------------------------------------


def render_junit(document: Mapping[str, Any]) -> str:
    """One testsuite per span type, one testcase per rule that fired on it.

    A testcase fails when its rule's level reaches --fail-on; a span type with no finding
    gets one passing testcase, so a clean run still shows what was checked.
    """
    fail_rank = LEVEL_RANK.get(document["fail_on"], len(LEVEL_RANK))
    examples: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for rule in document["rules"]:
        for example in rule["examples"]:
            examples.setdefault((rule["rule"], example["span_type"] or "-"), []).append(example)
    suites: dict[str, list[tuple[Mapping[str, Any], int]]] = {}
    for span_type in document["summary"]["span_types"]:
        suites.setdefault(span_type, [])
    for rule in document["rules"]:
        for span_type, count in rule["span_types"].items():
            suites.setdefault(span_type, []).append((rule, count))
    root = ET.Element("testsuites", name="otelcli validate")
    total_tests = total_failures = 0
    for span_type, cases in suites.items():
        suite_name = "spans without a GenAI type" if span_type == "-" else span_type
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        failures = 0
        if not cases:
            ET.SubElement(suite, "testcase", name="conforms", classname=_classname(span_type))
        for rule, count in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{rule['rule']} [{rule['level']}]",
                classname=_classname(span_type),
            )
            lines = [f"{count} finding(s): {rule['description']}"]
            lines += [
                f"- {e['message']} ({_item(e)} {e['span_name']!r} "
                f"trace {e['trace_id']} span {e['span_id']})"
                for e in examples.get((rule["rule"], span_type), [])
            ]
            if rule["hint"]:
                lines.append(f"hint: {rule['hint']}")
            text = "\n".join(lines)
            if LEVEL_RANK[rule["level"]] >= fail_rank:
                failure = ET.SubElement(
                    case, "failure", message=f"{count} x {rule['rule']}", type=rule["level"]
                )
                failure.text = text
                failures += 1
            else:
                ET.SubElement(case, "system-out").text = text
        tests = max(1, len(cases))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += tests
        total_failures += failures
    command = document.get("command")
    if command is not None:
        suite = ET.SubElement(root, "testsuite", name="command", tests="1", errors="0", skipped="0")
        case = ET.SubElement(
            suite, "testcase", name="exit status", classname="otelcli.validate.command"
        )
        failed = bool(command.get("exit_code"))
        suite.set("failures", "1" if failed else "0")
        if failed:
            ET.SubElement(
                case, "failure", message=f"command exited {command['exit_code']}", type="command"
            ).text = " ".join(command.get("argv", []))
        total_tests += 1
        total_failures += int(failed)
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_ITEMS = {"traces": "span", "logs": "event", "metrics": "metric"}


def _item(finding: Mapping[str, Any]) -> str:
    """What a finding is about, by its signal: span, event or metric."""
    return _ITEMS.get(finding.get("signal", "traces"), "span")


def _classname(span_type: str) -> str:
    return "otelcli.validate." + ("other" if span_type == "-" else span_type)


# -- SARIF -----------------------------------------------------------------------------------


def render_sarif(document: Mapping[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per validate rule that fired, one result per listed finding."""
    inputs = document["inputs"]
    artifact = inputs[0] if len(inputs) == 1 and inputs[0] != "-" else None
    fired = {rule["rule"] for rule in document["rules"]}
    driver_rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule_id in sorted(fired):
        rule = RULES[rule_id]
        index[rule_id] = len(driver_rules)
        driver_rules.append(
            {
                "id": rule_id,
                "name": "".join(part.title() for part in rule_id.split("_")),
                "shortDescription": {"text": rule.description},
                "help": {"text": rule.hint or rule.description},
                "defaultConfiguration": {"level": _SARIF_LEVELS[rule.level]},
                "properties": {"category": rule.category},
            }
        )
    results = []
    for finding in document["findings"]:
        location: dict[str, Any] = {
            "logicalLocations": [
                {
                    "name": finding["span_name"] or finding["span_id"] or "capture",
                    "fullyQualifiedName": f"trace/{finding['trace_id']}/span/{finding['span_id']}",
                    "kind": "object",
                }
            ]
        }
        if artifact is not None:
            location["physicalLocation"] = {"artifactLocation": {"uri": artifact}}
        message = finding["message"] + (f" (hint: {finding['hint']})" if finding["hint"] else "")
        results.append(
            {
                "ruleId": finding["rule"],
                "ruleIndex": index[finding["rule"]],
                "level": _SARIF_LEVELS[finding["level"]],
                "message": {"text": message},
                "locations": [location],
                "partialFingerprints": {"otelcliFinding/v1": finding["id"]},
                "properties": {
                    key: finding[key]
                    for key in ("trace_id", "span_id", "span_type", "attribute")
                    if finding[key] is not None
                },
            }
        )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "otelcli",
                "version": document["tool"]["version"],
                "informationUri": "https://opentelemetry.io/docs/specs/semconv/gen-ai/",
                "rules": driver_rules,
            }
        },
        "results": results,
        "properties": {"semconv": document["semconv"], "summary": document["summary"]},
    }
    if artifact is not None:
        run["artifacts"] = [{"location": {"uri": artifact}}]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }


# -- GitHub workflow commands ----------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(document: Mapping[str, Any]) -> str:
    """One annotation per rule (GitHub shows only a few per step), worst first, then a summary."""
    lines = []
    artifact = document["inputs"][0] if len(document["inputs"]) == 1 else None
    for rule in document["rules"]:
        command = _GITHUB_COMMANDS[rule["level"]]
        example = rule["examples"][0] if rule["examples"] else None
        text = f"{rule['count']} x {rule['description']}"
        if example is not None:
            text += (
                f"\ne.g. {example['message']} ({_item(example)} {example['span_name']!r}, "
                f"trace {example['trace_id']}, span {example['span_id']})"
            )
        if rule["hint"]:
            text += f"\nhint: {rule['hint']}"
        properties = [f"title={_escape_property('otelcli validate: ' + rule['rule'])}"]
        if artifact and artifact != "-":
            properties.insert(0, f"file={_escape_property(artifact)}")
        lines.append(f"::{command} {','.join(properties)}::{_escape_data(text)}")
    summary = document["summary"]
    verdict = "passed" if document["passed"] else "failed"
    lines.append(
        f"otelcli validate {verdict}: {summary['spans']} spans, {summary['findings']} findings "
        + ", ".join(f"{count} {level}" for level, count in summary["by_level"].items())
    )
    return "\n".join(lines) + "\n"


# -- terminal --------------------------------------------------------------------------------

_STYLES = {"violation": "bold red", "improvement": "yellow", "information": "cyan"}


def described(rule: Mapping[str, Any]) -> str:
    """The rule's description with its placeholders filled where every finding agrees
    (one attribute, one span type)."""
    text = str(rule["description"])
    attributes, span_types = list(rule["attributes"]), list(rule["span_types"])
    if len(attributes) == 1:
        text = text.replace("<attribute>", attributes[0])
    if len(span_types) == 1 and span_types[0] != "-":
        text = text.replace("<span type>", span_types[0])
    return text


LEVEL_COLUMNS = ("spans", "findings", "rule", "attributes / span types", "example span")


def _level_table(level: str, rules: list[Mapping[str, Any]]) -> RenderableType:
    """One severity: its rules, the most spans affected first (the example spans give way
    on a narrow terminal)."""
    from otelcli.render.tables import Fitted

    rules = sorted(rules, key=lambda r: (-r.get("spans", r["count"]), -r["count"], r["rule"]))
    return Fitted(
        lambda columns: _rules_table(level, rules, columns), LEVEL_COLUMNS, ("example span",)
    )


def _rules_table(level: str, rules: list[Mapping[str, Any]], columns: Sequence[str]) -> Table:
    from rich.table import Table
    from rich.text import Text

    findings = sum(r["count"] for r in rules)
    table = Table(
        title=f"{level}: {findings:,} finding(s) in {len(rules)} rule(s)",
        title_justify="left",
        title_style=_STYLES[level],
        expand=False,
    )
    for column in columns:
        numbers = column in ("spans", "findings")
        # attribute names stay whole: long ones fold onto the next line
        table.add_column(
            column,
            justify="right" if numbers else "left",
            no_wrap=numbers,
            overflow="ellipsis" if column == "example span" else "fold",
            ratio=None if numbers else (2 if column == "rule" else 1),
        )
    for rule in rules:
        attributes = ", ".join(
            f"{k} ({v})" if v > 1 else k for k, v in list(rule["attributes"].items())[:3]
        ) or ", ".join(list(rule["span_types"])[:3])
        more = len(rule["attributes"]) - 3
        if more > 0:
            attributes += f" +{more}"
        example = rule["examples"][0] if rule["examples"] else None
        cells: dict[str, Any] = {
            "spans": f"{rule.get('spans', rule['count']):,}",
            "findings": f"{rule['count']:,}",
            "rule": Text.assemble((rule["rule"], "bold"), "\n", described(rule)),
            "attributes / span types": attributes,
            "example span": (
                f"{example['span_name'] or '-'}\n{example['trace_id'][:16]}…/{example['span_id']}"
                if example
                else "-"
            ),
        }
        table.add_row(*(cells[c] for c in columns))
    return table


def render_terminal(document: Mapping[str, Any]) -> RenderableType:
    """Findings by severity (worst first), each rule with the spans it affects first."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    summary = document["summary"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("semconv", f"{document['semconv']['id']} ({document['semconv']['title']})")
    head.add_row("inputs", ", ".join(document["inputs"]) or "-")
    if document.get("policy"):
        head.add_row("policy", document["policy"])
    head.add_row(
        "spans",
        f"{summary['spans']:,} ({summary['genai_spans']:,} GenAI) in {summary['traces']:,} traces",
    )
    if summary["span_types"]:
        head.add_row(
            "span types", ", ".join(f"{k} {v:,}" for k, v in summary["span_types"].items())
        )
    if summary["dialects"]:
        head.add_row("dialects", ", ".join(f"{k} {v:,}" for k, v in summary["dialects"].items()))
    command = document.get("command")
    if command is not None:
        head.add_row("command", f"{' '.join(command['argv'])} (exit {command['exit_code']})")

    sections: list[RenderableType] = []
    for level in ("violation", "improvement", "information"):
        rules = [rule for rule in document["rules"] if rule["level"] == level]
        if rules:
            sections.append(_level_table(level, rules))
    by_level = summary["by_level"]
    verdict = Text(
        ("PASSED" if document["passed"] else "FAILED")
        + f" (--fail-on {document['fail_on']}): "
        + ", ".join(f"{by_level[level]:,} {level}" for level in by_level),
        style="bold green" if document["passed"] else "bold red",
    )
    parts: list[RenderableType] = [head]
    if document["rules"]:
        parts.extend(sections)
    else:
        parts.append(Text("no findings", style="green"))
    parts.append(verdict)
    return Group(*parts)


# -- the formats as one choice ---------------------------------------------------------------


def render_report(document: Mapping[str, Any], fmt: str, to_file: bool) -> str | None:
    """The report as text in `fmt`, or None where it is a rich table (or JSON data on stdout)."""
    if fmt == "junit":
        return render_junit(document)
    if fmt == "sarif":
        return to_json(render_sarif(document), pretty=True).decode() + "\n"
    if fmt == "github":
        return render_github(document)
    if fmt == "ndjson":
        records = [*document["findings"], {"summary": summary_record(document)}]
        return "".join(to_json(record).decode() + "\n" for record in records)
    if fmt == "csv":  # the findings' rows (the verdict is the exit status)
        return to_csv(uniform([flat(finding) for finding in document["findings"]]))
    if to_file and fmt in ("json", "auto"):
        return to_json(document, pretty=True).decode() + "\n"
    return None


def summary_record(document: Mapping[str, Any]) -> dict[str, Any]:
    """The last NDJSON record: the verdict and the counts."""
    return {
        "schema": document["schema"],
        "passed": document["passed"],
        "fail_on": document["fail_on"],
        "semconv": document["semconv"]["id"],
        **document["summary"],
        "command": document.get("command"),
    }


def one_line(document: Mapping[str, Any]) -> str:
    summary = document["summary"]
    levels = ", ".join(f"{count} {level}" for level, count in summary["by_level"].items())
    verdict = "passed" if document["passed"] else "FAILED"
    return f"validate {verdict}: {summary['spans']} spans, {levels}"


def rules_view(rows: list[dict[str, Any]]) -> RenderableType:
    from rich.table import Table

    table = Table(
        title="validate rules (levels can be changed by a policy file)", title_justify="left"
    )
    columns = ("rule", "level", "category", "description", "weaver_id")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in columns))
    return table


def terminal_text(document: Mapping[str, Any], width: int = 120) -> str:
    """The terminal report as plain text (for -o FILE in table mode)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, no_color=True, width=width).print(render_terminal(document))
    return buffer.getvalue()
