"""validate on events and metrics, through the real CLI and the corpus runs' real logs and
metrics: deprecated per-message events with their replacement, metric units and types, the
span-vs-metric token check, and the signal named in every report format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
EVENTS = RUNS / "traceloop-openai-events"  # OpenLLMetry in event mode: per-message events
CONVENTIONS = RUNS / "openai-v2-2.4b0-default"  # upstream instrumentation: conforming metrics


def validate(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("validate", *args, "-f", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def rule(document: dict[str, Any], rule_id: str) -> dict[str, Any] | None:
    return next((r for r in document["rules"] if r["rule"] == rule_id), None)


def test_deprecated_per_message_events_are_reported_with_their_replacement(cli: Cli) -> None:
    document = validate(cli, str(EVENTS))
    deprecated = rule(document, "deprecated_event")
    assert deprecated is not None and deprecated["level"] == "violation"
    assert deprecated["count"] == 20  # every event of the run
    assert deprecated["span_types"] == {
        "event gen_ai.user.message": 9,
        "event gen_ai.choice": 7,
        "event gen_ai.system.message": 2,
        "event gen_ai.assistant.message": 1,
        "event gen_ai.tool.message": 1,
    }
    example = deprecated["examples"][0]
    assert example["signal"] == "logs"
    assert "use gen_ai.client.inference.operation.details" in example["message"]
    assert document["signals"]["logs"]["genai_events"] == 20
    # Every event is joined to a span of the capture.
    assert rule(document, "event_without_span") is None
    assert rule(document, "event_without_trace_context") is None


def test_events_whose_span_is_missing_are_reported(cli: Cli, tmp_path: Path) -> None:
    only_logs = tmp_path / "logs.jsonl"
    only_logs.write_bytes((EVENTS / "logs.jsonl").read_bytes())
    missing = rule(validate(cli, str(only_logs)), "event_without_span")
    assert missing is not None and missing["count"] == 20


def test_conforming_metrics_have_no_metric_findings(cli: Cli) -> None:
    document = validate(cli, str(CONVENTIONS))
    for rule_id in ("metric_unit", "metric_instrument", "unknown_metric", "usage_metric_mismatch"):
        assert rule(document, rule_id) is None, rule_id
    # Two scopes (the instrumentation and its handler) each export both instruments.
    assert document["signals"]["metrics"]["metric_names"] == {
        "gen_ai.client.operation.duration": 2,
        "gen_ai.client.token.usage": 2,
    }


def _crafted(tmp_path: Path, unit: str, histogram_to_sum: bool = False) -> Path:
    """The conforming run's metrics with the token-usage metric changed."""
    request = json.loads((CONVENTIONS / "metrics.jsonl").read_text())
    for resource in request["resourceMetrics"]:
        for scope in resource["scopeMetrics"]:
            for metric in scope["metrics"]:
                if metric["name"] == "gen_ai.client.token.usage":
                    metric["unit"] = unit
                    if histogram_to_sum:
                        points = metric.pop("histogram")["dataPoints"]
                        metric["sum"] = {
                            "dataPoints": [
                                {"asInt": str(int(p["sum"])), "attributes": p["attributes"]}
                                for p in points
                            ],
                            "aggregationTemporality": 2,
                            "isMonotonic": True,
                        }
    folder = tmp_path / "crafted"
    folder.mkdir()
    (folder / "traces.jsonl").write_bytes((CONVENTIONS / "traces.jsonl").read_bytes())
    (folder / "metrics.jsonl").write_text(json.dumps(request) + "\n")
    return folder


def test_a_wrong_unit_token_metric_is_a_violation(cli: Cli, tmp_path: Path) -> None:
    document = validate(cli, str(_crafted(tmp_path, "tokens")))
    unit = rule(document, "metric_unit")
    assert unit is not None and unit["level"] == "violation" and unit["count"] == 2  # 2 scopes
    example = unit["examples"][0]
    assert example["signal"] == "metrics"
    assert example["span_type"] == "metric gen_ai.client.token.usage"
    assert "'tokens', the conventions define '{token}'" in example["message"]


def test_a_counter_where_a_histogram_belongs(cli: Cli, tmp_path: Path) -> None:
    document = validate(cli, str(_crafted(tmp_path, "{token}", histogram_to_sum=True)))
    instrument = rule(document, "metric_instrument")
    assert instrument is not None
    assert "a counter, the conventions define a histogram" in instrument["examples"][0]["message"]


def test_span_usage_and_the_token_metric_disagreeing(cli: Cli, tmp_path: Path) -> None:
    folder = _crafted(tmp_path, "{token}")
    traces = json.loads((folder / "traces.jsonl").read_text())
    for resource in traces["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for attribute in span.get("attributes", []):
                    if attribute["key"] == "gen_ai.usage.output_tokens":
                        attribute["value"] = {"intValue": "1000"}
    (folder / "traces.jsonl").write_text(json.dumps(traces) + "\n")
    mismatch = rule(validate(cli, str(folder)), "usage_metric_mismatch")
    assert mismatch is not None
    assert all("output tokens" in e["message"] for e in mismatch["examples"])


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("sarif", "event gen_ai.choice"),
        ("junit", "event gen_ai.choice"),
        ("github", "(event 'gen_ai.system.message'"),
    ],
)
def test_every_report_format_names_the_signal(cli: Cli, fmt: str, text: str) -> None:
    result = cli("validate", str(EVENTS), "-f", fmt, "--fail-on", "none")
    assert result.exit_code == 0, result.stderr
    assert text in result.stdout
