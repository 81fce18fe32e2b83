"""Real-world proof: `otelcli validate` and `otelcli cost` on traces recorded from real
OpenAI instrumentation libraries (tests/data/corpus/, recorded by scripts/build_corpus.py).

Each capture has a reviewed <name>.expected.json beside it; README.md there explains every
finding. A change in what validate reports for real traces shows up here as a diff to review
(re-pin with `python scripts/build_corpus.py --pin-only`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
CAPTURES = sorted(CORPUS.glob("*.jsonl"))

# Which instrumentation dialect validate must recognise in each library's spans. OpenLLMetry's
# OpenAI instrumentation moved to gen_ai.* keys, so its current spans read as semconv.
DIALECTS = {
    "opentelemetry-instrumentation-openai-v2": {},
    "openinference-instrumentation-openai": {"openinference": 4},
    # OpenLLMetry 0.62 writes gen_ai.* keys, recognised by its own (gen_ai.is_streaming, ...)
    "opentelemetry-instrumentation-openai": {"openllmetry": 4},
}
# The usage the fake OpenAI API in scripts/build_corpus.py reports: two chat calls of the
# tool round (1250 + 1290 prompt tokens, 1024 + 1152 of them cached, 18 + 12 completion),
# a streamed call (64 / 5) and embeddings (8).
INPUT_TOKENS = 1250 + 1290 + 64 + 8
OUTPUT_TOKENS = 18 + 12 + 5
CACHED_TOKENS = 1024 + 1152


def _expected(capture: Path) -> dict[str, Any]:
    path = capture.with_name(capture.name.removesuffix(".jsonl") + ".expected.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _run_json(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code in (0, 3), result.stderr
    return json.loads(result.stdout)


def _findings(report: dict[str, Any]) -> Counter[tuple[str, str, str | None]]:
    assert report["findings_truncated"] == 0
    return Counter((f["rule"], f["level"], f["attribute"]) for f in report["findings"])


def _pinned(section: dict[str, Any]) -> Counter[tuple[str, str, str | None]]:
    return Counter(
        {(f["rule"], f["level"], f["attribute"]): f["count"] for f in section["findings"]}
    )


@pytest.fixture(autouse=True)
def no_policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no otelcli.toml / pyproject.toml policy can be discovered."""
    monkeypatch.chdir(tmp_path)


def test_the_corpus_covers_three_libraries_and_stays_small() -> None:
    expected = [_expected(capture) for capture in CAPTURES]
    assert {e["library"] for e in expected} == set(DIALECTS)
    assert sum(p.stat().st_size for p in CORPUS.iterdir()) < 500_000
    versions = (CORPUS / "VERSIONS.txt").read_text(encoding="utf-8")
    for library in DIALECTS:
        assert f"\n{library} " in versions


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_validate_findings_match_the_reviewed_pin(cli: Cli, capture: Path) -> None:
    expected = _expected(capture)
    report = _run_json(
        cli, "validate", str(capture), "-f", "json", "--fail-on", "none", "--max-findings", "100000"
    )
    pinned = expected["validate"]
    summary = report["summary"]
    assert _findings(report) == _pinned(pinned)
    assert summary["by_level"] == pinned["by_level"]
    assert summary["span_types"] == pinned["span_types"]
    assert (summary["spans"], summary["genai_spans"], summary["traces"]) == (
        pinned["spans"],
        pinned["genai_spans"],
        pinned["traces"],
    )
    # the dialect is the library's, whatever was pinned
    assert summary["dialects"] == DIALECTS[expected["library"]]
    # every capture is one run: an app span with four model calls under it, nothing orphaned
    assert (summary["spans"], summary["traces"]) == (5, 1)
    assert not any(rule == "orphan_span" for rule, _, _ in _findings(report))


@pytest.mark.parametrize(
    "capture",
    [c for c in CAPTURES if "validate_normalized" in _expected(c)],
    ids=lambda p: p.stem,
)
def test_normalized_findings_match_the_reviewed_pin(cli: Cli, capture: Path) -> None:
    pinned = _expected(capture)["validate_normalized"]
    report = _run_json(
        cli,
        "validate",
        str(capture),
        "--normalized",
        "-f",
        "json",
        "--fail-on",
        "none",
        "--max-findings",
        "100000",
    )
    assert _findings(report) == _pinned(pinned)
    # mapped to semconv, the dialect spans become typed GenAI spans
    assert report["summary"]["span_types"] == pinned["span_types"]
    assert report["summary"]["genai_spans"] == 4


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_validate_exit_code_follows_the_violations(cli: Cli, capture: Path) -> None:
    violations = _expected(capture)["validate"]["by_level"]["violation"]
    result = cli("validate", str(capture), "-f", "json")
    assert result.exit_code == (3 if violations else 0)
    assert json.loads(result.stdout)["passed"] is (violations == 0)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_cost_prices_every_call_with_known_models(cli: Cli, capture: Path) -> None:
    pinned = _expected(capture)["cost"]
    report = _run_json(cli, "cost", str(capture), "-f", "json", "--by", "model", "--no-fallback")
    total = report["total"]
    assert report["unknown_models"] == []
    assert (total["spans"], total["priced_spans"], total["unknown_spans"]) == (4, 4, 0)
    assert sorted(group["key"]["model"] for group in report["groups"]) == pinned["models"]
    assert total["tokens"] == pinned["tokens"]
    assert total["usd"]["total"] == pinned["usd_total"]
    assert Decimal(total["usd"]["total"]) > 0
    # every library reports the fake API's usage; cached tokens only where it records them
    assert (total["tokens"]["input"], total["tokens"]["output"]) == (INPUT_TOKENS, OUTPUT_TOKENS)
    assert total["tokens"]["cache_read"] in (0, CACHED_TOKENS)


def test_cached_tokens_lower_the_price() -> None:
    """Same calls, same models: a capture that records cache reads is priced lower."""
    priced = {c.stem: _expected(c)["cost"] for c in CAPTURES}
    cached = {Decimal(p["usd_total"]) for p in priced.values() if p["tokens"]["cache_read"]}
    uncached = {Decimal(p["usd_total"]) for p in priced.values() if not p["tokens"]["cache_read"]}
    assert len(cached) == 1 and len(uncached) == 1
    assert cached.pop() < uncached.pop()
