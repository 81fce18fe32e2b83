"""The save file of `tail --save` and `capture -o`, through real subprocesses, a real HTTP
client posting OTLP, real signals, a real file-size limit and a full device: every batch that
was answered 200 is in the file, which is valid at every moment, even after SIGKILL."""

from __future__ import annotations

import gzip
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., CliResult]


def spans_in(path: Path) -> int:
    return sum(len(list(iter_spans(batch))) for batch in read_batches([str(path)]))


class Session:
    """`python -m otelcli ARGS` receiving on a free port; stderr is collected as it comes."""

    def __init__(
        self, args: list[str], cwd: Path, size_limit: int | None = None, grpc: bool = False
    ) -> None:
        def limit() -> None:
            if size_limit is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
                resource.setrlimit(resource.RLIMIT_FSIZE, (size_limit, hard))

        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "otelcli",
                *args,
                "--listen",
                "127.0.0.1:0",
                *(["--grpc-listen", "127.0.0.1:0"] if grpc else ["--no-grpc"]),
            ],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            preexec_fn=limit,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        first = self.wait_for(lambda line: "receiving OTLP/HTTP on" in line)
        found = re.search(r"(http://\S+)", first)
        assert found, first
        self.url = found.group(1) + "/v1/traces"
        over_grpc = re.search(r"OTLP/gRPC on http://(\S+)", first)
        self.grpc_target = over_grpc.group(1) if over_grpc else None

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            with self._changed:
                self.lines.append(raw.decode())
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of stream
            self._changed.notify_all()

    def wait_for(self, match: Callable[[str], bool], timeout_s: float = 30) -> str:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(match(line) for line in self.lines) or "" in self.lines, timeout_s
            )
            hit = [line for line in self.lines if match(line)]
        assert found and hit, "".join(self.lines)
        return hit[0]

    def post(self, spans: int, trace_byte: int) -> httpx.Response:
        return httpx.post(
            self.url,
            content=make_request(spans, trace_byte=trace_byte).SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
            timeout=30,
        )

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.wait_for(lambda line: line == "")
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        self.process.stderr.close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []

    def start(args: list[str], size_limit: int | None = None, grpc: bool = False) -> Session:
        started.append(Session(args, tmp_path, size_limit, grpc))
        return started[-1]

    yield start
    for one in started:
        one.kill()


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("tail", "run.jsonl"),
        ("tail", "run.lp"),
        ("tail", "run.pb"),
        ("tail", "run.jsonl.gz"),
        ("capture", "run.pb.gz"),
        ("capture", "run.lp.gz"),
    ],
)
def test_every_acknowledged_batch_is_in_the_file_and_survives_sigkill(
    session: Callable[..., Session], tmp_path: Path, command: str, name: str
) -> None:
    saved = tmp_path / name
    flag = "--save" if command == "tail" else "-o"
    running = session([command, flag, name] + (["-f", "ndjson"] if command == "tail" else []))
    for n in range(3):
        assert running.post(2, trace_byte=n + 1).status_code == 200
        assert spans_in(saved) == 2 * (n + 1)  # in the file before the 200
    running.process.kill()
    running.process.wait(timeout=30)
    assert spans_in(saved) == 6
    if name.endswith(".gz"):
        with gzip.open(saved) as members:  # complete members only: no truncated stream
            members.read()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_a_save_file_that_fills_up_refuses_batches_instead_of_losing_them(
    session: Callable[..., Session], tmp_path: Path
) -> None:
    """A file-size limit: the batch that does not fit is cut off again and answered 503
    (the sender retries); the file ends after the last acknowledged batch."""
    saved = tmp_path / "run.jsonl"
    running = session(["tail", "--save", "run.jsonl", "-f", "ndjson"], size_limit=4000)
    acknowledged = 0
    for n in range(40):
        response = running.post(2, trace_byte=n + 1)
        if response.status_code != 200:
            break
        acknowledged += 1
    assert response.status_code == 503 and response.headers.get("retry-after")
    assert 0 < acknowledged < 40
    warning = running.wait_for(lambda line: line.startswith("warning: "))
    assert "cannot write run.jsonl: File too large" in warning and "503" in warning
    assert running.post(2, trace_byte=99).status_code == 503  # still full: still refused
    assert saved.read_bytes().endswith(b"\n")
    assert spans_in(saved) == 2 * acknowledged
    assert running.stop(signal.SIGTERM) == 7
    assert any("could not save 2 batches (4 spans)" in line for line in running.lines)
    assert spans_in(saved) == 2 * acknowledged
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]


