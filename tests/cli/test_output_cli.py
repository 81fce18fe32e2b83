"""Outputs that cannot be written, through the real CLI in real subprocesses: stdout on
/dev/full, a full device as -o, a file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored gives
EFBIG). Each is one line with a hint and exit 7, and what -o points at survives."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request
from tests.receiver import Received, RecordingReceiver, Reply

REPO = Path(__file__).resolve().parents[2]
FULL = "No space left on device"


def run(
    args: list[str],
    cwd: Path,
    stdout: int | None = subprocess.PIPE,
    size_limit: int | None = None,
) -> subprocess.CompletedProcess[bytes]:
    def limit() -> None:
        if size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size_limit, size_limit))

    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "otelcli", *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=limit,
        timeout=120,
        check=False,
    )


def one_error(result: subprocess.CompletedProcess[bytes], message: str) -> None:
    """The error, once: on stderr (a line and a hint), or as JSON on a piped stdout."""
    text = result.stderr.decode()
    assert "Traceback" not in text and "Exception ignored" not in text, text
    if not text and result.stdout:
        error = json.loads(result.stdout)["error"]
        assert error["message"] == message and error["hint"], error
        assert error["code"] == "output_failed" and error["exit_code"] == 7
        return
    lines = text.splitlines()
    assert lines[0] == f"error: {message}", text
    assert len(lines) == 2 and lines[1].startswith("  hint: "), text


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "run.pb"
    with open_writer(str(path)) as writer:
        writer.write(make_request(3, attributes={"gen_ai.system": "openai"}))
    return path


@pytest.fixture
def big_capture(tmp_path: Path) -> Path:
    path = tmp_path / "big.lp"
    with open_writer(str(path)) as writer:
        for n in range(200):
            writer.write(make_request(5, trace_byte=n % 250 + 1, attributes={"pad": "x" * 200}))
    return path


@pytest.fixture
def full_device(tmp_path: Path) -> Callable[[str], Path]:
    """A private device node like /dev/full (always ENOSPC), under a name with a format."""

    def make(name: str) -> Path:
        node = tmp_path / name
        try:
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
            os.close(os.open(node, os.O_WRONLY))
        except OSError as exc:
            pytest.skip(f"cannot make or open a device node here: {exc}")
        return node

    return make


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "run.pb", "-o", "-", "--to-format", "jsonl"],
        ["stats", "run.pb"],
        ["stats", "run.pb", "-f", "table"],
        ["validate", "run.pb", "-f", "junit"],
        ["validate", "run.pb", "-f", "json"],
        ["--help"],
        ["--version"],
        ["convert", "--help"],
    ],
    ids=[
        "convert",
        "stats-json",
        "stats-table",
        "validate-junit",
        "validate-json",
        "help",
        "version",
        "command-help",
    ],
)
def test_stdout_on_a_full_disk_is_one_error_and_exit_7(capture: Path, args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = run(args, capture.parent, stdout=full.fileno())
    assert result.returncode == 7, result.stderr.decode()
    one_error(result, f"cannot write standard output: {FULL}")


def test_a_full_device_as_output_is_written_in_place_and_fails_cleanly(
    capture: Path, full_device: Callable[[str], Path]
) -> None:
    node = full_device("full.jsonl")
    result = run(["convert", "run.pb", "-o", str(node)], capture.parent)
    assert result.returncode == 7
    one_error(result, f"cannot write {node}: {FULL}")
    assert stat.S_ISCHR(os.stat(node).st_mode)  # still the device, not a file put in its place


def test_a_file_size_limit_keeps_the_original_and_leaves_no_temporary_file(
    big_capture: Path,
) -> None:
    out = big_capture.parent / "out.jsonl"
    out.write_text("keep me\n")
    result = run(["convert", "big.lp", "-o", "out.jsonl"], big_capture.parent, size_limit=65536)
    assert result.returncode == 7, result.stderr.decode()
    one_error(result, "cannot write out.jsonl: File too large")
    assert out.read_text() == "keep me\n"
    assert sorted(p.name for p in big_capture.parent.iterdir()) == ["big.lp", "out.jsonl"]


def test_validate_report_to_a_full_device_is_exit_7(
    capture: Path, full_device: Callable[[str], Path]
) -> None:
    node = full_device("report.xml")
    result = run(["validate", "run.pb", "-f", "junit", "-o", str(node)], capture.parent)
    assert result.returncode == 7
    one_error(result, f"cannot write {node}: {FULL}")


def test_validate_report_is_whole_or_the_old_one_stays(big_capture: Path) -> None:
    report = big_capture.parent / "report.json"
    report.write_text('{"old": true}\n')
    result = run(
        ["validate", "big.lp", "-f", "json", "-o", "report.json"],
        big_capture.parent,
        size_limit=4096,
    )
    assert result.returncode == 7, result.stderr.decode()
    one_error(result, "cannot write report.json: File too large")
    assert report.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in big_capture.parent.iterdir()) == ["big.lp", "report.json"]


def test_convert_through_a_symlink_keeps_the_link_and_the_mode(capture: Path) -> None:
    target = capture.parent / "archive" / "run.jsonl"
    target.parent.mkdir()
    target.write_text("")
    target.chmod(0o644)
    link = capture.parent / "latest.jsonl"
    link.symlink_to(target)
    result = run(["convert", "run.pb", "-o", "latest.jsonl"], capture.parent)
    assert result.returncode == 0, result.stderr.decode()
    assert link.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(target)])) == 3


def test_replay_dead_letters_go_through_a_symlink_keeping_the_mode(
    cli: Callable[..., CliResult],
    scripted_receiver: Callable[[Callable[[Received, int], Reply]], RecordingReceiver],
    capture: Path,
) -> None:
    receiver = scripted_receiver(lambda received, index: Reply(400))
    target = capture.parent / "archive" / "dead.jsonl"
    target.parent.mkdir()
    target.write_text("")
    target.chmod(0o640)
    link = capture.parent / "dead.jsonl"
    link.symlink_to(target)
    result = cli(
        "replay", str(capture), "--endpoint", receiver.base_url, "--dead-letter", str(link)
    )
    assert result.exit_code == 4, result.stderr
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(target)])) == 3


def test_dev_fd_1_redirected_to_a_file_gets_the_data_then_the_summary(
    capture: Path, tmp_path: Path
) -> None:
    """`-o /dev/fd/1 > out`: written through the shell's descriptor, not replaced, and what
    otelcli prints on stdout follows the data instead of overwriting it."""
    out = tmp_path / "out.jsonl"
    with open(out, "wb") as handle:
        result = run(
            ["convert", "run.pb", "-o", "/dev/fd/1", "--to-format", "jsonl"],
            tmp_path,
            stdout=handle.fileno(),
        )
    assert result.returncode == 0, result.stderr.decode()
    data, summary = out.read_bytes().splitlines()
    assert json.loads(summary)["spans"] == 3
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(data + b"\n")
    assert sum(len(list(iter_spans(b))) for b in read_batches([str(copy)])) == 3
