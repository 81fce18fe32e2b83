"""tail --file --follow reads every signal: a real capture appended while it is followed, its
log records and metric points counted, saved and reported like received ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from otelcli.otlp.reader import read_all
from otelcli.otlp.signals import count_records, signal_of

RUN = Path(__file__).resolve().parents[1] / "data/corpus/runs/traceloop-openai-events"


def counts(path: Path) -> dict[str, int]:
    totals = {"traces": 0, "logs": 0, "metrics": 0}
    for batch in read_all([str(path)]):
        totals[signal_of(batch).value] += count_records(batch)
    return totals


def test_follow_counts_saves_and_reports_logs_and_metrics(tmp_path: Path) -> None:
    growing, saved = tmp_path / "growing.jsonl", tmp_path / "saved.jsonl"
    growing.write_bytes((RUN / "traces.jsonl").read_bytes())
    expected = {"traces": 9, "logs": 20, "metrics": 25}
    assert counts(RUN) == expected  # the corpus run, as recorded
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-m", "otelcli", "tail", "--file", str(growing), "--follow"]
        + ["--save", str(saved), "-f", "ndjson"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        child.stdout.readline()  # a span printed: the follower has read the first part
        with growing.open("ab") as handle:  # the other signals arrive while it follows
            handle.write((RUN / "logs.jsonl").read_bytes())
            handle.write((RUN / "metrics.jsonl").read_bytes())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if saved.exists() and _safe_counts(saved) == expected:
                break
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    text = err.decode()
    assert counts(saved) == expected, text
    assert "9 spans" in text and "20 log records" in text and "25 metric data points" in text


def _safe_counts(path: Path) -> dict[str, int] | None:
    try:
        return counts(path)
    except Exception:  # noqa: BLE001 - a line half written: look again
        return None