def test_once_there_is_room_again_the_save_file_takes_batches_again(
    session: Callable[..., Session], tmp_path: Path
) -> None:
    """The refused batch left nothing behind: what follows is appended to a valid file."""
    saved = tmp_path / "run.lp.gz"
    running = session(["capture", "-o", "run.lp.gz"], size_limit=2000)
    acknowledged = 0
    for n in range(40):
        if running.post(2, trace_byte=n + 1).status_code != 200:
            break
        acknowledged += 1
    assert 0 < acknowledged < 40
    running.wait_for(lambda line: "cannot write run.lp.gz: File too large" in line)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.prlimit(running.process.pid, resource.RLIMIT_FSIZE, (hard, hard))  # room again
    assert running.post(2, trace_byte=100).status_code == 200  # the sender's retry
    running.wait_for(lambda line: "run.lp.gz takes batches again" in line)
    assert spans_in(saved) == 2 * (acknowledged + 1)
    assert running.stop(signal.SIGTERM) == 7  # senders may have given up meanwhile
    assert spans_in(saved) == 2 * (acknowledged + 1)


def test_a_full_device_as_save_file_refuses_every_batch(
    session: Callable[..., Session], tmp_path: Path
) -> None:
    node = tmp_path / "full.jsonl"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a private /dev/full
        os.close(os.open(node, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"cannot make or open a device node here: {exc}")
    running = session(["capture", "-o", "full.jsonl"])
    assert running.post(2, trace_byte=1).status_code == 503
    running.wait_for(lambda line: "cannot write full.jsonl: No space left on device" in line)
    assert running.stop(signal.SIGTERM) == 7
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert not any("Traceback" in line for line in running.lines)


@pytest.mark.parametrize("command", ["tail", "capture"])
def test_a_json_document_cannot_be_the_save_file(cli: Cli, tmp_path: Path, command: str) -> None:
    target = str(tmp_path / "run.json")
    flag = "--save" if command == "tail" else "-o"
    result = cli(command, flag, target, "--run-for", "0", "--no-grpc", "--listen", "127.0.0.1:0")
    assert result.exit_code == 2, result.stderr
    said = result.stderr + result.stdout  # an error as JSON when stdout is not a terminal
    assert "valid only once complete" in said and ".jsonl" in said
    assert list(tmp_path.iterdir()) == []


def test_the_save_file_is_written_through_a_symlink_keeping_its_mode(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "in.pb"
    with open_writer(str(source)) as writer:
        writer.write(make_request(3))
    target = tmp_path / "archive.jsonl"
    target.write_text("")
    target.chmod(0o640)
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target.name)
    result = cli("tail", "--file", str(source), "--save", str(link), "-f", "ndjson")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert spans_in(target) == 3


def test_over_grpc_a_batch_is_saved_before_ok_and_refused_unavailable_when_full(
    session: Callable[..., Session], tmp_path: Path
) -> None:
    grpc = pytest.importorskip("grpc")
    saved = tmp_path / "run.lp"
    running = session(["capture", "-o", "run.lp"], size_limit=3000, grpc=True)
    assert running.grpc_target is not None
    channel = grpc.insecure_channel(running.grpc_target)
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    try:
        acknowledged = 0
        for n in range(40):
            payload = make_request(2, trace_byte=n + 1).SerializeToString()
            try:
                export(payload, timeout=30)
            except grpc.RpcError as failure:
                assert failure.code() == grpc.StatusCode.UNAVAILABLE
                assert "File too large" in (failure.details() or "")
                break
            acknowledged += 1
            assert spans_in(saved) == 2 * acknowledged  # in the file before the OK
        else:
            pytest.fail("the file-size limit was never reached")
    finally:
        channel.close()
    assert acknowledged > 0
    assert running.stop(signal.SIGTERM) == 7
    assert spans_in(saved) == 2 * acknowledged
    assert [p.name for p in tmp_path.iterdir()] == ["run.lp"]


def test_the_file_being_read_cannot_be_the_save_file(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "run.jsonl"
    with open_writer(str(source)) as writer:
        writer.write(make_request(3))
    link = tmp_path / "same.jsonl"
    link.symlink_to(source.name)
    result = cli("tail", "--file", str(source), "--save", str(link), "-f", "ndjson")
    assert result.exit_code == 2
    assert "is the file being read" in result.stderr + result.stdout
    assert spans_in(source) == 3
