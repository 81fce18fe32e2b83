"""cost from the token-usage metric, through the real CLI on the corpus runs' real metrics:
a metrics-only capture priced right to the cent, cumulative series counted once, and metric
cost never added on top of span cost for the same calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
RUN = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs" / "openai-v2-2.4b0-default"
# The models the fakes answered with, as the metric names them (gen_ai.response.model).
RETURNED = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "o4-mini": "o4-mini-2025-04-16",
    "text-embedding-3-small": "text-embedding-3-small",
}


def cost(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("cost", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def expected_usd(cli: Cli) -> Decimal:
    """The fakes' ground truth (truth.json) priced call by call in quick mode: the metric has
    no cache split, so input is priced whole, as the report says."""
    truth = json.loads((RUN / "truth.json").read_text())
    total = Decimal(0)
    for model, counts in truth["totals"].items():
        quick = cost(
            cli,
            "-m",
            RETURNED[model],
            "-i",
            str(counts["input_tokens"]),
            "-o",
            str(counts["output_tokens"]),
        )
        total += Decimal(quick["usd"]["total"])
    return total


def test_a_metrics_only_capture_is_priced_right_to_the_cent(cli: Cli) -> None:
    data = cost(cli, str(RUN / "metrics.jsonl"))
    metrics = data["from_metrics"]
    assert all(group["in_total"] for group in metrics["groups"])
    assert {g["model"]: g["tokens"] for g in metrics["groups"]} == {
        "gpt-4o-mini-2024-07-18": {"input": 2604, "output": 35},
        "o4-mini-2025-04-16": {"input": 40, "output": 90},
        "text-embedding-3-small": {"input": 8, "output": 0},
    }
    expected = expected_usd(cli)
    assert Decimal(metrics["usd_in_total"]) == expected
    assert Decimal(data["total"]["usd"]["total"]) == expected
    assert round(expected, 2) == round(Decimal(data["total"]["usd"]["total"]), 2)


def test_a_cumulative_series_exported_twice_counts_once(cli: Cli, tmp_path: Path) -> None:
    line = (RUN / "metrics.jsonl").read_text().strip()
    twice = tmp_path / "twice.jsonl"
    twice.write_text(line + "\n" + line + "\n")
    once = cost(cli, str(RUN / "metrics.jsonl"))["from_metrics"]["usd_in_total"]
    assert cost(cli, str(twice))["from_metrics"]["usd_in_total"] == once


def test_metric_cost_is_not_added_for_calls_spans_cover(cli: Cli) -> None:
    spans_only = cost(cli, str(RUN / "traces.jsonl"))
    both = cost(cli, str(RUN))
    assert both["total"] == spans_only["total"]
    metrics = both["from_metrics"]
    assert metrics["calls_in_total"] == 0 and Decimal(metrics["usd_in_total"]) == 0
    assert not any(group["in_total"] for group in metrics["groups"])
    assert Decimal(metrics["usd"]) > 0  # still shown, in its own section


def test_the_terminal_report_has_a_section_from_metrics(cli: Cli) -> None:
    result = cli("cost", str(RUN / "metrics.jsonl"), "-f", "table")
    assert result.exit_code == 0, result.stderr
    assert "cost from metrics" in result.stdout
    assert "calls no span covers" in result.stdout
