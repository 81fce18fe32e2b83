"""--format, --quiet and --verbose mean the same on every command, through the real app: ndjson
is one table row per line, csv the same rows, usage errors of the CLI framework are JSON in the
JSON modes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request

Cli = Callable[..., CliResult]
RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
OPENLIT = str(RUNS / "openlit" / "traces.jsonl")


@pytest.fixture
def capture(tmp_path: Path) -> str:
    path = tmp_path / "run.pb"
    with open_writer(str(path)) as writer:
        writer.write(make_request(3, attributes={"gen_ai.system": "openai"}))
        writer.write(make_request(2, service="web", trace_byte=9))
    return str(path)


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_stats_ndjson_and_csv_are_the_same_rows(cli: Cli, capture: str) -> None:
    lines = cli("stats", capture, "-f", "ndjson")
    assert lines.exit_code == 0, lines.stderr
    rows = ndjson(lines.stdout)
    assert rows[0] == {"count": "all", "name": "", "spans": 5}
    services = {r["name"]: r["spans"] for r in rows if r["count"] == "service"}
    assert services == {"checkout": 3, "web": 2}  # each service's spans add up to all
    table = cli("stats", capture, "-f", "csv")
    assert table.exit_code == 0
    parsed = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [{k: str(v) for k, v in r.items()} for r in rows] == parsed


@pytest.mark.parametrize(
    "args",
    [
        ["cost", OPENLIT, "--by", "model"],
        ["cost", "prices", "claude-sonnet-4*"],
        ["presets"],
        ["stats", OPENLIT],
        ["validate", "--list-rules"],
        ["send", "--dry-run", "-o", "out.jsonl"],
    ],
    ids=["cost", "prices", "presets", "stats", "validate-rules", "send"],
)
def test_every_table_has_csv_and_ndjson_rows(cli: Cli, args: list[str], tmp_path: Path) -> None:
    args = [str(tmp_path / a) if a == "out.jsonl" else a for a in args]
    as_csv = cli(*args, "--format", "csv")
    as_ndjson = cli(*args, "--format", "ndjson")
    assert as_csv.exit_code == as_ndjson.exit_code == 0, as_csv.stderr + as_ndjson.stderr
    rows = ndjson(as_ndjson.stdout)
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == len(parsed) >= 1
    assert all(
        isinstance(r, dict) and not any(isinstance(v, dict) for v in r.values()) for r in rows
    )
    assert list(parsed[0]) == list(rows[0])  # the same columns


def test_cost_rows_sum_to_the_total_in_every_format(cli: Cli) -> None:
    total = json.loads(cli("cost", OPENLIT, "-f", "json").stdout)["total"]["usd"]["total"]
    rows = ndjson(cli("cost", OPENLIT, "--by", "model", "--top", "1", "-f", "ndjson").stdout)
    assert rows[-1]["model"] == "(other)"
    assert round(sum(float(r["total_usd"]) for r in rows), 9) == round(float(total), 9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "--bogus", "x.pb"], "No such option"),
        (["stats", "--top", "many", "x.pb"], "Invalid value for '--top'"),
        (["diff"], "Missing argument"),
        (["no-such-command"], "No such command"),
        (["cost", "x.pb", "--by", "model", "--top", "0"], "--top"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_framework_usage_errors_are_json_in_json_modes(
    cli: Cli, args: list[str], message: str, fmt: str
) -> None:
    result = cli(*args, "--format", fmt)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert message in error["message"] and error["code"] == "usage" and error["exit_code"] == 2
    assert error["hint"].startswith("see `otelcli")
    assert result.stderr == ""


def test_framework_usage_errors_in_table_mode_are_one_line_and_a_hint(cli: Cli) -> None:
    result = cli("stats", "--bogus", "x.pb", "-f", "table")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: No such option '--bogus'. Did you mean '--verbose'?",
        "  hint: see `otelcli stats --help`",
    ]


def test_framework_usage_errors_follow_otelcli_format(cli: Cli) -> None:
    result = cli("stats", "--bogus", env={"OTELCLI_FORMAT": "json"})
    assert json.loads(result.stdout)["error"]["code"] == "usage"


def test_quiet_silences_notices_and_warnings_on_every_command(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    loud = cli("send", "--dry-run", "-o", "-")
    assert loud.exit_code == 0 and loud.stderr.strip()
    for args in (
        ["send", "--quiet", "--dry-run", "-o", "-"],
        ["-q", "send", "--dry-run", "-o", "-"],
        ["convert", OPENLIT, "-o", "-", "--to-format", "jsonl", "-q"],
    ):
        quiet = cli(*args)
        assert quiet.exit_code == 0 and quiet.stderr == "", (args, quiet.stderr)
        assert quiet.stdout.strip()  # the data still comes out
    errors = cli("stats", "/no/such.pb", "-q", "-f", "table")
    assert errors.exit_code == 3 and "error:" in errors.stderr  # errors are never silenced
    assert cli("cost", OPENLIT, "-o", str(out), "--enrich", "-q", "-f", "json").exit_code == 0


def test_every_command_takes_quiet_and_verbose(cli: Cli) -> None:
    from otelcli.cli import COMMANDS

    for name in COMMANDS:
        text = cli(name, "--help").stdout
        assert "--quiet" in text and "--verbose" in text, name


def test_verbose_tells_of_retries(cli: Cli, scripted_receiver: Callable[..., Any]) -> None:
    from tests.receiver import Received, Reply

    def once_busy(received: Received, index: int) -> Reply:
        return Reply(503, headers={"Retry-After": "0"}) if index == 0 else Reply()

    plain = cli("send", "-e", scripted_receiver(once_busy).base_url, "-f", "json")
    assert plain.exit_code == 0 and "retrying" not in plain.stderr
    told = cli("send", "-e", scripted_receiver(once_busy).base_url, "-f", "json", "--verbose")
    assert told.exit_code == 0, told.stderr
    assert "otelcli: HTTP 503; retrying in 0.00s" in told.stderr


def test_tail_takes_the_same_format_names(cli: Cli) -> None:
    as_json = cli("tail", "--file", OPENLIT, "-f", "json")
    assert as_json.exit_code == 0, as_json.stderr
    spans = ndjson(as_json.stdout)
    assert len(spans) == 31 and all("span_id" in span for span in spans)  # a line per span
    as_table = cli("tail", "--file", OPENLIT, "-f", "table")  # piped: trees as text
    assert as_table.exit_code == 0 and as_table.stdout.count(" trace ") >= 2
    assert cli("tail", "--file", OPENLIT, "-f", "csv").exit_code == 2
