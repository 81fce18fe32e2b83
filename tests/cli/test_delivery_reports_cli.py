"""What send, replay and portkey say about a delivery, through the real app into loopback
receivers: the backend's own words on failure, every span accounted for, pacing per span,
preset-specific hints and checks made before anything is sent."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.otlp.spans import count_spans
from tests.conftest import CliResult
from tests.receiver import Received, RecordingReceiver, Reply

Cli = Callable[..., CliResult]
Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
OPENLIT = str(RUNS / "openlit" / "traces.jsonl")
MLFLOW_422 = (
    b'{"detail": "Missing required header x-mlflow-experiment-id (key sk-live-0123456789).'
    b'\\nSee https://mlflow.org/docs for the tracing setup."}'
)


def mlflow(received: Received, index: int) -> Reply:
    return Reply(422, headers={"content-type": "application/json"}, body=MLFLOW_422)


@pytest.mark.parametrize(
    "args",
    [["send"], ["send", "--count", "40"], ["replay", OPENLIT]],
    ids=["send", "load", "replay"],
)
def test_failure_shows_the_first_line_of_the_backend_body(
    cli: Cli, scripted_receiver: Start, args: list[str]
) -> None:
    receiver = scripted_receiver(mlflow)
    key = "sk-live-0123456789"
    # the key is a secret otelcli knows (a header it sends): echoed back, it is masked
    common = ["-e", receiver.base_url, "-H", f"x-api-key: {key}"]
    table = cli("--no-color", *args, *common, "-f", "table")
    assert table.exit_code == 4
    said = "Missing required header x-mlflow-experiment-id"
    assert f"HTTP 422: {said}" in table.stderr.splitlines()[0]
    assert "See https://mlflow.org" not in table.stderr + table.stdout  # the first line only
    assert key not in table.stderr + table.stdout
    report = json.loads(cli(*args, *common, "-f", "json").stdout)
    error = report.get("error") or report.get("delivery", report)["errors"][0]
    assert said in error["message"] and key not in json.dumps(report)


def test_send_table_has_a_row_per_outcome(cli: Cli, scripted_receiver: Start) -> None:
    receiver = scripted_receiver(mlflow)
    table = cli("--no-color", "send", "-e", receiver.base_url, "-f", "table")
    rows = dict(line.split(None, 1) for line in table.stdout.splitlines() if line.strip())
    assert rows["offered"].strip() == "4" and rows["failed"].strip() == "4"
    assert rows["accepted"].strip() == rows["rejected"].strip() == "0"


def test_retries_say_what_the_server_said_once(cli: Cli, scripted_receiver: Start) -> None:
    def busy(received: Received, index: int) -> Reply:
        return Reply(503, headers={"retry-after": "0"}, message="collector overloaded")

    receiver = scripted_receiver(busy)
    result = cli("--no-color", "send", "-e", receiver.base_url, "--timeout", "3", "-f", "table")
    assert result.exit_code == 5 and len(receiver.requests) > 1  # it did retry
    assert result.stdout.count("collector overloaded") == 1, result.stdout


def test_rate_paces_per_span_and_runs_for_the_duration(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    result = cli("send", "-e", receiver.base_url, "--rate", "40", "--duration", "1", "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    per_trace = report["spans_per_trace"]
    sizes = [count_spans(r.request) for r in receiver.requests if r.request]
    assert max(sizes) <= max(per_trace, 4)  # 0.1 s worth of spans per request at 40/s
    assert sum(sizes) == report["accepted"] == math.ceil(40 / per_trace) * per_trace
    assert report["elapsed_s"] >= 0.9  # the last request waited for its time


def test_rate_zero_is_a_usage_error_with_a_hint(cli: Cli) -> None:
    result = cli("send", "--rate", "0", "--count", "10", "-f", "json")
    assert result.exit_code == 2
    assert "as fast as possible" in json.loads(result.stdout)["error"]["hint"]


def test_preset_401_hint_names_the_preset_variables(cli: Cli, scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda received, index: Reply(401))
    env = {"PORTKEY_API_KEY": "pk-wrong", "PORTKEY_BASE_URL": receiver.base_url}
    result = cli("send", "--to", "portkey", "-f", "json", env=env)
    assert result.exit_code == 4
    hint = json.loads(result.stdout)["error"]["hint"]
    assert "PORTKEY_API_KEY" in hint and "not used with a preset" in hint
    plain = cli("send", "-e", receiver.base_url, "-f", "json")
    assert "OTEL_EXPORTER_OTLP_HEADERS" in json.loads(plain.stdout)["error"]["hint"]


def test_phoenix_says_it_takes_protobuf_before_sending(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    env = {"PHOENIX_COLLECTOR_ENDPOINT": receiver.base_url}
    result = cli("send", "--to", "phoenix", "--protocol", "http/json", "-f", "json", env=env)
    assert result.exit_code == 2 and receiver.requests == []
    error = json.loads(result.stdout)["error"]
    assert "phoenix takes http/protobuf only" in error["message"]
    assert cli("send", "--to", "phoenix", "-f", "json", env=env).exit_code == 0


def test_span_duration_never_ends_a_span_in_the_future(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    args = ["send", "-e", receiver.base_url, "--name", "build", "-f", "json"]
    future = cli(*args, "--start", "now", "--span-duration", "5s")
    assert future.exit_code == 2 and receiver.requests == []
    assert "in the future" in json.loads(future.stdout)["error"]["message"]
    assert cli(*args, "--span-duration", "5s").exit_code == 0  # ends now, started 5 s ago
