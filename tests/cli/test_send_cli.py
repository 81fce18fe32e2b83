"""`otelcli send` through the real app into loopback receivers."""

from __future__ import annotations

import json
import math
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.genai.scenarios.build import build_scenario
from otelcli.genai.scenarios.catalog import DIALECTS, SCENARIOS
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import count_spans, iter_spans
from tests.conftest import CliResult
from tests.receiver import Received, RecordingReceiver, Reply

Cli = Callable[..., CliResult]
Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]


def received_spans(receiver: RecordingReceiver) -> list:  # type: ignore[type-arg]
    return [s for r in receiver.requests if r.request for s in iter_spans(r.request)]


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_scenario_in_every_dialect_arrives_intact(
    cli: Cli, receiver: RecordingReceiver, scenario: str, dialect: str
) -> None:
    result = cli(
        "send",
        "-e",
        receiver.base_url,
        "--scenario",
        scenario,
        "--dialect",
        dialect,
        "--seed",
        "11",
        "--content",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    expected = list(iter_spans(build_scenario(scenario, dialect=dialect, seed=11, content=True)))
    got = received_spans(receiver)
    assert summary["accepted"] == summary["spans"] == len(expected) == len(got)
    assert summary["trace_ids"] == sorted({s.trace_id for s in got})
    for sent, want in zip(
        sorted(got, key=lambda s: s.span_id), sorted(expected, key=lambda s: s.span_id), strict=True
    ):
        assert (sent.name, sent.kind, sent.status_code) == (want.name, want.kind, want.status_code)
        assert sent.parent_span_id == want.parent_span_id
        assert sent.attributes == want.attributes  # attribute by attribute
        assert sent.resource_attributes["service.name"] == "otelcli-demo"


def test_default_send_reports_what_happened(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli(
        "send", "-e", receiver.base_url, "-H", "Authorization: Bearer s3cret", "-f", "json"
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 0
    assert summary["status"] == 200 and summary["rejected"] == 0 and summary["failed"] == 0
    assert summary["endpoint"] == receiver.url and len(summary["trace_ids"]) == 1
    names = sorted(s.name for s in received_spans(receiver))
    assert any(n.startswith("invoke_agent") for n in names)
    assert any(n.startswith("execute_tool") for n in names)
    assert receiver.requests[0].headers["authorization"] == "Bearer s3cret"
    assert "s3cret" not in result.stdout + result.stderr


def test_env_resource_and_service(cli: Cli, receiver: RecordingReceiver) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url,
        "OTEL_SERVICE_NAME": "checkout",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=staging",
    }
    result = cli("send", "--scenario", "chat", "--resource-attr", "team=ml", env=env)
    assert result.exit_code == 0
    span = received_spans(receiver)[0]
    assert span.resource_attributes["service.name"] == "checkout"
    assert span.resource_attributes["deployment.environment.name"] == "staging"
    assert span.resource_attributes["team"] == "ml"


def test_hand_built_span_and_traceparent_chaining(cli: Cli, receiver: RecordingReceiver) -> None:
    first = cli(
        "send",
        "-e",
        receiver.base_url,
        "--name",
        "build",
        "--kind",
        "internal",
        "--attr",
        "n=3",
        "--attr",
        "ratio=0.5",
        "--attr",
        "ok=true",
        "--attr",
        'tags=["a","b"]',
        "--attr",
        "id:str=42",
        "--status",
        "error",
        "--status-message",
        "failed",
        "--span-duration",
        "1.5s",
        "--print-traceparent",
    )
    assert first.exit_code == 0, first.stderr
    traceparent = first.stdout.strip()
    assert traceparent.startswith("00-") and len(traceparent) == 55
    second = cli(
        "send", "-e", receiver.base_url, "--name", "deploy", env={"TRACEPARENT": traceparent}
    )
    assert second.exit_code == 0
    build, deploy = received_spans(receiver)
    assert build.attributes == {"n": 3, "ratio": 0.5, "ok": True, "tags": ["a", "b"], "id": "42"}
    assert (build.kind_name, build.status_code, build.status_message) == ("INTERNAL", 2, "failed")
    assert build.duration_ns == 1_500_000_000
    assert deploy.trace_id == build.trace_id and deploy.parent_span_id == build.span_id
    assert traceparent == f"00-{build.trace_id}-{build.span_id}-01"


def test_load_report_adds_up(cli: Cli, scripted_receiver: Start) -> None:
    def flaky(received: Received, index: int) -> Reply:
        if index % 9 == 4:
            return Reply(503)
        if index % 10 == 7:
            return Reply(rejected=3, message="3 spans dropped")
        return Reply()

    receiver = scripted_receiver(flaky)
    result = cli(
        "send",
        "-e",
        receiver.base_url,
        "--count",
        "5000",
        "--batch-size",
        "100",
        "--concurrency",
        "3",
        "-f",
        "json",
    )
    report = json.loads(result.stdout)
    spans_per_trace = report["spans_per_trace"]
    assert report["offered"] == math.ceil(5000 / spans_per_trace) * spans_per_trace
    assert report["offered"] == report["accepted"] + report["rejected"] + report["failed"]
    assert report["rejected"] > 0 and report["retries"] > 0
    assert result.exit_code == 4  # partial success is reported as rejected
    assert set(report["latency"]) == {"p50_ms", "p95_ms", "p99_ms", "max_ms"}
    delivered = sum(
        count_spans(r.request) for r in receiver.requests if r.request and r.headers
    )  # every attempt recorded
    assert delivered >= report["accepted"]


def test_load_with_rate_and_duration(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli(
        "send",
        "-e",
        receiver.base_url,
        "--scenario",
        "chat",
        "--rate",
        "400",
        "--duration",
        "0.5",
        "--batch-size",
        "50",
        "-f",
        "json",
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert report["accepted"] == 200 == len(received_spans(receiver))  # rate x duration
    assert report["elapsed_s"] >= 0.3


@pytest.mark.parametrize("name", ["agent.jsonl", "agent.pb", "agent.lp.gz"])
def test_dry_run_writes_batches(cli: Cli, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    result = cli("send", "--dry-run", "-o", str(out), "--count", "400", "--seed", "3", "-f", "json")
    assert result.exit_code == 0, result.stdout
    assert sum(count_spans(b) for b in read_batches([str(out)])) == 400
    single = tmp_path / ("one-" + name)
    cli("send", "--dry-run", "-o", str(single), "--seed", "3")
    spans = [s for b in read_batches([str(single)]) for s in iter_spans(b)]
    assert len(spans) == 4 and len({s.trace_id for s in spans}) == 1


def test_unreachable_endpoint_fails_fast_with_a_hint(cli: Cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("send", "-e", f"http://127.0.0.1:{port}", "--timeout", "1", "-f", "json")
    assert result.exit_code == 6
    summary = json.loads(result.stdout)
    assert summary["error"]["code"] == "network_error" and summary["error"]["hint"]
    assert summary["failed"] == summary["spans"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "scenario"),
        (["--dialect", "klingon"], "dialect"),
        (["--name", "x", "--attr", "novalue"], "novalue"),
        (["--name", "x", "--traceparent", "00-xyz"], "traceparent"),
        (["--attr", "a=1"], "--name"),
        (["--dry-run"], "--output"),
    ],
)
def test_usage_errors(cli: Cli, args: list[str], message: str) -> None:
    if "--dry-run" not in args:
        args = ["--dry-run", "-o", "-", *args]
    result = cli("send", *args, "-f", "json")
    assert result.exit_code == 2, result.stdout
    assert message.lower() in result.stdout.lower()


def test_debug_shows_redacted_request_details(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli(
        "--debug",
        "send",
        "-e",
        receiver.base_url,
        "-H",
        "x-api-key: topsecret",
        "--scenario",
        "chat",
        "-f",
        "json",
    )
    assert result.exit_code == 0
    assert "POST " + receiver.url in result.stderr
    assert "'x-api-key': '***'" in result.stderr
    assert "topsecret" not in result.stderr + result.stdout


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_load_and_the_counts_still_add_up(
    scripted_receiver: Start, signum: int, exit_code: int
) -> None:
    import subprocess
    import sys
    import threading

    seen = threading.Event()

    def script(received: Received, index: int) -> Reply:
        if index >= 3:
            seen.set()
        return Reply()

    receiver = scripted_receiver(script)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otelcli",
            "send",
            "-e",
            receiver.base_url,
            "--count",
            "100000",
            "--rate",
            "2000",
            "--batch-size",
            "100",
            "-f",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert seen.wait(60), "the load never reached the endpoint"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_code, stderr
    report = json.loads(stdout)
    assert report["interrupted"] is True and report["signal"] == signal.Signals(signum).name
    # offered counts what was sent (README); what the stop left unsent is counted apart
    assert report["offered"] == (
        report["accepted"] + report["rejected"] + report["failed"] + report["unknown"]
    )
    assert report["taken"] == report["offered"] + report["not_sent"]
    assert report["adds_up"] and report["taken"] < 100000
    assert report["accepted"] == len(received_spans(receiver))
    assert "Traceback" not in stderr


@pytest.mark.parametrize("content", [False, True])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_semconv_scenarios_pass_validate_and_are_priced(
    cli: Cli, tmp_path: Path, scenario: str, content: bool
) -> None:
    capture = tmp_path / "sent.jsonl"
    args = ["send", "--scenario", scenario, "--seed", "5", "--dry-run", "-o", str(capture)]
    assert cli(*args, *(["--content"] if content else [])).exit_code == 0
    checked = cli("validate", str(capture), "--format", "json")
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["summary"]["by_level"]["violation"] == 0
    priced = json.loads(cli("cost", str(capture), "--format", "json").stdout)
    assert priced["unknown_models"] == []
    if scenario != "error":  # a 429 carries no usage
        assert float(priced["total"]["usd"]["total"]) > 0
        assert priced["total"]["priced_spans"] > 0


@pytest.mark.parametrize("load", [False, True])
def test_dry_run_to_stdout_is_data_only_and_pipes_into_validate(cli: Cli, load: bool) -> None:
    """`send --dry-run -o - | otelcli validate -`: the report goes to stderr, not into the data."""
    extra = ["--count", "8"] if load else []
    sent = cli("send", "--dry-run", "-o", "-", "--seed", "3", *extra, "-f", "json")
    assert sent.exit_code == 0, sent.stderr
    assert all(json.loads(line).get("resourceSpans") for line in sent.stdout.splitlines())
    assert json.loads(sent.stderr)["spans"] >= 4  # the report, on stderr
    checked = cli("validate", "-", "-f", "json", input=sent.stdout)
    assert checked.exit_code == 0, checked.stdout
    assert json.loads(checked.stdout)["summary"]["spans"] >= 4
