"""tail and capture keep and forward all three signals: a real OTel SDK application with its
three OTLP exporters (HTTP, then gRPC) as the command after `--`, counted record by record in
the save file and at the endpoint forwarded to."""

from __future__ import annotations

import json
import sys
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
from otelcli.otlp.signals import Batch, count_records, signal_of
from otelcli.transport.grpc_receiver import grpc_available
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver

Cli = Callable[..., CliResult]

# 2 turns: 3 spans, 2 events (log records) and 3 metric points (one export at shutdown).
APP = """import os
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if os.environ.get("MODE") == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    where = {"endpoint": os.environ["OTELCLI_GRPC_ENDPOINT"], "insecure": True}
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    where = {}
resource = Resource.create({"service.name": "chatbot"})
traces = TracerProvider(resource=resource)
traces.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(**where)))
logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(**where)))
exporter = OTLPMetricExporter(**where)
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
metrics = MeterProvider(resource=resource, metric_readers=[reader])
tracer = traces.get_tracer("app")
logger = logs.get_logger("app")
meter = metrics.get_meter("app")
tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
for turn in range(int(os.environ.get("TURNS", "2"))):
    with tracer.start_as_current_span(f"POST /chat {turn}"):
        with tracer.start_as_current_span("chat gpt-4o") as llm:
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                     "gen_ai.request.model": "gpt-4o"}
            llm.set_attributes({**attrs, "gen_ai.usage.input_tokens": 1200,
                                "gen_ai.usage.output_tokens": 300})
            for name in ("gen_ai.user.message", "gen_ai.choice"):
                logger.emit(LogRecord(event_name=name, body={"content": "hi"},
                                      attributes={"gen_ai.provider.name": "openai"}))
            tokens.record(1200, {**attrs, "gen_ai.token.type": "input"})
            tokens.record(300, {**attrs, "gen_ai.token.type": "output"})
            duration.record(0.5, attrs)
        with tracer.start_as_current_span("execute_tool get_weather"):
            pass
traces.shutdown()
logs.shutdown()
metrics.shutdown()
"""
EXPECTED = {"traces": 6, "logs": 4, "metrics": 3}
KINDS: dict[str, type[Batch]] = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
}


@pytest.fixture
def app(tmp_path: Path) -> list[str]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    return [sys.executable, str(script)]


def by_signal(batches: list[Batch]) -> dict[str, int]:
    counts = dict.fromkeys(EXPECTED, 0)
    for batch in batches:
        counts[signal_of(batch).value] += count_records(batch)
    return counts


def forwarded(receiver: RecordingReceiver) -> dict[str, int]:
    return by_signal([KINDS[r.path].FromString(r.body) for r in receiver.requests])


@pytest.mark.parametrize("mode", ["http", "grpc"])
@pytest.mark.parametrize("name", ["run.jsonl", "run.pb"])
def test_tail_saves_and_forwards_every_record_of_every_signal(
    cli: Cli, app: list[str], tmp_path: Path, receiver: RecordingReceiver, mode: str, name: str
) -> None:
    if mode == "grpc" and not grpc_available():
        pytest.skip("the grpc extra is not installed")
    saved = tmp_path / name
    result = cli(
        "tail",
        "-f",
        "ndjson",
        "--save",
        str(saved),
        "--forward",
        receiver.base_url,
        "--",
        *app,
        env={"MODE": mode},
    )
    assert result.exit_code == 0, result.stderr
    # A .pb file holds one request: the other signals get a file each beside it.
    assert by_signal(list(read_all([str(tmp_path)]))) == EXPECTED
    assert forwarded(receiver) == EXPECTED
    assert {r.path for r in receiver.requests} == set(KINDS)
    assert "forwarded 6 spans" in result.stderr
    assert "forwarded 4 log records" in result.stderr
    assert "forwarded 3 data points" in result.stderr
    if name.endswith(".pb"):
        assert "one file per signal" in result.stderr
        assert (tmp_path / "run.logs.pb").exists() and (tmp_path / "run.metrics.pb").exists()


def test_capture_keeps_every_signal(cli: Cli, app: list[str], tmp_path: Path) -> None:
    out = tmp_path / "all.lp"
    result = cli("capture", "-o", str(out), "-f", "json", "--", *app)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["spans"], data["saved"]["log_records"], data["saved"]["data_points"]) == (6, 4, 3)
    assert by_signal(list(read_all([str(out)]))) == EXPECTED


def test_the_live_view_has_a_genai_metrics_panel(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "-f", "live", "--", *app, env={"MODE": "http", "COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    screen = result.stdout
    assert "GenAI metrics" in screen
    (row,) = [line for line in screen.splitlines() if line.startswith("gpt-4o ")]
    # 2 calls, 2 x 1200 input and 2 x 300 output tokens, 0.50 s each, no errors
    assert row.split() == ["gpt-4o", "2", "2,400", "600", "0.50s", "0%"]


def test_metrics_board_counts_calls_tokens_latency_and_errors() -> None:
    from otelcli.genai.usage_metric import MetricsBoard

    run = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
    board = MetricsBoard()
    for batch in read_all([str(run / "openai-v2-2.4b0-default" / "metrics.jsonl")]):
        if isinstance(batch, ExportMetricsServiceRequest):
            board.add_batch(batch)
    mini = board.by_model()["gpt-4o-mini"]
    # truth.json: 6 gpt-4o-mini calls, 2 of them errors (429, 500)
    assert (mini.calls, mini.errors, mini.input_tokens, mini.output_tokens) == (6, 2, 2604, 35)
