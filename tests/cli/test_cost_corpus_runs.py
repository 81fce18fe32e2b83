"""cost and tail's totals on the recorded runs (tests/data/corpus/runs/) vs truth.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from otelcli.genai.pricing.cost import NO_CACHE_READS, NO_CACHE_WRITE_SPLIT
from otelcli.genai.pricing.summary import Summarizer
from otelcli.genai.pricing.table import load_table
from otelcli.otlp.reader import read_batches
from otelcli.otlp.traces import TraceBoard, trace_totals

REPO = Path(__file__).resolve().parents[2]
RUNS = REPO / "tests" / "data" / "corpus" / "runs"
sys.path.insert(0, str(REPO / "scripts"))
from corpus_truth import truth_cost  # noqa: E402


def _cost(cli: Callable[..., Any], run: str) -> dict[str, Any]:
    result = cli("cost", str(RUNS / run / "traces.jsonl"), "-f", "json", "--no-fallback")
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _truth_usd(run: str) -> Decimal:
    truth = json.loads((RUNS / run / "truth.json").read_text())
    return truth_cost(truth, load_table(None, use_fallback=False))[1]


@pytest.mark.parametrize(
    ("run", "set_aside"),
    [("double-anthropic-sdk-openinference", 5), ("double-anthropic-sdk-traceloop", 4)],
)
def test_a_call_two_libraries_traced_is_priced_once(cli: Any, run: str, set_aside: int) -> None:
    report = _cost(cli, run)
    assert report["total"]["spans"] == 5  # the five calls that got a response with usage
    assert report["set_aside"]["count"] == set_aside
    example = report["set_aside"]["examples"][0]
    assert example["span_id"] != example["same_call_as"]
    assert Decimal(report["total"]["usd"]["total"]) == _truth_usd(run)


def test_the_anthropic_sdk_cache_write_keys_and_1h_split_are_priced(cli: Any) -> None:
    # gen_ai.usage.cache_write.input_tokens + anthropic.usage.cache_creation.ephemeral_1h_*
    report = _cost(cli, "anthropic-sdk")
    assert report["total"]["tokens"]["cache_write"] == 1500
    assert Decimal(report["total"]["usd"]["total"]) == _truth_usd("anthropic-sdk")
    assert report["cannot_tell"] == {}


def test_a_library_without_cached_tokens_is_reported_as_an_upper_bound(cli: Any) -> None:
    report = _cost(cli, "openai-v2-2.4b0-default")
    assert report["cannot_tell"][NO_CACHE_READS] == 4  # the chat calls (embeddings: no cache)
    assert Decimal(report["total"]["usd"]["total"]) > _truth_usd("openai-v2-2.4b0-default")


def test_cache_writes_without_their_split_are_reported_as_a_lower_bound(cli: Any) -> None:
    report = _cost(cli, "openinference-anthropic")
    assert report["cannot_tell"] == {NO_CACHE_WRITE_SPLIT: 1}


def test_a_conflicting_count_is_reported_with_the_key_used(cli: Any, tmp_path: Path) -> None:
    line = (RUNS / "anthropic-sdk" / "traces.jsonl").read_text().splitlines()[0]
    # the same span with an OpenLLMetry-style cache-write key that disagrees
    text = line.replace(
        '{"key":"gen_ai.usage.cache_write.input_tokens"',
        '{"key":"gen_ai.usage.cache_creation_input_tokens","value":{"intValue":"7"}},'
        '{"key":"gen_ai.usage.cache_write.input_tokens"',
        1,
    )
    assert text != line
    capture = tmp_path / "conflict.jsonl"
    capture.write_text(text + "\n")
    result = cli("cost", str(capture), "-f", "json", "--no-fallback")
    conflicts = json.loads(result.stdout)["conflicts"]
    assert conflicts["count"] == 1
    example = conflicts["examples"][0]
    assert {example["used"]["key"], example["ignored"]["key"]} == {
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    }


@pytest.mark.parametrize(
    "run", sorted(p.name for p in RUNS.iterdir() if (p / "traces.jsonl").exists())
)
def test_tail_totals_and_cost_count_the_same_calls(cli: Any, run: str) -> None:
    traces = RUNS / run / "traces.jsonl"
    board = TraceBoard()
    for batch in read_batches([str(traces)]):
        board.add_batch(batch)
    summarizer = Summarizer(load_table(None, use_fallback=False))
    tail_calls = sum(trace_totals(entry, summarizer).calls for entry in board.pop_all())
    assert tail_calls == _cost(cli, run)["total"]["spans"]
