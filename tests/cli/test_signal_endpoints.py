"""replay sends logs and metrics where the OTel SDK variables say: a per-signal endpoint as-is,
each with its own headers on top of the general ones."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from otelcli.otlp.signals import Signal
from otelcli.transport.config import resolve_exporter_config
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver

Cli = Callable[..., CliResult]
ALL_SIGNALS = Path(__file__).resolve().parents[1] / "data/corpus/runs/traceloop-openai-events"


def test_replay_uses_the_logs_and_metrics_endpoints_as_is(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url + "/base",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-all=1",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": receiver.base_url + "/my/logs",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-logs=2",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": receiver.base_url + "/m",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-traces=3",
    }
    result = cli("replay", str(ALL_SIGNALS), "-f", "json", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["signals"]["logs"]["delivery"]["accepted"] == 20
    paths = Counter(r.path for r in receiver.requests)
    assert set(paths) == {"/base/v1/traces", "/my/logs", "/m"}, paths
    headers = {r.path: {k.lower(): v for k, v in r.headers.items()} for r in receiver.requests}
    assert headers["/my/logs"].get("x-logs") == "2" and headers["/my/logs"].get("x-all") == "1"
    assert "x-traces" not in headers["/my/logs"] and "x-logs" not in headers["/m"]
    assert headers["/base/v1/traces"].get("x-traces") == "3"


def test_the_general_endpoint_serves_logs_beside_a_custom_traces_endpoint() -> None:
    config = resolve_exporter_config(
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo:4318/ingest",
        }
    )
    assert config.endpoint == "http://tempo:4318/ingest"
    assert config.for_signal(Signal.LOGS).endpoint == "http://collector:4318/v1/logs"
    assert config.for_signal(Signal.METRICS).endpoint == "http://collector:4318/v1/metrics"


def test_the_endpoint_flag_wins_over_the_signal_variables() -> None:
    config = resolve_exporter_config(
        endpoint="http://flag:4318",
        env={"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://env:4318/logs"},
    )
    assert config.for_signal(Signal.LOGS).endpoint == "http://flag:4318/v1/logs"


def _log_records(receiver: RecordingReceiver) -> list[list[bytes]]:
    """The trace id of each log record, request by request."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    requests = [
        ExportLogsServiceRequest.FromString(r.body)
        for r in receiver.requests
        if r.path == "/v1/logs"
    ]
    return [
        [rec.trace_id for rl in b.resource_logs for sl in rl.scope_logs for rec in sl.log_records]
        for b in requests
    ]


def test_replay_batch_size_counts_log_records(cli: Cli, receiver: RecordingReceiver) -> None:
    args = ("replay", str(ALL_SIGNALS), "--endpoint", receiver.base_url, "-f", "json")
    result = cli(*args, "--batch-size", "3")
    assert result.exit_code == 0, result.stdout + result.stderr
    sizes = [len(records) for records in _log_records(receiver)]
    assert sum(sizes) == 20 and max(sizes) == 3 and len(sizes) == 7, sizes


def test_replay_trace_id_filters_log_records(cli: Cli, receiver: RecordingReceiver) -> None:
    from otelcli.otlp.reader import read_all
    from otelcli.otlp.spans import iter_spans

    (trace_id,) = {
        s.span.trace_id
        for b in read_all([str(ALL_SIGNALS / "traces.jsonl")])
        for s in iter_spans(b)
    }
    args = ("replay", str(ALL_SIGNALS), "--endpoint", receiver.base_url, "-f", "json")
    other = cli(*args, "--trace-id", "ab" * 16)
    assert other.exit_code == 0, other.stdout + other.stderr
    logs = json.loads(other.stdout)["signals"]["logs"]
    assert not _log_records(receiver) and logs["read"] == 20 and logs["adds_up"], logs
    result = cli(*args, "--trace-id", trace_id.hex())
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    kept = [t for records in _log_records(receiver) for t in records]
    assert kept and set(kept) == {trace_id}
    assert summary["signals"]["logs"]["delivery"]["accepted"] == len(kept)
    assert summary["signals"]["metrics"]["delivery"]["accepted"] == 25  # not filtered by trace
