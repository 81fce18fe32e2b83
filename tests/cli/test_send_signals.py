"""send --signal: the scenario's events and metrics as the conventions define them, to their
own paths or into the file, one trace or load; checked by otelcli's own validate and cost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from otelcli.otlp.signals import count_records
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver

Cli = Callable[..., CliResult]
ALL = ("--signal", "traces", "--signal", "logs", "--signal", "metrics")


@pytest.mark.parametrize("dialect", ["semconv", "openllmetry", "openinference"])
def test_events_and_metrics_conform_and_agree_with_the_spans(
    cli: Cli, tmp_path: Path, dialect: str
) -> None:
    out = tmp_path / "all.jsonl"
    sent = cli("send", "--seed", "3", "--dialect", dialect, *ALL, "--dry-run", "-o", str(out))
    assert sent.exit_code == 0, sent.stderr
    result = cli("validate", str(out), "-f", "json", "--fail-on", "none")
    document = json.loads(result.stdout)
    assert document["signals"]["logs"]["event_names"] == {
        "gen_ai.client.inference.operation.details": 2
    }
    assert document["signals"]["metrics"]["data_points"] == 3
    # Dialect spans lack some recommended keys (as their libraries do): so do their events.
    tolerated = ("information",) if dialect == "semconv" else ("information", "improvement")
    wrong = {
        r["rule"]
        for r in document["rules"]
        if r["level"] not in tolerated
        and any(k.startswith(("event", "metric")) for k in r["span_types"])
    }
    assert wrong == set()
    assert not any(r["rule"] == "usage_metric_mismatch" for r in document["rules"])


def test_signals_go_to_their_own_paths(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli("send", "--seed", "1", *ALL, "--endpoint", receiver.base_url, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["accepted"] == 4
    assert data["signals"]["logs"]["accepted"] == 2
    assert data["signals"]["metrics"]["accepted"] == 3
    assert data["signals"]["logs"]["endpoint"].endswith("/v1/logs")
    paths = sorted(r.path for r in receiver.requests)
    assert paths == ["/v1/logs", "/v1/metrics", "/v1/traces"]


def test_only_logs(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli("send", "--signal", "logs", "--endpoint", receiver.base_url, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in receiver.requests] == ["/v1/logs"]


def test_load_sends_every_batch_s_events_and_metrics(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli(
        "send", *ALL, "--count", "40", "--batch-size", "8", "--endpoint", receiver.base_url,
        "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["accepted"] == 40  # 10 agent traces of 4 spans
    logs = [
        ExportLogsServiceRequest.FromString(r.body)
        for r in receiver.requests
        if r.path == "/v1/logs"
    ]
    metrics = [
        ExportMetricsServiceRequest.FromString(r.body)
        for r in receiver.requests
        if r.path == "/v1/metrics"
    ]
    assert sum(count_records(b) for b in logs) == 20 == data["signals"]["logs"]["accepted"]
    assert sum(count_records(b) for b in metrics) == data["signals"]["metrics"]["accepted"] > 0


def test_an_unknown_signal_is_a_usage_error(cli: Cli) -> None:
    result = cli("send", "--signal", "profiles", "--dry-run", "-o", "-", "-f", "table")
    assert result.exit_code == 2
    assert "traces, logs or metrics" in result.stderr
