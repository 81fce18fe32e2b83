"""Hostile values through the real commands: a finding or a skipped span, never exit 1.

These are the cases fuzzing found: a status code outside 0..2 with error.type (validate),
infinite, 1e30 and NaN usage values (cost), and timestamps near 2^64 rebased to now (replay).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from tests.conftest import CliResult, make_request

Cli = Callable[..., CliResult]
U64 = (1 << 64) - 1
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}


def capture(
    path: Path,
    attributes: dict[str, Any],
    status: int | None = None,
    times: list[tuple[int, int]] | None = None,
) -> str:
    """A small capture (one span per entry of `times`, else one) with these attributes."""
    request = make_request(len(times or [None]), attributes=attributes)
    spans = request.resource_spans[0].scope_spans[0].spans
    for span, (start, end) in zip(spans, times or [], strict=False):
        span.start_time_unix_nano = start
        span.end_time_unix_nano = end
    if status is not None:
        spans[0].status.code = status  # type: ignore[assignment]
    path.write_bytes(request.SerializeToString())
    return str(path)


@pytest.mark.parametrize("status", [7, -1, 1 << 30])
def test_validate_reports_a_status_code_outside_the_spec(
    cli: Cli, tmp_path: Path, status: int
) -> None:
    path = capture(tmp_path / "status.pb", {**CHAT, "error.type": "timeout"}, status=status)
    result = cli("validate", path, "-f", "json")
    assert result.exit_code == 3, result.stderr  # --fail-on violation, the default
    findings = {f["rule"]: f for f in json.loads(result.stdout)["findings"]}
    invalid = findings["invalid_status_code"]
    assert invalid["level"] == "violation"
    assert invalid["message"].endswith(f": {status}")
    assert findings["error_type_without_error_status"]["message"].endswith(f"status {status}")
    assert cli("validate", path, "-f", "json", "--fail-on", "none").exit_code == 0


@pytest.mark.parametrize(
    "usage",
    [
        {"gen_ai.usage.input_tokens": math.inf, "gen_ai.usage.output_tokens": 5},
        {"gen_ai.usage.input_tokens": 1e30, "gen_ai.usage.output_tokens": 5},
        {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": math.nan},
        {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": -math.inf},
        {"gen_ai.usage.input_tokens": "1" * 5000, "gen_ai.usage.output_tokens": 5},
    ],
    ids=["inf", "1e30", "nan", "-inf-cache", "5000-digits"],
)
def test_cost_skips_a_span_whose_usage_is_no_finite_count(
    cli: Cli, tmp_path: Path, usage: dict[str, Any]
) -> None:
    path = capture(tmp_path / "usage.pb", {**CHAT, **usage})
    result = cli("cost", path, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["skipped"] == {"usage value not a finite count": 1}
    assert report["total"]["spans"] == 0
    assert report["total"]["tokens"]["input"] == 0


def test_cost_ignores_a_nan_reported_cost(cli: Cli, tmp_path: Path) -> None:
    attributes = {
        **CHAT,
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.cost": math.nan,
    }
    path = capture(tmp_path / "cost.pb", attributes)
    result = cli("cost", path, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"]["priced_spans"] == 1
    assert report["disagreements"]["count"] == 0
    enriched = tmp_path / "enriched.pb"
    assert cli("cost", path, "--enrich", "-o", str(enriched), "-f", "json").exit_code == 0
    (view,) = [v for batch in read_batches([str(enriched)]) for v in iter_spans(batch)]
    assert math.isnan(view.attributes["gen_ai.usage.cost.reported"])
    assert view.attributes["gen_ai.usage.cost"] > 0


@pytest.mark.parametrize("rebase", ["end", "start"])
def test_replay_rebases_timestamps_near_2_to_the_64(cli: Cli, tmp_path: Path, rebase: str) -> None:
    times = [(1_700_000_000_000_000_000, 1_700_000_001_000_000_000), (1, U64), (U64 - 5, U64)]
    path = capture(tmp_path / "times.pb", CHAT, times=times)
    out = tmp_path / "out.pb"
    result = cli("replay", path, "--rebase-time", rebase, "-o", str(out), "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["written"] == 3
    assert abs(summary["time_shift_ns"]) < 1 << 63
    spans = [v.span for batch in read_batches([str(out)]) for v in iter_spans(batch)]
    normal = spans[0]
    assert normal.end_time_unix_nano - normal.start_time_unix_nano == 10**9  # shifted as one
    for span in spans:
        assert 0 <= span.start_time_unix_nano <= U64
        assert 0 <= span.end_time_unix_nano <= U64


def test_validate_and_cost_agree_on_a_count_above_10_to_the_12(cli: Cli, tmp_path: Path) -> None:
    usage = {"gen_ai.usage.input_tokens": 10**13, "gen_ai.usage.output_tokens": 5}
    path = capture(tmp_path / "large.pb", {**CHAT, **usage})
    result = cli("validate", path, "-f", "json")
    assert result.exit_code == 3, result.stderr
    invalid = [
        f for f in json.loads(result.stdout)["findings"] if f["rule"] == "invalid_token_count"
    ]
    assert [f["attribute"] for f in invalid] == ["gen_ai.usage.input_tokens"]
    assert invalid[0]["message"].endswith(f": {10**13}")
    report = json.loads(cli("cost", path, "-f", "json").stdout)
    assert report["skipped"] == {"usage value not a finite count": 1}
