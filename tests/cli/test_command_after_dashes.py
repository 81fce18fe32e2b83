"""The one `-- COMMAND` parser of `capture`, `tail` and `validate`, through the real CLI, with a
real OTel SDK application as the command: everything after `--` is the command's, options
that otelcli also has (-o, -f, -c) included, and its exit code is passed on the same way."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from tests.conftest import CliResult

Cli = Callable[..., CliResult]

# The child checks that it got its own argv, sends two spans over OTLP/HTTP, and exits (or is
# killed) as told by its last argument.
CHILD = """
import os, signal, sys
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

assert sys.argv[1:4] == ["-o", "child.out", "-f"], sys.argv
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("child")
with tracer.start_as_current_span("outer"):
    with tracer.start_as_current_span("inner"):
        pass
provider.shutdown()
how = sys.argv[4]
if how == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
sys.exit(int(how))
"""


def child(exit_as: str = "0") -> list[str]:
    return [sys.executable, "-c", CHILD, "-o", "child.out", "-f", exit_as]


def otelcli_args(command: str, tmp_path: Path) -> list[str]:
    """Each command with options of its own that the child's argv repeats."""
    if command == "capture":
        return ["capture", "-o", str(tmp_path / "run.jsonl"), "-f", "json"]
    if command == "tail":
        return ["tail", "-f", "ndjson"]
    return ["validate", "-f", "json", "--fail-on", "none", "--grace", "1"]


def spans_seen(command: str, result: CliResult, tmp_path: Path) -> int:
    if command == "capture":
        assert json.loads(result.stdout)["spans"] == 2
        return sum(1 for b in read_batches([str(tmp_path / "run.jsonl")]) for _ in iter_spans(b))
    if command == "tail":
        return len([line for line in result.stdout.splitlines() if line.strip()])
    return int(json.loads(result.stdout)["summary"]["spans"])


@pytest.mark.parametrize("command", ["capture", "tail", "validate"])
def test_the_command_keeps_its_options_and_its_exit_code(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    result = cli(*otelcli_args(command, tmp_path), "--", *child("7"))
    assert result.exit_code == 7, result.stdout + result.stderr
    assert spans_seen(command, result, tmp_path) == 2
    if command == "validate":
        assert json.loads(result.stdout)["command"]["argv"] == child("7")


def test_a_command_ended_by_a_signal_exits_128_plus_n(cli: Cli, tmp_path: Path) -> None:
    # validate -- CMD used to pass the raw -9 on (exit 247); the session maps it as tail does
    result = cli(*otelcli_args("validate", tmp_path), "--", *child("kill"))
    assert result.exit_code == 137, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["command"]["exit_code"] == 137 and document["summary"]["spans"] == 2


@pytest.mark.parametrize("command", ["capture", "tail", "validate"])
def test_nothing_after_the_dashes_is_a_usage_error(cli: Cli, tmp_path: Path, command: str) -> None:
    result = cli(*otelcli_args(command, tmp_path), "--")
    assert result.exit_code == 2
    assert "no command after --" in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["capture", "tail"])
def test_a_command_without_dashes_is_refused(cli: Cli, tmp_path: Path, command: str) -> None:
    result = cli(*otelcli_args(command, tmp_path), sys.executable, "-c", "pass")
    assert result.exit_code == 2
    assert not (tmp_path / "run.jsonl").exists()


@pytest.mark.parametrize("command", ["capture", "tail", "validate"])
def test_help_shows_the_command_after_dashes(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "[-- COMMAND [ARGS]...]" in result.stdout
