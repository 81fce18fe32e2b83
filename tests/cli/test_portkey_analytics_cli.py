"""Portkey's analytics export (one SERVER span per request, the analytics columns verbatim)
through `otelcli cost` and `otelcli validate`: ai_model is the model, req_units/res_units
the tokens, and `cost` is read as cents of USD, compared only when cost_currency is USD."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
CAPTURE = Path(__file__).parents[1] / "data" / "portkey" / "analytics-export.json"
CENTS = "cost read as cents (Portkey gateway): 0.01 USD each"
EUR = "cost in EUR (cost_currency), not USD: not compared with otelcli's USD price"


def test_cost_prices_analytics_spans_and_compares_the_cents(cli: Cli) -> None:
    result = cli("cost", str(CAPTURE), "--by", "model", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    # gpt-4o 1000 in + 500 out twice ($2.50/$10 per M), gpt-4o-mini 2000 + 1000 ($0.15/$0.60)
    assert report["total"]["usd"]["total"] == "0.0159"
    assert report["total"]["tokens"]["input"] == 4000
    assert report["total"]["tokens"]["output"] == 2000
    assert {g["key"]["model"]: g["spans"] for g in report["groups"]} == {
        "gpt-4o": 2,
        "gpt-4o-mini": 1,
    }
    compared = report["disagreements"]
    # 0.75 cents = our $0.0075: agrees; 5 cents is not our $0.0009; the EUR cost is not compared
    assert compared["agreements"] == 1
    assert compared["count"] == 1
    (differs,) = compared["examples"]
    assert differs["model"] == "gpt-4o-mini"
    assert differs["attribute"] == "cost"
    assert differs["reported_usd"] == "0.05"
    assert differs["computed_usd"] == "0.0009"
    assert compared["notes"] == {CENTS: 2, EUR: 1}


def test_cost_table_says_the_cost_was_read_as_cents_and_names_the_currency(cli: Cli) -> None:
    result = cli("cost", str(CAPTURE), "--format", "table")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "$0.015900" in text
    assert "1 spans carry a different cost" in text
    assert f"2 x {CENTS}" in text
    assert f"1 x {EUR}" in text


def test_a_bare_cost_key_on_another_dialect_is_not_read_as_cents(cli: Cli, tmp_path: Path) -> None:
    doc = json.loads(CAPTURE.read_text())
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["attributes"] = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "500"}},
        {"key": "cost", "value": {"doubleValue": 0.75}},
    ]
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"] = [span]
    path = tmp_path / "semconv.json"
    path.write_text(json.dumps(doc))
    result = cli("cost", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"]["usd"]["total"] == "0.0075"
    assert report["disagreements"] == {"count": 0, "agreements": 0, "examples": [], "notes": {}}


def test_validate_takes_the_analytics_columns_as_portkey_keys(cli: Cli) -> None:
    result = cli("validate", str(CAPTURE), "--format", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert report["summary"]["dialects"] == {"portkey": 3}
    assert report["summary"]["by_level"]["violation"] == 0
    rules = {r["rule"] for r in report["rules"]}
    assert rules == {"dialect"}, rules


def test_normalize_writes_the_cents_as_usd_and_leaves_another_currency_alone(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "normalized.json"
    result = cli("normalize", str(CAPTURE), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    spans = json.loads(out.read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"]
    costs = [
        next(
            (a["value"]["doubleValue"] for a in s["attributes"] if a["key"] == "gen_ai.usage.cost"),
            None,
        )
        for s in spans
    ]
    assert costs[:2] == [0.0075, 0.05]
    assert costs[2] is None  # the EUR cost is no USD cost
    # the normalized copy prices and compares the same: the USD costs now under gen_ai.usage.cost
    report = json.loads(cli("cost", str(out), "--format", "json").stdout)["disagreements"]
    assert (report["agreements"], report["count"]) == (1, 1)
    assert report["notes"] == {EUR: 1}
