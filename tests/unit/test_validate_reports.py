"""Every report format from one real run: JSON against its schema, JUnit, SARIF, GitHub."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from xml.etree import ElementTree as ET

import fastjsonschema
import pytest

from otelcli.genai.semconv.document import report_document
from otelcli.genai.semconv.policy import Policy
from otelcli.genai.semconv.rules import load_rules
from otelcli.render.reports import (
    render_github,
    render_junit,
    render_sarif,
    render_terminal,
)
from tests.unit.validate_helpers import CHAT, ERROR, INTERNAL, SpanSpec, check


def _document(fail_on: str = "violation", command: dict[str, Any] | None = None) -> dict[str, Any]:
    result = check(
        SpanSpec({**CHAT, "gen_ai.system": "openai"}, span=1),  # violation
        SpanSpec(CHAT, name="chat", span=2),  # improvement (name)
        SpanSpec(
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t"},
            name="execute_tool t",
            kind=INTERNAL,
            span=3,
            status=ERROR,
        ),
        policy=Policy(),
    )
    return report_document(
        result.report, load_rules(), inputs=["run.pb"], fail_on=fail_on, command=command
    )


def _schema() -> Any:
    text = resources.files("otelcli.data").joinpath("validate-report.schema.json").read_text()
    return fastjsonschema.compile(json.loads(text))


def test_json_report_validates_against_its_published_schema() -> None:
    validate = _schema()
    document = _document()
    validate(json.loads(json.dumps(document)))
    assert document["passed"] is False
    assert document["summary"]["by_level"]["violation"] == sum(
        r["count"] for r in document["rules"] if r["level"] == "violation"
    )
    assert (
        document["summary"]["findings"]
        == len(document["findings"]) + document["findings_truncated"]
    )
    with_command = _document(
        command={
            "argv": ["app"],
            "exit_code": 0,
            "batches": 1,
            "spans": 3,
            "endpoint": "http://127.0.0.1:1",
            "receiver": {},
        }
    )
    validate(json.loads(json.dumps(with_command)))


def test_schema_rejects_a_document_missing_a_field() -> None:
    document = _document()
    del document["findings"][0]["hint"]
    with pytest.raises(fastjsonschema.JsonSchemaException):
        _schema()(document)


def test_junit_has_a_suite_per_span_type_and_a_case_per_rule() -> None:
    document = _document(fail_on="violation")
    root = ET.fromstring(render_junit(document))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"openai.inference.client", "gen_ai.execute_tool.internal"}
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
        assert all(c.get("name") and c.get("classname") for c in cases)
    failing = {
        c.get("name")
        for s in suites.values()
        for c in s.findall("testcase")
        if c.find("failure") is not None
    }
    assert failing == {"deprecated_attribute [violation]", "error_type_missing [violation]"}
    assert root.get("failures") == "2"
    lenient = ET.fromstring(render_junit(_document(fail_on="none")))
    assert lenient.get("failures") == "0"


# The parts of the SARIF 2.1.0 schema (OASIS) that this report uses, with their constraints.
_SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                }
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
                                },
                                "partialFingerprints": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_follows_the_sarif_schema_and_indexes_its_rules() -> None:
    sarif = render_sarif(_document())
    fastjsonschema.compile(_SARIF_SUBSET)(json.loads(json.dumps(sarif)))
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "run.pb"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["deprecated_attribute"] == "error" and levels["span_name"] == "warning"


def test_github_annotations_escape_and_summarise() -> None:
    lines = render_github(_document()).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert {line.split("title=")[1].split("::")[0] for line in errors} == {
        "otelcli validate%3A deprecated_attribute",
        "otelcli validate%3A error_type_missing",
    }
    assert all("\n" not in line for line in lines)
    assert any("%0Ahint: " in line for line in errors)
    assert lines[-1].startswith("otelcli validate failed: 3 spans")


def test_terminal_view_renders_rules_and_verdict() -> None:
    from rich.console import Console

    console = Console(width=160, record=True, no_color=True)
    console.print(render_terminal(_document()))
    text = console.export_text()
    assert "deprecated_attribute" in text and "FAILED (--fail-on violation)" in text
