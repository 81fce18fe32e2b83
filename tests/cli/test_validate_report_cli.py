"""validate's terminal report through the real app on a recorded run, at a fixed width:
severities in order, each rule with the spans it affects first, descriptions rendered."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
OPENLIT = str(RUNS / "openlit" / "traces.jsonl")


@pytest.fixture(scope="module")  # one run of the report, read by several tests
def document() -> dict[str, Any]:
    from typer.testing import CliRunner

    from otelcli.cli import app

    result = CliRunner().invoke(app, ["validate", OPENLIT, "-f", "json"])
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_rule_descriptions_are_rendered_templates(cli: Cli, document: dict[str, Any]) -> None:
    rules = {rule["rule"]: rule for rule in document["rules"]}
    missing = rules["recommended_attribute_missing"]
    assert missing["description"] == "recommended attribute <attribute> is missing on <span type>"
    assert all(
        "{" not in r["description"] and not r["description"].endswith(" ") for r in rules.values()
    )
    listed = json.loads(cli("validate", "--list-rules", "-f", "json").stdout)
    assert all(not row["description"].endswith("on ") for row in listed)


def test_rules_count_the_spans_they_affect(document: dict[str, Any]) -> None:
    for rule in document["rules"]:
        assert 1 <= rule["spans"] <= min(rule["count"], document["summary"]["spans"])
    missing = next(r for r in document["rules"] if r["rule"] == "recommended_attribute_missing")
    assert missing["spans"] < missing["count"]  # many attributes missing on each span


def test_terminal_report_groups_by_severity_spans_first(cli: Cli, document: dict[str, Any]) -> None:
    result = cli("--no-color", "validate", OPENLIT, "-f", "table", env={"COLUMNS": "100"})
    assert result.exit_code == 3
    text = result.stdout
    titles = re.findall(r"^(violation|improvement|information): ([\d,]+) finding", text, re.M)
    assert [t[0] for t in titles] == ["violation", "improvement", "information"]
    by_level = document["summary"]["by_level"]
    assert {level: int(n.replace(",", "")) for level, n in titles} == by_level
    header = next(line for line in text.splitlines() if "rule" in line and "spans" in line)
    assert header.index("spans") < header.index("findings") < header.index("rule")
    for level in ("violation", "improvement", "information"):
        expected = sorted(
            (r for r in document["rules"] if r["level"] == level),
            key=lambda r: (-r["spans"], -r["count"], r["rule"]),
        )
        section = text.split(f"{level}: ")[1]
        counts = [int(m) for m in re.findall(r"^│\s+(\d+) │", section, re.M)][: len(expected)]
        assert counts == [r["spans"] for r in expected]
    # a rule whose findings all name one attribute says which
    what = " ".join(
        line.split("│")[3].strip() for line in text.splitlines() if line.count("│") >= 5
    )
    assert "gen_ai.request.top_k has the wrong type" in " ".join(what.split())
    assert max(len(line) for line in text.splitlines()) <= 100
