"""`tail --save STORE` / `capture -o STORE`: a receiving session kept as a ClickHouse trace store.

The real CLI as a subprocess, the real OTel SDK exporters (traces, logs, metrics) posting
over loopback HTTP, real signals, then the store read back by other processes (chDB's row
counts per table, `stats --from`). A store failing
while saving (a loopback ClickHouse server whose tables went away) refuses batches instead
of acknowledging them, and exits 7; one that cannot be opened fails as `cost --from` does
on it (a refused password: exit 4), or exits 7 when it cannot be written (a directory that
cannot be made)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("chdb")

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
)

from otelcli.otlp.writer import open_writer  # noqa: E402
from otelcli.store.schema import METRICS_TABLES  # noqa: E402
from tests.cli.test_session_save import Session  # noqa: E402
from tests.conftest import CliResult, make_request  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., CliResult]
PASSWORD = "s3cret-store-pass"
CORPUS_METRICS = REPO / "tests/data/corpus/runs/openai-v2-2.4b0-default/metrics.jsonl"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []

    def start(args: list[str], grpc: bool = False) -> Session:
        started.append(Session(args, tmp_path, grpc=grpc))
        return started[-1]

    yield start
    for one in started:
        one.kill()


def store_stats(store: str, table: str = "otel_traces") -> dict[str, object]:
    """The store as another otelcli process reads it (chDB: one session per process)."""
    done = subprocess.run(
        [sys.executable, "-m", "otelcli", "stats", "--from", store, "--table", table, "-f", "json"],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    stats: dict[str, object] = json.loads(done.stdout)
    return stats


def export_with_sdk(url: str, spans: int) -> bool:
    """`spans` spans through the OTel SDK's OTLP/HTTP exporter; True once all were accepted."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "chatbot"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    tracer = provider.get_tracer("app")
    for n in range(spans):
        with tracer.start_as_current_span(f"chat {n % 3}") as span:
            span.set_attribute("gen_ai.request.model", "gpt-4o")
    flushed = provider.force_flush(30_000)
    provider.shutdown()
    return flushed


def logs_request(records: int) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for n in range(records):
        scope.log_records.add(time_unix_nano=1_700_000_000_000_000_000 + n).body.string_value = "x"
    return request


def post_logs(session: Session, records: int) -> httpx.Response:
    return httpx.post(
        session.url.replace("/v1/traces", "/v1/logs"),
        content=logs_request(records).SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )


def export_logs_with_sdk(base_url: str, records: int) -> bool:
    """`records` log records through the OTel SDK's OTLP/HTTP log exporter, one request each."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    provider = LoggerProvider(resource=Resource.create({"service.name": "chatbot"}))
    exporter = OTLPLogExporter(endpoint=f"{base_url}/v1/logs")
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("app")
    for n in range(records):
        logger.emit(
            LogRecord(
                body={"content": f"turn {n}"},
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                attributes={"gen_ai.provider.name": "openai"},
            )
        )
    flushed = provider.force_flush(30_000)
    provider.shutdown()
    return flushed


def export_metrics_with_sdk(base_url: str) -> dict[str, int]:
    """Gauge, sum, histogram and exponential-histogram points collected once and posted by
    the OTel SDK's OTLP/HTTP metric exporter; the points sent per store table."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        Gauge,
        Histogram,
        InMemoryMetricReader,
        MetricExportResult,
        Sum,
    )
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader()
    exponential = View(
        instrument_name="gen_ai.client.operation.duration",
        aggregation=ExponentialBucketHistogramAggregation(),
    )
    provider = MeterProvider(
        resource=Resource.create({"service.name": "chatbot"}),
        metric_readers=[reader],
        views=[exponential],
    )
    meter = provider.get_meter("app")
    tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
    calls = meter.create_counter("llm.calls")
    queue = meter.create_gauge("llm.queue.depth")
    for model in ("gpt-4o", "gpt-4o-mini", "o3"):
        attrs = {"gen_ai.request.model": model}
        tokens.record(1200, {**attrs, "gen_ai.token.type": "input"})
        tokens.record(300, {**attrs, "gen_ai.token.type": "output"})
        duration.record(0.5, attrs)
        calls.add(1, attrs)
        queue.set(3, attrs)
    data = reader.get_metrics_data()
    assert data is not None
    kinds = {Gauge: "gauge", Sum: "sum", Histogram: "histogram"}
    sent = {METRICS_TABLES[kind]: 0 for kind in (*kinds.values(), "exponential_histogram")}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = kinds.get(type(metric.data), "exponential_histogram")
                sent[METRICS_TABLES[kind]] += len(metric.data.data_points)
    exporter = OTLPMetricExporter(endpoint=f"{base_url}/v1/metrics")
    assert exporter.export(data) is MetricExportResult.SUCCESS
    provider.shutdown()
    return sent


