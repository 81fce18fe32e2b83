"""A stop during `load` (Ctrl-C, SIGTERM) ends reading after the current batch: what was
read is inserted, the counts add up, and the run ends with the signal's error."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from otelcli.flows import load as flow
from otelcli.transport.delivery import Stop

pytest.importorskip("chdb")

RUNS = Path(__file__).parents[1] / "data" / "corpus" / "runs"


def test_sigterm_during_load_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    stop = Stop()
    inputs = [str(RUNS / "openlit" / "traces.jsonl"), str(RUNS / "vercel-ai" / "traces.jsonl")]
    result = flow.load(
        flow.LoadRequest(
            inputs,
            f"chdb:{tmp_path / 'store'}",
            batch_rows=5,
            on_progress=lambda *_: stop.request(signal.SIGTERM),
            stop=stop,
        )
    )
    assert result.error is not None and result.error.exit_code == 143
    assert [entry["path"] for entry in result.inputs] == inputs[:1]  # the second is never read
    assert result.spans_read == result.inserted + sum(result.refused.values())
    assert result.inserted == 31  # the first file is one batch: stopped after it


def test_a_stop_amid_log_records_adds_up_for_every_signal(tmp_path: Path) -> None:
    """A run folder (logs.jsonl, metrics.jsonl, traces.jsonl): a SIGINT at the first stored
    batch of log records ends reading after that request; its records are all inserted."""
    stop = Stop()

    def progress(_done: int, _total: int | None, inserted: int) -> None:
        if inserted:  # not at the notes (expected.json) read before the logs
            stop.request(signal.SIGINT)

    result = flow.load(
        flow.LoadRequest(
            [str(RUNS / "openlit")],
            f"chdb:{tmp_path / 'store'}",
            batch_rows=3,
            on_progress=progress,
            stop=stop,
        )
    )
    assert result.error is not None and result.error.exit_code == 130
    assert [entry["path"] for entry in result.inputs] == [str(RUNS / "openlit" / "logs.jsonl")]
    report = result.to_dict()
    assert report["data_points_read"] == report["spans_read"] == 0  # never read
    # the file's one request of 10 records, inserted by 3: the stop came after the first 3
    assert report["log_records_read"] == report["log_records_inserted"] == 10
    assert report["refused"]["count"] == 0
    assert report["tables"]["otel_logs"] == report["log_records_inserted"]
