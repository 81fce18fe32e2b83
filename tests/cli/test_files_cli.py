"""`otelcli stats` and `otelcli convert` through the real app, and as a real subprocess."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import count_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request

Cli = Callable[..., CliResult]


def write_capture(path: Path) -> Path:
    with open_writer(str(path)) as writer:
        writer.write(make_request(4, service="checkout", trace_byte=1))
        writer.write(make_request(2, service="billing", trace_byte=7))
    return path


def test_stats_json(cli: Cli, tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "run.jsonl.gz")
    result = cli("stats", str(capture), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["spans"] == 6 and data["traces"] == 2 and data["root_spans"] == 2
    assert data["error_spans"] == 2
    assert data["services"] == {"checkout": 4, "billing": 2}
    assert data["inputs"][0]["format"] == "jsonl" and data["inputs"][0]["compressed"] is True
    assert data["first_start_ns"] == 1_700_000_000_000_000_000
    assert data["last_end_ns"] == 1_700_000_000_000_003_500
    assert result.stderr == ""


def test_stats_table_on_request(cli: Cli, tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "run.pb")
    result = cli("--no-color", "stats", str(capture), "--format", "table")
    assert result.exit_code == 0
    assert "checkout" in result.stdout and "op-0" in result.stdout
    assert "2023-11-14T22:13:20.000Z" in result.stdout


def test_stats_reads_stdin(cli: Cli, tmp_path: Path) -> None:
    data = gzip.compress(make_request(3).SerializeToString())
    result = cli("stats", "-", "-f", "json", input=data)
    assert json.loads(result.stdout)["spans"] == 3


def test_bad_file_is_one_line_and_exit_3(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\x0a\x05abc")
    result = cli("stats", str(bad), "-f", "table")
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "bad.pb" in lines[0]
    assert lines[1].strip().startswith("hint: ")
    assert "Traceback" not in result.stderr


def test_errors_are_json_in_json_mode(cli: Cli) -> None:
    result = cli("stats", "/no/such/file.pb", "-f", "json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_input" and error["exit_code"] == 3 and error["hint"]


def test_bad_format_option_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("stats", str(write_capture(tmp_path / "a.pb")), "-f", "yaml")
    assert result.exit_code == 2 and "--format" in result.stderr


def test_convert_every_direction(cli: Cli, tmp_path: Path) -> None:
    source = write_capture(tmp_path / "in.lp")
    expected = sum(count_spans(b) for b in read_batches([str(source)]))
    previous = source
    for name in ("a.json", "b.pb.gz", "c.jsonl", "d.lp.gz", "e.pb"):
        target = tmp_path / name
        result = cli("convert", str(previous), "-o", str(target), "-f", "json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["spans"] == expected
        assert sum(count_spans(b) for b in read_batches([str(target)])) == expected
        previous = target
    original = list(read_batches([str(source)]))
    final = list(read_batches([str(previous)]))
    merged_original, merged_final = type(original[0])(), type(final[0])()
    for b in original:
        merged_original.MergeFrom(b)
    for b in final:
        merged_final.MergeFrom(b)
    assert merged_original == merged_final


def test_convert_to_stdout_keeps_stdout_for_data(cli: Cli, tmp_path: Path) -> None:
    source = write_capture(tmp_path / "in.pb")
    result = cli("convert", str(source), "-o", "-", "--to-format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1 and "resourceSpans" in lines[0]
    assert "wrote 6 spans" in result.stderr


def test_convert_rejects_an_unknown_format(cli: Cli, tmp_path: Path) -> None:
    source = write_capture(tmp_path / "in.pb")
    result = cli("convert", str(source), "-o", str(tmp_path / "x.out"))
    assert result.exit_code == 2
    assert "--to-format" in json.loads(result.stdout)["error"]["hint"]  # piped: errors as JSON


def test_real_entry_point_subprocess(tmp_path: Path) -> None:
    capture = write_capture(tmp_path / "run.json")
    result = subprocess.run(
        [sys.executable, "-m", "otelcli", "stats", str(capture)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["spans"] == 6  # piped: JSON by default
    bad = subprocess.run(
        [sys.executable, "-m", "otelcli", "stats", str(tmp_path / "missing.pb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 3 and "Traceback" not in bad.stderr