def table_rows(path: Path) -> dict[str, int]:
    """Rows per table of a chDB store, counted by chDB in another process."""
    script = (
        "import json, sys\n"
        "from chdb import session\n"
        "s = session.Session(sys.argv[1])\n"
        "def rows(sql):\n"
        "    return json.loads(s.query(sql, 'JSONCompact').bytes())['data']\n"
        "names = [r[0] for r in rows('SELECT name FROM system.tables"
        " WHERE database = currentDatabase() AND NOT match(name, \\'_trace_id_ts(_mv)?$\\')')]\n"
        "print(json.dumps({n: int(rows(f'SELECT count() FROM {n}')[0][0]) for n in names}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    counts: dict[str, int] = json.loads(done.stdout)
    return counts


@pytest.mark.parametrize(
    ("command", "sig", "table"),
    [
        ("tail", signal.SIGINT, None),
        ("tail", signal.SIGTERM, "llm_spans"),
        ("capture", signal.SIGTERM, None),
    ],
)
def test_every_record_the_sdk_sent_is_in_the_store_after_a_signal(
    session: Callable[..., Session],
    tmp_path: Path,
    command: str,
    sig: int,
    table: str | None,
) -> None:
    flag = "--save" if command == "tail" else "-o"
    args = [command, flag, "chdb:store"] + (["-f", "ndjson"] if command == "tail" else [])
    args += ["--table", table] if table else []
    running = session(args)
    base_url = running.url.removesuffix("/v1/traces")
    assert export_with_sdk(running.url, 1300)  # the SDK sends 512-span batches
    assert export_logs_with_sdk(base_url, 7)
    points = export_metrics_with_sdk(base_url)
    assert all(points.values()), points  # a point of every kind the SDK makes
    assert running.stop(sig) == 0
    said = "".join(running.lines)
    traces = table or "otel_traces"
    if command == "tail":
        total = sum(points.values())
        assert "received 1,300 spans in 3 batches" in said, said
        assert f", 7 log records, {total} metric data points" in said
        assert (
            f"saved 1,300 spans, 7 log records, {total} data points in 11 batches "
            f"to chdb:{tmp_path / 'store'} (table {traces})" in said
        ), said
        assert "could not save" not in said
    assert table_rows(tmp_path / "store") == {
        traces: 1300,
        "otel_logs": 7,
        **points,
        "otel_metrics_summary": 0,  # the exporter makes all five; the SDK has no summaries
    }
    stats = store_stats(f"chdb:{tmp_path / 'store'}", traces)
    assert stats["spans"] == 1300
    assert stats["services"] == {"chatbot": 1300}
    assert "Traceback" not in said


def test_capture_to_a_store_reports_it_as_json(cli: Cli, tmp_path: Path) -> None:
    store = tmp_path / "store"
    app = tmp_path / "app.py"
    app.write_text(
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from opentelemetry.sdk.trace.export import SimpleSpanProcessor\n"
        "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n"
        "p = TracerProvider()\n"
        "p.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))\n"
        "for n in range(4):\n"
        "    with p.get_tracer('app').start_as_current_span(f'step {n}'):\n"
        "        pass\n"
        "p.shutdown()\n"
    )
    result = cli(
        "capture", "-o", f"chdb:{store}", "--no-grpc", "-f", "json", "--", sys.executable, str(app)
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["spans"] == report["saved"]["spans"] == 4
    assert report["saved"]["batches"] == report["batches"] == 4  # one request a span
    assert report["saved"]["path"] == f"chdb:{store}"
    assert report["saved"]["refused_spans"] == 0 and report["saved"]["error"] is None
    assert store_stats(f"chdb:{store}")["spans"] == 4


def test_a_file_read_with_tail_is_inserted_into_the_store(cli: Cli, tmp_path: Path) -> None:
    from otelcli.otlp.reader import read_all
    from otelcli.otlp.signals import Signal, count_records, signal_of

    metrics = [b for b in read_all([str(CORPUS_METRICS)]) if signal_of(b) is Signal.METRICS]
    source = tmp_path / "run.jsonl"
    with open_writer(str(source)) as writer:
        for n in range(5):
            writer.write(make_request(3, trace_byte=n + 1))
        writer.write(logs_request(4))
        for batch in metrics:
            writer.write(batch)
    points = sum(count_records(b) for b in metrics)
    store = tmp_path / "store"
    result = cli("tail", "--file", str(source), "--save", f"chdb:{store}", "-f", "ndjson")
    assert result.exit_code == 0, result.stderr
    assert f"saved 15 spans, 4 log records, {points} data points in" in result.stderr
    counts = table_rows(store)
    assert (counts["otel_traces"], counts["otel_logs"]) == (15, 4)
    assert sum(n for t, n in counts.items() if t.startswith("otel_metrics_")) == points > 0
    assert store_stats(f"chdb:{store}")["spans"] == 15


def test_a_failing_insert_is_refused_never_acknowledged_and_exits_7(
    session: Callable[..., Session],
) -> None:
    pytest.importorskip("clickhouse_connect")
    from tests.clickhouse_server import fake_clickhouse

    def rows(table: str) -> int:
        with server.lock:
            return int(server.session.query(f"SELECT count() FROM {table}", "CSV").bytes())

    with fake_clickhouse() as (port, server):
        url = f"clickhouse://alice:{PASSWORD}@127.0.0.1:{port}/default"
        running = session(["tail", "--save", url, "-f", "ndjson"])
        assert running.post(2, trace_byte=1).status_code == 200
        assert rows("otel_traces") == 2  # in the table before the sender was answered
        assert post_logs(running, 2).status_code == 200
        assert rows("otel_logs") == 2  # made on first use, inserted before the 200
        with server.lock:  # the tables go away under the session
            server.session.query("DROP TABLE otel_traces")
            server.session.query("DROP TABLE otel_logs")
        refused = running.post(3, trace_byte=2)
        assert refused.status_code == 503 and refused.headers.get("retry-after")
        warning = running.wait_for(lambda line: line.startswith("warning: "))
        assert f"cannot save to clickhouse://127.0.0.1:{port}/default" in warning
        assert "503" in warning
        assert post_logs(running, 3).status_code == 503
        assert running.stop(signal.SIGTERM) == 7
        inserts = [q for q in server.queries if "INSERT INTO otel_traces" in q]
        assert len(inserts) == 2  # the failed one was tried once, nothing after
        assert len([q for q in server.queries if "INSERT INTO otel_logs" in q]) == 2
    said = "".join(running.lines)
    # per signal: received (the receiver's count) = saved + not saved
    assert "received 5 spans in 2 batches" in said, said
    assert ", 5 log records" in said
    assert "saved 2 spans, 2 log records, 0 data points in 2 batches" in said
    assert (
        "could not save 2 batches (3 spans, 3 log records, 0 data points), "
        "refused so that senders retry: cannot save to" in said
    )
    assert PASSWORD not in said
    assert "Traceback" not in said


def test_over_grpc_log_records_are_inserted_before_ok_and_refused_unavailable(
    session: Callable[..., Session],
) -> None:
    grpc = pytest.importorskip("grpc")
    pytest.importorskip("clickhouse_connect")
    from tests.clickhouse_server import fake_clickhouse

    def rows() -> int:
        with server.lock:
            return int(server.session.query("SELECT count() FROM otel_logs", "CSV").bytes())

    with fake_clickhouse() as (port, server):
        url = f"clickhouse://127.0.0.1:{port}/default"
        running = session(["tail", "--save", url, "-f", "ndjson"], grpc=True)
        assert running.grpc_target is not None
        channel = grpc.insecure_channel(running.grpc_target)
        export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
        try:
            export(logs_request(4).SerializeToString(), timeout=30)
            assert rows() == 4  # in the table before the OK
            with server.lock:
                server.session.query("DROP TABLE otel_logs")
            with pytest.raises(grpc.RpcError) as refused:
                export(logs_request(3).SerializeToString(), timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            channel.close()
        assert running.stop(signal.SIGTERM) == 7
    said = "".join(running.lines)
    assert ", 7 log records" in said, said  # received = saved + not saved
    assert "saved 0 spans, 4 log records, 0 data points in 1 batches" in said
    assert "could not save 1 batches (0 spans, 3 log records, 0 data points)" in said
    assert "Traceback" not in said


@pytest.mark.parametrize("command", ["tail", "capture"])
def test_a_store_that_refuses_the_password_fails_as_the_from_commands_do(
    cli: Cli, command: str
) -> None:
    pytest.importorskip("clickhouse_connect")
    from tests.clickhouse_server import fake_clickhouse

    flag = "--save" if command == "tail" else "-o"
    with fake_clickhouse(refuse_auth=True) as (port, _):
        url = f"clickhouse://alice:{PASSWORD}@127.0.0.1:{port}/default"
        result = cli(command, flag, url, "--no-grpc", "--listen", "127.0.0.1:0", "-f", "json")
        reading = cli("cost", "--from", url, "-f", "json")
    assert reading.exit_code == 4, reading.stderr
    assert result.exit_code == 4, result.stderr  # a refused password, not a failed save (7)
    error = json.loads(result.stdout)["error"]
    assert error == json.loads(reading.stdout)["error"]
    assert error["code"] == "store_auth" and "authentication failed" in error["message"]
    said = result.stderr + result.stdout
    assert PASSWORD not in said
    assert "saved" not in said


def test_a_store_directory_that_cannot_be_made_is_one_line_and_exit_7(
    cli: Cli, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = f"chdb:{blocker / 'store'}"
    result = cli("tail", "--save", target, "--no-grpc", "--listen", "127.0.0.1:0", "-f", "ndjson")
    assert result.exit_code == 7, result.stderr
    said = result.stderr + result.stdout
    assert f"cannot save to {target}: Not a directory" in said
    assert len([line for line in said.splitlines() if line.strip()]) <= 2  # error and hint


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tail", "--save", "run.jsonl", "--table", "spans"], "--table applies to a store"),
        (["tail", "--save", "chdb:st", "--table", "bad-name"], "not a plain identifier"),
        (["capture", "-o", "chdb:st", "--to-format", "pb"], "--to-format applies to a file"),
    ],
)
def test_store_options_that_do_not_fit_are_usage_errors(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(*args, "--run-for", "0", "--no-grpc", "--listen", "127.0.0.1:0")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []
