"""`otelcli portkey` and `otelcli portkey headers` through the real app."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import SpanView, iter_spans
from otelcli.portkey.ids import portkey_span_id
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver, Reply

Cli = Callable[..., CliResult]
DATA = Path(__file__).parents[1] / "data" / "portkey"
HAR = str(DATA / "agent-run.har")
SECRETS = ("sk-proj-", "sk-ant-", "pk-live-", "pk-DUMP", "pk-JSONL", "CURLSECRET", "LOGSECRET")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def spans_in(path: Path) -> list[SpanView]:
    return [s for batch in read_batches([str(path)]) for s in iter_spans(batch)]


def test_convert_har_to_a_capture(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "run.pb"
    result = cli("portkey", HAR, "-o", str(out), "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["records_read"] == 5 and summary["spans_made"] == 4
    assert len(summary["orphans"]) == 1 and len(summary["skipped"]) == 1
    assert report["output"]["format"] == "pb"
    spans = spans_in(out)
    assert len(spans) == 4
    assert {s.trace_id for s in spans} == {"98b1690510df1bf21fe13018a2641b19"}
    for secret in SECRETS:
        assert secret.encode() not in out.read_bytes()
        assert secret not in result.stdout + result.stderr


def test_convert_is_the_default_subcommand(cli: Cli, tmp_path: Path) -> None:
    implicit, explicit = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert cli("portkey", HAR, "-o", str(implicit), "-f", "json").exit_code == 0
    assert cli("portkey", "convert", HAR, "-o", str(explicit), "-f", "json").exit_code == 0
    assert implicit.read_bytes() == explicit.read_bytes()  # deterministic output


def test_every_input_form_in_one_run(cli: Cli, tmp_path: Path) -> None:
    names = ["agent-run.har", "support-desk.http", "eval-run.curl", "support-bot.jsonl"]
    out = tmp_path / "all.jsonl.gz"
    args = [str(DATA / n) for n in [*names, "portkey-logs.json"]]
    result = cli("portkey", *args, "-o", str(out), "--content", "-f", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["spans_made"] == len(spans_in(out)) == 4 + 2 + 3 + 8 + 3
    assert summary["records_read"] == summary["spans_made"] + len(summary["skipped"])


def test_stdout_output_and_stdin_input(cli: Cli) -> None:
    har = Path(HAR).read_bytes()
    result = cli("portkey", "-", "-o", "-", input=har)
    assert result.exit_code == 0, result.stderr
    batches = list(read_batches(["-"], stdin=io.BytesIO(result.stdout.encode())))
    assert sum(1 for b in batches for _ in iter_spans(b)) == 4
    assert "4 spans" in result.stderr and "skipped <stdin> entry 1" in result.stderr


def test_table_preview_shows_the_tree_and_the_reasons(cli: Cli) -> None:
    result = cli("--no-color", "portkey", HAR, "-f", "table", "--span-names", "portkey")
    assert result.exit_code == 0, result.stderr
    assert "trace 98b1690510df1bf21fe13018a2641b19" in result.stdout
    lines = result.stdout.splitlines()
    planner = next(i for i, line in enumerate(lines) if "Planner" in line)
    summarise = next(i for i, line in enumerate(lines) if "Summarise" in line)
    indent = lines[summarise].index("Summarise") - lines[planner].index("Planner")
    assert summarise > planner and indent > 0  # the child is drawn under its parent
    assert "not a traced LLM request" in result.stdout
    assert "nothing written" in result.stderr


def test_nothing_convertible_is_exit_3(cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("remember to rotate keys\n")
    result = cli("portkey", str(notes), "-f", "table")
    assert result.exit_code == 3
    assert "no spans made" in result.stderr and "unrecognised input" in result.stderr


def test_bad_option_values_are_usage_errors(cli: Cli) -> None:
    assert cli("portkey", HAR, "--span-names", "fancy").exit_code == 2
    assert cli("portkey", HAR, "-o", "-", "--to-format", "xml").exit_code == 2


def test_send_to_an_endpoint(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli("portkey", HAR, "--endpoint", receiver.base_url, "-f", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["export"]["accepted"] == 4 and report["export"]["error"] is None
    assert len(receiver.spans) == 4
    for received in receiver.requests:
        for secret in SECRETS:
            assert secret.encode() not in received.body


def test_send_failure_is_reported_with_its_exit_code(cli: Cli, tmp_path: Path) -> None:
    with RecordingReceiver(lambda received, index: Reply(status=400)).running() as bad:
        result = cli("portkey", HAR, "--endpoint", bad.base_url, "-f", "json")
    assert result.exit_code == 4
    report = json.loads(result.stdout)  # one document: the report, which carries the error
    assert report["export"]["failed"] == 4
    assert report["export"]["error"]["exit_code"] == 4


def test_output_feeds_cost(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "run.pb"
    assert cli("portkey", HAR, "-o", str(out), "-f", "json").exit_code == 0
    result = cli("cost", str(out), "-f", "json")
    assert result.exit_code == 0, result.stderr
    total = json.loads(result.stdout)["total"]
    assert total["tokens"]["input"] == 1412 + 2358 + 9
    assert total["tokens"]["cache_read"] == 1024 + 2048
    assert float(total["usd"]["total"]) > 0


def test_llm_spans_pass_validate(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "run.pb"
    names = ["agent-run.har", "support-desk.http", "eval-run.curl", "portkey-logs.json"]
    converted = cli("portkey", *[str(DATA / n) for n in names], "-o", str(out), "--content")
    assert converted.exit_code == 0, converted.stderr
    result = cli("validate", str(out), "-f", "json")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_output_replays_to_an_endpoint(
    cli: Cli, tmp_path: Path, receiver: RecordingReceiver
) -> None:
    out = tmp_path / "run.jsonl"
    assert cli("portkey", HAR, "-o", str(out), "-f", "json").exit_code == 0
    result = cli("replay", str(out), "--endpoint", receiver.base_url, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert len(receiver.spans) == 4


# --- headers ----------------------------------------------------------------------------------


def test_headers_from_a_traceparent(cli: Cli) -> None:
    result = cli("portkey", "headers", "--traceparent", TRACEPARENT, "--name", "LLM Call")
    assert result.exit_code == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["x-portkey-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert lines["x-portkey-parent-span-id"] == "00f067aa0ba902b7"
    assert lines["x-portkey-span-name"] == "LLM Call"
    # A fresh 16-hex span id that Portkey keeps as it is.
    assert portkey_span_id(lines["x-portkey-span-id"]) == lines["x-portkey-span-id"]


def test_headers_read_traceparent_from_the_environment(cli: Cli) -> None:
    result = cli("portkey", "headers", "-f", "json", env={"TRACEPARENT": TRACEPARENT})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["x-portkey-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_headers_round_trip_through_convert(cli: Cli, tmp_path: Path) -> None:
    """Headers printed for a trace, sent with a request, come back as a span of that trace."""
    printed = cli(
        "portkey",
        "headers",
        "--trace-id",
        "1729",
        "--span-id",
        "11",
        "-m",
        "_user=ana",
        "-f",
        "json",
    )
    headers = json.loads(printed.stdout)
    record = {
        "headers": headers,
        "url": "https://api.portkey.ai/v1/chat/completions",
        "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    }
    capture = tmp_path / "one.jsonl"
    capture.write_text(json.dumps(record) + "\n")
    out = tmp_path / "one.json"
    assert cli("portkey", str(capture), "-o", str(out), "-f", "json").exit_code == 0
    (span,) = spans_in(out)
    assert span.trace_id == "98b1690510df1bf21fe13018a2641b19"
    assert span.span_id == "4fc82b26aecb47d2"
    assert span.attributes["user.id"] == "ana"


def test_headers_from_a_traceparent_keep_the_caller_as_parent(cli: Cli, tmp_path: Path) -> None:
    """portkey headers --traceparent, sent with a request, then converted: the span is the
    caller's child (a remote parent), not an orphan made a root."""
    printed = cli("portkey", "headers", "--traceparent", TRACEPARENT, "-f", "curl")
    assert printed.exit_code == 0, printed.stderr
    assert f"-H 'traceparent: {TRACEPARENT}'" in printed.stdout
    flags = printed.stdout.replace("\\\n", " ").strip()
    request = tmp_path / "call.curl"
    request.write_text(
        "curl https://api.portkey.ai/v1/chat/completions "
        + flags
        + """ -d '{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'\n"""
    )
    out = tmp_path / "call.json"
    report = cli("portkey", str(request), "-o", str(out), "-f", "json")
    assert report.exit_code == 0, report.stdout + report.stderr
    summary = json.loads(report.stdout)["summary"]
    assert summary["orphans"] == [] and summary["remote_parents"] == 1
    (span,) = spans_in(out)
    assert span.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent_span_id == "00f067aa0ba902b7"
    explicit = cli("portkey", "headers", "--traceparent", TRACEPARENT, "--parent-span-id", "ab")
    assert "traceparent" not in explicit.stdout  # other ids than the caller's: not repeated


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("curl", "-H 'x-portkey-span-name: LLM Call'"),
        ("env", "export PORTKEY_SPAN_NAME='LLM Call'"),
        ("headers", "x-portkey-span-name: LLM Call"),
    ],
)
def test_header_formats(cli: Cli, style: str, expected: str) -> None:
    result = cli("portkey", "headers", "--trace-id", "t", "--name", "LLM Call", "-f", style)
    assert result.exit_code == 0, result.stderr
    assert expected in result.stdout


def test_headers_usage_errors(cli: Cli) -> None:
    assert cli("portkey", "headers", "--traceparent", "00-abc-def-01").exit_code == 2
    assert cli("portkey", "headers").exit_code == 2  # no trace at all
    assert cli("portkey", "headers", "--trace-id", "t", "-f", "yaml").exit_code == 2
    assert cli("portkey", "headers", "--trace-id", "t", "-m", "novalue").exit_code == 2


def test_sigterm_while_sending_keeps_what_was_not_delivered(tmp_path: Path) -> None:
    import shutil
    import signal
    import subprocess
    import sys

    from tests.raw_server import RawServer, hold

    names = ["agent-run.har", "support-desk.http", "eval-run.curl", "support-bot.jsonl"]
    inputs = [str(shutil.copy(DATA / name, tmp_path / name)) for name in names]
    with RawServer(hold).running() as server:  # takes the first request, never answers
        process = subprocess.Popen(
            [sys.executable, "-m", "otelcli", "portkey", *inputs, "-e", server.base_url]
            + ["--timeout", "0", "-f", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.wait_for_connections(1)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 143, stderr
    sent = json.loads(stdout.splitlines()[0])["export"]
    assert sent["signal"] == "SIGTERM" and sent["accepted"] == 0
    # The one request was sent and never answered: unknown, and kept all the same.
    assert sent["spans"] == sent["unknown"] + sent["not_sent"] == 4 + 2 + 3 + 8
    assert sent["unsent_file"] == inputs[0] + ".unsent.jsonl"
    assert len(spans_in(Path(sent["unsent_file"]))) == sent["dead_lettered"] == sent["spans"]
