"""`otelcli show` through the real app on recorded runs: the trees tail draws, from files,
with tail's filters, and every span counted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def headers(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line[:2] in ("✓ ", "✗ "))


RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
OPENLIT = str(RUNS / "openlit" / "traces.jsonl")


def test_show_draws_the_trees_tail_draws(cli: Cli) -> None:
    shown = cli("show", OPENLIT)
    assert shown.exit_code == 0, shown.stderr
    tail = cli("tail", "--file", OPENLIT, "-f", "tree")
    assert headers(shown.stdout) == headers(tail.stdout)
    assert len(headers(shown.stdout)) == 2
    assert "2 traces, 31 spans in 1 batches" in shown.stderr


def test_show_filters_like_tail(cli: Cli, tmp_path: Path) -> None:
    both = [OPENLIT, str(RUNS / "anthropic-sdk" / "traces.jsonl")]
    everything = cli("show", *both)
    assert "3 traces, 39 spans" in everything.stderr
    only = cli("show", *both, "--service", "corpus-anthropic-sdk")
    assert len(headers(only.stdout)) == 1 and "corpus-anthropic-sdk" in only.stdout
    assert "3 traces (1 shown), 39 spans" in only.stderr
    grep = cli("show", *both, "--grep", "text-embedding", "-f", "ndjson")
    spans = [json.loads(line) for line in grep.stdout.splitlines()]
    assert {s["service"] for s in spans} == {"corpus-openlit"}
    assert any(s["name"].startswith("embeddings") for s in spans)
    assert cli("show", OPENLIT, "--grep", "(").exit_code == 2


def test_show_spans_as_json_lines_with_attributes(cli: Cli) -> None:
    result = cli("show", OPENLIT, "-f", "json", "--attrs", "gen_ai.request.model")
    spans = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(spans) == 31 and len({s["span_id"] for s in spans}) == 31
    chats = [s for s in spans if s["name"].startswith("chat ")]
    assert chats and any(s["attributes"].get("gen_ai.request.model") for s in chats)
