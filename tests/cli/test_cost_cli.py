"""`otelcli cost` through the real app: quick mode, files with groupings, enrichment, pricing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelcli.otlp.reader import CaptureReader
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.values import attributes_to_dict, make_attributes
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
START_NS = 1_762_000_000_000_000_000  # 2025-11-01


def llm_batch(service: str, trace: int, calls: list[dict[str, Any]]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(make_attributes({"service.name": service}))
    scope_spans = resource_spans.scope_spans.add()
    for number, attributes in enumerate(calls, start=1):
        span = scope_spans.spans.add(name=f"chat {attributes.get('gen_ai.request.model', '')}")
        span.trace_id = trace.to_bytes(16, "big")
        span.span_id = (trace * 100 + number).to_bytes(8, "big")
        span.start_time_unix_nano = START_NS
        span.end_time_unix_nano = START_NS + 10**9
        span.attributes.extend(make_attributes(attributes))
    return request


def call(model: str, inp: int, out: int, **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
        **extra,
    }


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "run.pb"
    with open_writer(str(path)) as writer:
        writer.write(
            llm_batch(
                "shop",
                1,
                [
                    call("gpt-4o", 1_000_000, 0, **{"user.id": "ann"}),
                    call(
                        "gpt-4o-mini", 1_000_000, 0, **{"user.id": "bob", "gen_ai.usage.cost": 9.0}
                    ),
                ],
            )
        )
        writer.write(
            llm_batch(
                "web",
                2,
                [
                    call("gpt-4o", 0, 1_000_000, **{"user.id": "ann"}),
                    call("house-model", 10, 10),
                    {
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.usage.input_tokens": 5_000_000,
                    },
                ],
            )
        )
    return path


def test_quick_mode_json(cli: Cli) -> None:
    result = cli(
        "cost",
        "-m",
        "gpt-4o",
        "-i",
        "1200",
        "--output-tokens",
        "300",
        "--cached",
        "200",
        "--provider",
        "openai",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["usd"]["total"] == "0.00575" and data["price_id"] == "openai/gpt-4o"
    assert data["tokens"] == {
        "input": 1200,
        "cache_read": 200,
        "cache_write": 0,
        "cache_write_1h": 0,
        "output": 300,
        "reasoning": 0,
    }


def test_quick_mode_table_and_unknown_model(cli: Cli) -> None:
    table = cli(
        "--no-color", "cost", "-m", "gpt-4o", "-i", "1000", "--output-tokens", "10", "-f", "table"
    )
    assert table.exit_code == 0 and "openai/gpt-4o" in table.stdout and "$0.002600" in table.stdout
    unknown = cli("cost", "-m", "house-model", "-i", "10", "--output-tokens", "1", "-f", "json")
    assert unknown.exit_code == 3  # nothing priced is a failure a script can see
    report = json.loads(unknown.stdout)
    assert report["usd"] is None and "house-model" in report["error"]["message"]
    assert "--pricing" in report["error"]["hint"]
    shown = cli("--no-color", "cost", "-m", "house-model", "-i", "10", "-f", "table")
    assert shown.exit_code == 3 and "unknown (no price)" in shown.stdout
    assert "error: no price known for 'house-model'" in shown.stderr and "hint:" in shown.stderr


def test_quick_mode_at_a_past_date(cli: Cli) -> None:
    result = cli("cost", "-m", "o3", "-i", "1000000", "--at", "2025-06-01", "-f", "json")
    assert json.loads(result.stdout)["usd"]["total"] == "10"


@pytest.mark.parametrize(
    ("at", "total"),
    [("2024-07-01", "20"), ("2024-09-01", "12.5"), (None, "12.5")],
)
def test_quick_mode_prices_gpt_4o_at_the_date(cli: Cli, at: str | None, total: str) -> None:
    # gpt-4o was billed as gpt-4o-2024-05-13 ($5/$15) before gpt-4o-2024-08-06 ($2.50/$10)
    args = ["cost", "-m", "gpt-4o", "-i", "1000000", "--output-tokens", "1000000", "-f", "json"]
    result = cli(*args, *(["--at", at] if at else []))
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["usd"]["total"] == total


def test_old_dash_o_for_output_tokens_still_works_with_a_warning(cli: Cli) -> None:
    result = cli("cost", "-m", "gpt-4o", "-i", "0", "-o", "1000000", "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tokens"]["output"] == 1_000_000
    assert "deprecated: use --output-tokens" in result.stderr
    quiet = cli("cost", "-m", "gpt-4o", "-i", "0", "-o", "1000000", "-f", "json", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("model", {"gpt-4o": "12.5", "gpt-4o-mini": "0.15", "house-model": None}),
        ("service", {"shop": "2.65", "web": "10"}),
        ("user", {"ann": "12.5", "bob": "0.15", "unknown": None}),
        ("provider", {"openai": "12.65"}),
        ("trace", {f"{1:032x}": "2.65", f"{2:032x}": "10"}),
        ("session", {"unknown": "12.65"}),
        (
            "span-name",
            {"chat gpt-4o": "12.5", "chat gpt-4o-mini": "0.15", "chat house-model": None},
        ),
    ],
)
def test_file_mode_groupings(
    cli: Cli, capture: Path, dimension: str, expected: dict[str, str | None]
) -> None:
    result = cli("cost", str(capture), "--by", dimension, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    got = {g["key"][dimension]: (g["usd"] or {}).get("total") for g in data["groups"]}
    assert got == expected
    assert data["total"]["usd"]["total"] == "12.65"
    assert data["unknown_models"] == [{"model": "house-model", "provider": "openai", "spans": 1}]
    assert sum(data["skipped"].values()) == 1
    assert data["disagreements"]["count"] == 1


def test_two_groupings_top_and_csv(cli: Cli, capture: Path) -> None:
    result = cli(
        "cost", str(capture), "--by", "service", "--by", "model", "--top", "1", "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2  # the costliest group and "(other)" for the rest
    assert (rows[0]["service"], rows[0]["model"], rows[0]["total_usd"]) == ("web", "gpt-4o", "10")
    assert (rows[1]["service"], rows[1]["model"], rows[1]["total_usd"]) == (
        "(other)",
        "(other)",
        "2.65",
    )


def test_table_report_lists_unknowns_and_skips(cli: Cli, capture: Path) -> None:
    result = cli("--no-color", "cost", str(capture), "--by", "model", "-f", "table")
    assert result.exit_code == 0
    assert "house-model" in result.stdout and "skipped" in result.stdout
    assert "$12.65" in result.stdout


def test_stdin(cli: Cli, capture: Path) -> None:
    result = cli("cost", "-", "--format", "json", input=capture.read_bytes())
    assert json.loads(result.stdout)["total"]["usd"]["total"] == "12.65"


def test_enrichment_writes_a_priced_capture(cli: Cli, capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "priced.jsonl"
    result = cli("cost", str(capture), "--enrich", "-o", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["enriched"] == str(out)
    costs = {}
    for batch in CaptureReader(str(out)):
        for view in iter_spans(batch):
            attrs = attributes_to_dict(view.span.attributes)
            costs[(view.trace_id[-1], view.name)] = attrs.get("gen_ai.usage.cost")
    assert costs[("1", "chat gpt-4o")] == pytest.approx(2.5)
    assert costs[("1", "chat gpt-4o-mini")] == pytest.approx(0.15)
    assert costs[("2", "chat house-model")] is None
    again = cli("cost", str(out), "--format", "json")
    assert json.loads(again.stdout)["total"]["usd"]["total"] == "12.65"


def test_user_pricing_file(cli: Cli, capture: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[models]]\nmatch = "house-model"\ninput = 1000000\noutput = 0\n')
    result = cli("cost", str(capture), "--pricing", str(prices), "--format", "json")
    data = json.loads(result.stdout)
    assert data["unknown_models"] == []
    assert data["total"]["usd"]["total"] == "22.65"  # + 10 tokens x $1M/MTok


def test_prices_listing(cli: Cli) -> None:
    result = cli("cost", "prices", "gpt-4o", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    ids = {row["id"] for row in data["prices"]}
    assert "openai/gpt-4o" in ids and data["table_size"] >= 500


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["cost"], 2),
        (["cost", "x.pb", "--by", "colour"], 2),
        (["cost", "-m", "gpt-4o", "-o", "many"], 2),
        (["cost", "-m", "gpt-4o", "--enrich"], 2),
        (["cost", "x.pb", "--output-tokens", "3"], 2),
        (["cost", "x.pb", "--top", "0"], 2),
        (["cost", "--pricing", "/nonexistent/prices.toml", "-m", "gpt-4o"], 2),
    ],
)
def test_usage_errors(cli: Cli, capture: Path, args: list[str], code: int) -> None:
    args = [str(capture) if a == "x.pb" else a for a in args]
    result = cli(*args, "--format", "json")
    assert result.exit_code == code
    assert "error" in json.loads(result.stdout)
