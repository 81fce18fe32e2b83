"""`otelcli tail` and `otelcli capture` through the real app, with a real SDK application as
the command after `--` (the OTel Python SDK's OTLP/HTTP exporter, configured only by the
environment the command gets)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.genai.pricing.cost import price_call
from otelcli.genai.pricing.table import load_table
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import open_writer
from otelcli.transport.receiver import Receiver
from tests.conftest import CliResult, make_request
from tests.receiver import RecordingReceiver

Cli = Callable[..., CliResult]

APP = """
import os, sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.trace import Status, StatusCode

provider = TracerProvider(resource=Resource.create({"service.name": "chatbot"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("app")
for turn in range(int(os.environ.get("TURNS", "2"))):
    with tracer.start_as_current_span(f"POST /chat {turn}"):
        with tracer.start_as_current_span("chat gpt-4o") as llm:
            llm.set_attributes({
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 300, "gen_ai.usage.cache_read.input_tokens": 800,
            })
        with tracer.start_as_current_span("execute_tool get_weather") as tool:
            tool.set_attributes({"gen_ai.operation.name": "execute_tool",
                                 "gen_ai.tool.name": "get_weather"})
            tool.set_status(Status(StatusCode.ERROR, "timeout"))
        with tracer.start_as_current_span("cache lookup"):
            pass
provider.shutdown()
sys.exit(int(os.environ.get("EXIT", "0")))
"""

_TURN_COST = price_call(
    load_table(use_fallback=False), "gpt-4o", 1200, 300, cached_tokens=800, provider="openai"
).total_usd
assert _TURN_COST is not None
TURN_COST: Decimal = _TURN_COST


@pytest.fixture
def app(tmp_path: Path) -> list[str]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    return [sys.executable, str(script)]


def ndjson(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_tail_ndjson_one_line_per_span(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "--format", "ndjson", "--attrs", "gen_ai.provider.name", "--", *app)
    assert result.exit_code == 0, result.stderr
    records = ndjson(result.stdout)
    assert len(records) == 8
    assert len({r["trace_id"] for r in records}) == 2
    chat = next(r for r in records if r["name"] == "chat gpt-4o")
    assert chat["service"] == "chatbot" and chat["genai"]["model"] == "gpt-4o"
    assert Decimal(chat["genai"]["cost_usd"]) == TURN_COST
    assert chat["attributes"] == {"gen_ai.provider.name": "openai"}
    assert "received 8 spans" in result.stderr and "command exited with 0" in result.stderr


def test_tail_filters_in_ndjson(cli: Cli, app: list[str]) -> None:
    errors = ndjson(cli("tail", "-f", "ndjson", "--errors", "--", *app).stdout)
    assert [r["name"] for r in errors] == ["execute_tool get_weather"] * 2
    genai = ndjson(cli("tail", "-f", "ndjson", "--genai-only", "--grep", "chat", "--", *app).stdout)
    assert {r["name"] for r in genai} == {"chat gpt-4o"}


def test_tail_tree_text(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "--format", "tree", "--", *app)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.count("✗ POST /chat") == 2  # settled, but a span failed: not ✓
    total = f"tokens in 1,200 out 300  ${TURN_COST.normalize()}"
    assert text.count(total) == 2
    assert "└── ████████████████ POST /chat 0" in text
    assert "✗ ERROR: timeout" in text and "\x1b[" not in text


def test_tail_live_format_off_terminal_prints_final_screen(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "--format", "live", "--", *app)
    assert result.exit_code == 0, result.stderr
    assert "POST /chat 1" in result.stdout and "8 spans" in result.stdout


def test_command_exit_code_is_passed_on(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "-f", "ndjson", "--", *app, env={"EXIT": "7", "TURNS": "1"})
    assert result.exit_code == 7
    assert len(ndjson(result.stdout)) == 4  # its spans still arrived


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("tail", "--", "/no/such/program")
    # piped, errors come out as JSON on stdout (the project's convention for machine modes)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["message"].startswith("cannot run")


def test_auth_token_reaches_the_command(cli: Cli, app: list[str]) -> None:
    result = cli("tail", "-f", "ndjson", "--auth-token", "t0ken", "--", *app)
    assert result.exit_code == 0, result.stderr
    assert len(ndjson(result.stdout)) == 8 and "refused" not in result.stderr


def test_save_and_forward_tee(
    cli: Cli, app: list[str], tmp_path: Path, receiver: RecordingReceiver
) -> None:
    saved = tmp_path / "run.jsonl"
    result = cli(
        "tail",
        "-f",
        "ndjson",
        "--save",
        str(saved),
        "--forward",
        receiver.base_url,
        "-H",
        "x-api-key: k",
        "--",
        *app,
    )
    assert result.exit_code == 0, result.stderr
    spans = [v for b in read_batches([str(saved)]) for v in iter_spans(b)]
    assert len(spans) == 8
    assert len(receiver.spans) == 8
    assert receiver.requests[0].headers["x-api-key"] == "k"
    assert "forwarded 8 spans" in result.stderr


def test_forward_failure_is_reported_and_the_local_copy_kept(
    cli: Cli, app: list[str], tmp_path: Path
) -> None:
    saved = tmp_path / "run.pb"
    with Receiver("127.0.0.1", 0) as gone:
        dead_url = gone.url  # a port that is closed once this block ends
    result = cli(
        "tail",
        "-f",
        "ndjson",
        "--save",
        str(saved),
        "--forward",
        dead_url,
        "--timeout",
        "1",
        "--",
        *app,
    )
    assert result.exit_code == 6  # network error, as for every sending command
    assert "8 not delivered" in result.stderr
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(saved)])) == 8


def test_forward_to_itself_is_refused(cli: Cli) -> None:
    result = cli("tail", "--listen", "127.0.0.1:4399", "--forward", "http://localhost:4399")
    assert result.exit_code == 2 and "this receiver itself" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--follow"], "--follow needs --file"),
        (["--format", "yaml"], "--format"),  # table and json are the shared names
        (["--min-duration", "soon"], "not a duration"),
        (["--grep", "("], "--grep"),
        (["--file", "x.pb", "--", "true"], "cannot be combined"),
        (["--listen", "nowhere:port"], "not a port"),
    ],
)
def test_usage_errors(cli: Cli, args: list[str], message: str) -> None:
    result = cli("tail", *args)
    assert result.exit_code == 2 and message in result.stdout + result.stderr


def test_tail_file_renders_a_capture(cli: Cli, tmp_path: Path) -> None:
    capture = tmp_path / "run.pb.gz"
    with open_writer(str(capture)) as writer:
        writer.write(make_request(3, service="checkout", trace_byte=1))
        writer.write(make_request(2, service="billing", trace_byte=7))
    result = cli("tail", "--file", str(capture), "--format", "tree", "--service", "billing")
    assert result.exit_code == 0, result.stderr
    assert "billing" in result.stdout and "checkout" not in result.stdout
    assert "received 5 spans in 1 batches from" in result.stderr  # .pb merges requests


def test_tail_file_follow(cli: Cli, tmp_path: Path) -> None:
    capture = tmp_path / "growing.jsonl"
    capture.write_bytes(b"")

    def grow() -> None:
        for n in range(3):
            time.sleep(0.2)
            with open_writer(str(tmp_path / "part.jsonl")) as writer:
                writer.write(make_request(2, trace_byte=n + 1))
            with open(capture, "ab") as handle:
                handle.write((tmp_path / "part.jsonl").read_bytes())

    writer_thread = threading.Thread(target=grow)
    writer_thread.start()
    # the parts are all written within 0.6 s; --run-for leaves a loaded machine ample slack
    # (tests/cli/test_tail_follow_signals.py follows a file by events instead)
    result = cli("tail", "--file", str(capture), "--follow", "--run-for", "6", "-f", "ndjson")
    writer_thread.join()
    assert result.exit_code == 0, result.stderr
    assert len({r["trace_id"] for r in ndjson(result.stdout)}) == 3


# -- capture -----------------------------------------------------------------------------------


def test_capture_writes_everything_the_command_sent(
    cli: Cli, app: list[str], tmp_path: Path
) -> None:
    output = tmp_path / "run.lp"
    result = cli("capture", "-o", str(output), "--format", "json", "--", *app)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["spans"] == 8 and summary["saved"]["format"] == "lp"
    assert summary["command_exit_code"] == 0
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(output)])) == 8


def test_capture_replay_validate_cost_end_to_end(cli: Cli, app: list[str], tmp_path: Path) -> None:
    run = tmp_path / "run.pb"
    assert cli("capture", "-o", str(run), "-f", "json", "--", *app).exit_code == 0

    # replay into a second receiver: the same spans arrive (with fresh ids if asked)
    replayed: list[ExportTraceServiceRequest] = []
    with Receiver("127.0.0.1", 0, on_traces=replayed.append) as target:
        result = cli("replay", str(run), "--endpoint", target.url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    names = sorted(v.name for b in replayed for v in iter_spans(b))
    original = sorted(v.name for b in read_batches([str(run)]) for v in iter_spans(b))
    assert names == original and len(names) == 8

    checked = cli("validate", str(run), "--format", "json")
    assert checked.exit_code in (0, 3), checked.stderr
    summary = json.loads(checked.stdout)["summary"]
    assert summary["spans"] == 8 and summary["genai_spans"] == 4

    cost = cli("cost", str(run), "--format", "json", "--no-fallback")
    assert cost.exit_code == 0, cost.stderr
    report = json.loads(cost.stdout)
    assert Decimal(report["total"]["usd"]["total"]) == 2 * TURN_COST


def test_sigterm_stops_cleanly_and_keeps_everything(tmp_path: Path) -> None:
    import os
    import re
    import signal
    import subprocess

    import httpx

    saved = tmp_path / "run.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otelcli",
            "tail",
            "--listen",
            "127.0.0.1:0",
            "--save",
            str(saved),
            "-f",
            "ndjson",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline().decode()
        url = re.search(r"(http://\S+)", first)
        assert url, first
        for n in range(3):
            response = httpx.post(
                url.group(1) + "/v1/traces",
                content=make_request(2, trace_byte=n + 1).SerializeToString(),
                headers={"content-type": "application/x-protobuf"},
            )
            assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "received 6 spans in 3 batches" in stderr.decode()
    assert len(stdout.decode().splitlines()) == 6
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(saved)])) == 6
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]  # no temporary file left
