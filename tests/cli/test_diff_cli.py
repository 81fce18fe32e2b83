"""`otelcli diff A B` through the real app: two recorded runs of one scenario with two versions
of an instrumentation library, and captures made to differ in known ways."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from otelcli.otlp.writer import open_writer
from tests.cli.test_cost_cli import call, llm_batch
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
OLD = str(RUNS / "openai-v2-2.3b0-default" / "traces.jsonl")
NEW = str(RUNS / "openai-v2-2.4b0-default" / "traces.jsonl")


def test_an_instrumentation_upgrade_renames_keys(cli: Cli) -> None:
    result = cli("diff", OLD, NEW, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    changes = {(r["type"], r["key"]): r["change"] for r in report["attributes"]}
    assert changes[("chat", "gen_ai.system")] == "removed"
    assert changes[("chat", "gen_ai.provider.name")] == "added"
    assert report["totals"]["input_tokens"]["delta"] == 0  # the same calls, only renamed keys
    assert report["totals"]["cost_usd"]["delta"] == "0"
    assert report["spans"] == []
    table = cli("--no-color", "diff", OLD, NEW, "-f", "table")
    assert "attribute keys by span type" in table.stdout and "gen_ai.system" in table.stdout


def test_spans_keys_types_tokens_and_cost_that_changed(cli: Cli, tmp_path: Path) -> None:
    before, after = tmp_path / "before.pb", tmp_path / "after.jsonl"
    with open_writer(str(before)) as writer:
        writer.write(llm_batch("shop", 1, [call("gpt-4o", 1_000_000, 0, seed=7)]))
    with open_writer(str(after)) as writer:
        writer.write(
            llm_batch(
                "shop",
                1,
                [call("gpt-4o", 2_000_000, 0, seed="7"), call("gpt-4o-mini", 1_000_000, 0)],
            )
        )
    report = json.loads(cli("diff", str(before), str(after), "-f", "json").stdout)
    # gpt-4o is in both (one span each): only the new model's span is listed
    assert report["spans"] == [
        {"change": "added", "name": "chat gpt-4o-mini", "type": "chat", "a": 0, "b": 1}
    ]
    retyped = [r for r in report["attributes"] if r["change"] == "retyped"]
    assert retyped == [
        {"change": "retyped", "type": "chat", "key": "seed", "a": ["int"], "b": ["string"]}
    ]
    totals = report["totals"]
    assert totals["llm_calls"] == {"a": 1, "b": 2, "delta": 1}
    assert totals["input_tokens"]["delta"] == 2_000_000
    assert totals["cost_usd"] == {"a": "2.5", "b": "5.15", "delta": "2.65"}
    rows = list(
        csv.DictReader(io.StringIO(cli("diff", str(before), str(after), "-f", "csv").stdout))
    )
    assert {r["what"] for r in rows} == {"total", "span", "attribute"}
    assert any(
        r["what"] == "attribute" and r["name"] == "seed" and r["b"] == "string" for r in rows
    )


def test_diff_of_a_missing_file_is_an_input_error(cli: Cli) -> None:
    result = cli("diff", OLD, "/no/such/file.pb", "-f", "json")
    assert result.exit_code == 3 and json.loads(result.stdout)["error"]["code"] == "invalid_input"
