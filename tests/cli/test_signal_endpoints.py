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
