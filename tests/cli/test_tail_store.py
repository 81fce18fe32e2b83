"""`tail --save STORE` / `capture -o STORE`: a receiving session kept as a ClickHouse trace store.

The real CLI as a subprocess, the real OTel SDK exporter posting over loopback HTTP, real
signals, then the store read back by another otelcli process (`stats --from`). A failing store
(a loopback ClickHouse server whose table went away, one refusing the password, a directory
that cannot be made) refuses batches instead of acknowledging them, and exits 7."""

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
from tests.cli.test_session_save import Session  # noqa: E402
from tests.conftest import CliResult, make_request  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., CliResult]
PASSWORD = "s3cret-store-pass"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []

    def start(args: list[str]) -> Session:
        started.append(Session(args, tmp_path))
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


@pytest.mark.parametrize(
    ("command", "sig", "table"),
    [
        ("tail", signal.SIGINT, None),
        ("tail", signal.SIGTERM, "llm_spans"),
        ("capture", signal.SIGTERM, None),
    ],
)
def test_every_span_the_sdk_sent_is_in_the_store_after_a_signal(
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
    assert export_with_sdk(running.url, 1300)  # the SDK sends 512-span batches
    logs = httpx.post(
        running.url.replace("/v1/traces", "/v1/logs"),
        content=logs_request(2).SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )
    assert logs.status_code == 200
    assert running.stop(sig) == 0
    said = "".join(running.lines)
    if command == "tail":
        assert "received 1,300 spans in 3 batches" in said, said
        assert f"saved 1,300 spans in 3 batches to chdb:{tmp_path / 'store'}" in said
        assert f"(table {table or 'otel_traces'})" in said
        assert "not saved to a store yet: 2 log records, 0 data points" in said
    stats = store_stats(f"chdb:{tmp_path / 'store'}", table or "otel_traces")
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
    source = tmp_path / "run.jsonl"
    with open_writer(str(source)) as writer:
        for n in range(5):
            writer.write(make_request(3, trace_byte=n + 1))
    store = tmp_path / "store"
    result = cli("tail", "--file", str(source), "--save", f"chdb:{store}", "-f", "ndjson")
    assert result.exit_code == 0, result.stderr
    assert "saved 15 spans in 5 batches" in result.stderr
    assert store_stats(f"chdb:{store}")["spans"] == 15


def test_a_failing_insert_is_refused_never_acknowledged_and_exits_7(
    session: Callable[..., Session],
) -> None:
    pytest.importorskip("clickhouse_connect")
    from tests.clickhouse_server import fake_clickhouse

    with fake_clickhouse() as (port, server):
        url = f"clickhouse://alice:{PASSWORD}@127.0.0.1:{port}/default"
        running = session(["tail", "--save", url, "-f", "ndjson"])
        assert running.post(2, trace_byte=1).status_code == 200
        with server.lock:  # the table goes away under the session
            server.session.query("DROP TABLE otel_traces")
        refused = running.post(3, trace_byte=2)
        assert refused.status_code == 503 and refused.headers.get("retry-after")
        warning = running.wait_for(lambda line: line.startswith("warning: "))
        assert f"cannot save to clickhouse://127.0.0.1:{port}/default" in warning
        assert "503" in warning
        assert running.stop(signal.SIGTERM) == 7
        inserts = [q for q in server.queries if "INSERT INTO otel_traces" in q]
        assert len(inserts) == 2  # the failed one was tried once, nothing after
    said = "".join(running.lines)
    assert "received 2 spans in 1 batches" in said, said
    assert "saved 2 spans in 1 batches" in said
    assert "could not save 1 batches (3 spans), refused so that senders retry" in said
    assert PASSWORD not in said
    assert "Traceback" not in said


def test_a_store_that_refuses_the_password_is_one_line_and_exit_7(cli: Cli) -> None:
    pytest.importorskip("clickhouse_connect")
    from tests.clickhouse_server import fake_clickhouse

    with fake_clickhouse(refuse_auth=True) as (port, _):
        url = f"clickhouse://alice:{PASSWORD}@127.0.0.1:{port}/default"
        result = cli("tail", "--save", url, "--no-grpc", "--listen", "127.0.0.1:0", "-f", "ndjson")
    assert result.exit_code == 7, result.stderr
    said = result.stderr + result.stdout
    assert "cannot save to" in said and "authentication failed" in said
    assert PASSWORD not in said
    assert "saved" not in said.replace("cannot save", "")


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
