"""Whole corpus folders (traces, logs and metrics as the libraries emitted them, beside
truth.json and versions.txt) through every command that reads captures: nothing fails on a
signal it does not use, and every record is accounted for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.reader import read_all
from otelcli.otlp.signals import Batch, Signal, count_records, signal_of
from otelcli.otlp.spans import iter_spans
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver

Cli = Callable[..., CliResult]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
ALL_SIGNALS = RUNS / "traceloop-openai-events"  # OpenLLMetry in event mode: all three
FOLDERS = sorted(path.name for path in RUNS.iterdir() if path.is_dir())


def corpus_records(folder: Path) -> dict[str, int]:
    totals = dict.fromkeys((s.value for s in Signal), 0)
    for name in ("traces.jsonl", "logs.jsonl", "metrics.jsonl"):
        if (folder / name).exists():
            for batch in read_all([str(folder / name)]):
                totals[signal_of(batch).value] += count_records(batch)
    return totals


@pytest.mark.parametrize("run", FOLDERS)
def test_stats_counts_every_signal_of_a_corpus_folder(cli: Cli, run: str) -> None:
    folder = RUNS / run
    result = cli("stats", str(folder), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = corpus_records(folder)
    assert data["spans"] == expected["traces"]
    assert data["logs"]["log_records"] == expected["logs"]
    assert data["metrics"]["data_points"] == expected["metrics"]
    skipped = {Path(i["path"]).name for i in data["inputs"] if "skipped" in i}
    notes = {p.name for p in folder.glob("*.json")}  # truth.json, expected.json: no captures
    assert skipped == notes and "truth.json" in notes


def test_stats_names_events_and_metrics(cli: Cli) -> None:
    data = json.loads(cli("stats", str(ALL_SIGNALS), "-f", "json").stdout)
    assert data["logs"]["event_names"]["gen_ai.user.message"] == 9
    assert data["logs"]["with_trace_context"] == 20
    usage = next(
        m for m in data["metrics"]["metric_names"] if m["name"] == "gen_ai.client.token.usage"
    )
    assert usage == {
        "name": "gen_ai.client.token.usage",
        "type": "histogram",
        "unit": "token",  # OpenLLMetry's unit, not the conventions' {token}
        "data_points": 7,
    }
    logs_range = data["logs"]["time_range"]
    assert logs_range["first_ns"] <= logs_range["last_ns"]


def test_stats_on_a_terminal_shows_the_signals(cli: Cli) -> None:
    result = cli("stats", str(ALL_SIGNALS), "-f", "table")
    assert result.exit_code == 0, result.stderr
    for text in ("log records", "gen_ai.choice", "gen_ai.client.token.usage", "histogram"):
        assert text in result.stdout


def test_cost_counts_the_signals_it_does_not_price(cli: Cli) -> None:
    result = cli("cost", str(ALL_SIGNALS), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # Events carry no usage; the metrics batch holds the token-usage metric, so it is read.
    assert data["not_used"]["logs"] == {"batches": 1, "records": 20}
    assert "metrics" not in data["not_used"]
    notes = {str(p) for p in ALL_SIGNALS.iterdir() if p.suffix in (".json", ".txt")}
    assert set(data["not_used"]["skipped_files"]) == notes
    assert f"1 logs batch (20 log records), {len(notes)} files in folders not used by cost" in (
        result.stderr
    )


def test_validate_reads_every_signal(cli: Cli) -> None:
    result = cli("validate", str(ALL_SIGNALS), "-f", "json", "--fail-on", "none")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["not_used"]) == {"skipped_files"}
    assert data["signals"]["logs"]["log_records"] == 20
    assert data["signals"]["metrics"]["data_points"] == 21  # of GenAI metrics (25 in all)


@pytest.mark.parametrize("name", ["all.jsonl", "all.lp.gz", "all.pb", "all.json.gz"])
def test_convert_keeps_every_signal(cli: Cli, tmp_path: Path, name: str) -> None:
    target = tmp_path / "out" / name
    target.parent.mkdir()
    result = cli("convert", str(ALL_SIGNALS), "-o", str(target), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["spans"], data["log_records"], data["data_points"]) == (9, 20, 25)
    # Read back (the folder: single-request formats split the signals into files of their own).
    again = json.loads(cli("stats", str(target.parent), "-f", "json").stdout)
    assert (again["spans"], again["logs"]["log_records"], again["metrics"]["data_points"]) == (
        9,
        20,
        25,
    )


def test_convert_to_stdout_protobuf_refuses_a_second_signal(cli: Cli) -> None:
    result = cli("convert", str(ALL_SIGNALS), "-o", "-", "--to-format", "pb")
    assert result.exit_code == 7
    assert "also has" in result.stderr and "jsonl or lp" in result.stderr


def test_normalize_passes_logs_and_metrics_through(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "normalized.jsonl"
    result = cli("normalize", str(ALL_SIGNALS), "-o", str(out), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(cli("stats", str(out), "-f", "json").stdout)
    assert (data["spans"], data["logs"]["log_records"], data["metrics"]["data_points"]) == (
        9,
        20,
        25,
    )


def _received(receiver: RecordingReceiver, path: str, kind: type[Batch]) -> list[Batch]:
    return [kind.FromString(r.body) for r in receiver.requests if r.path == path]


def test_replay_sends_logs_and_metrics_to_their_paths_with_ids_following_the_spans(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    before = time.time_ns()
    result = cli(
        "replay",
        str(ALL_SIGNALS),
        "--endpoint",
        receiver.base_url,
        "--new-ids",
        "--rebase-time",
        "end",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["read"] == 9 and summary["delivery"]["accepted"] == 9 and summary["adds_up"]
    logs, metrics = summary["signals"]["logs"], summary["signals"]["metrics"]
    assert (logs["read"], logs["delivery"]["accepted"], logs["adds_up"]) == (20, 20, True)
    assert (metrics["read"], metrics["delivery"]["accepted"]) == (25, 25)
    assert set(summary["not_replayed"]) == {"skipped_files"}
    spans = _received(receiver, "/v1/traces", ExportTraceServiceRequest)
    span_ids = {
        (s.trace_id, s.span_id)
        for b in spans
        for rs in b.resource_spans  # type: ignore[union-attr]
        for ss in rs.scope_spans
        for s in ss.spans
    }
    original = {
        (s.span.trace_id, s.span.span_id)
        for b in read_all([str(ALL_SIGNALS / "traces.jsonl")])
        for s in iter_spans(b)
    }
    assert len(span_ids) == 9 and not span_ids & original  # fresh ids
    received_logs = _received(receiver, "/v1/logs", ExportLogsServiceRequest)
    records = [
        r
        for b in received_logs
        for rl in b.resource_logs  # type: ignore[union-attr]
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert len(records) == 20
    # Each event still names its span, by the span's new ids.
    assert all((r.trace_id, r.span_id) in span_ids for r in records)
    received_metrics = _received(receiver, "/v1/metrics", ExportMetricsServiceRequest)
    assert sum(count_records(b) for b in received_metrics) == 25
    # Rebased so the capture ends now: the last event is at most that late, and recent.
    newest = max(r.time_unix_nano or r.observed_time_unix_nano for r in records)
    assert before - 60 * 10**9 < newest <= time.time_ns()


def test_replay_to_a_file_keeps_every_signal(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "replayed.jsonl"
    result = cli("replay", str(ALL_SIGNALS), "-o", str(out), "--new-ids", "-f", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["adds_up"]
    assert summary["signals"]["logs"]["written"] == 20
    assert summary["signals"]["metrics"]["written"] == 25
    data = json.loads(cli("stats", str(out), "-f", "json").stdout)
    assert (data["spans"], data["logs"]["log_records"], data["metrics"]["data_points"]) == (
        9,
        20,
        25,
    )
