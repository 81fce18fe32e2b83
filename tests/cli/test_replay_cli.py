"""`otelcli replay` against loopback receivers, faults included: every span accounted for."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import count_spans, iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request
from tests.raw_server import ANSWER, RawServer, trickle
from tests.receiver import Received, RecordingReceiver, Reply

Cli = Callable[..., CliResult]
Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]


def capture(path: Path, batches: int = 10, spans: int = 20, fmt: str | None = None) -> Path:
    with open_writer(str(path), fmt) as writer:
        for n in range(batches):
            writer.write(make_request(spans, trace_byte=n + 1, service=f"svc{n % 3}"))
    return path


def span_ids(request: ExportTraceServiceRequest) -> list[bytes]:
    return [s.span.span_id + s.span.trace_id for s in iter_spans(request)]


def all_ids(path: Path) -> list[bytes]:
    return [i for batch in read_batches([str(path)]) for i in span_ids(batch)]


@pytest.mark.parametrize("name", ["run.pb", "run.jsonl", "run.json.gz", "run.lp"])
def test_replays_every_format_faithfully(
    cli: Cli, receiver: RecordingReceiver, tmp_path: Path, name: str
) -> None:
    source = capture(tmp_path / name, batches=3, spans=5)
    result = cli("replay", str(source), "--endpoint", receiver.base_url, "-f", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["read"] == 15 and summary["delivery"]["accepted"] == 15 and summary["adds_up"]
    received = ExportTraceServiceRequest()
    for request in receiver.requests:
        assert request.request is not None
        received.MergeFrom(request.request)
    original = ExportTraceServiceRequest()
    for batch in read_batches([str(source)]):
        original.MergeFrom(batch)
    # Ids, timestamps and attributes kept bit-for-bit without rewrites.
    assert sorted(s.span.SerializeToString() for s in iter_spans(received)) == sorted(
        s.span.SerializeToString() for s in iter_spans(original)
    )


def test_faults_every_span_exactly_once(cli: Cli, scripted_receiver: Start, tmp_path: Path) -> None:
    source = capture(tmp_path / "run.pb", batches=12, spans=25)
    delivered: list[bytes] = []
    rejected: list[bytes] = []
    lock = threading.Lock()

    def faults(received: Received, index: int) -> Reply:
        request = received.request
        assert request is not None
        ids = span_ids(request)
        if index == 0:
            return Reply(429, headers={"retry-after": "1"})
        if index % 7 == 3:
            return Reply(503)
        if index % 11 == 5:
            return Reply(drop=True)
        if len(ids) > 40:
            return Reply(413)
        if request.resource_spans[0].resource.attributes[0].value.string_value == "svc2":
            return Reply(
                400,
                body=b'{"message":"svc2 is not allowed"}',
                headers={"content-type": "application/json"},
            )
        with lock:
            if index % 5 == 0:
                delivered.extend(ids[:-2])
                rejected.extend(ids[-2:])
                return Reply(rejected=2, message="2 spans too old")
            delivered.extend(ids)
        return Reply()

    receiver = scripted_receiver(faults)
    dead = tmp_path / "dead.jsonl"
    result = cli(
        "replay",
        str(source),
        "--endpoint",
        receiver.base_url,
        "--batch-size",
        "60",
        "--concurrency",
        "3",
        "--dead-letter",
        str(dead),
        "-f",
        "json",
    )
    summary = json.loads(result.stdout)
    delivery = summary["delivery"]
    assert result.exit_code == 4, summary  # 400 for svc2: rejected, dead-lettered
    assert summary["adds_up"]
    dead_ids = all_ids(dead)
    everything = all_ids(source)
    assert len(delivered) == delivery["accepted"]
    assert len(rejected) == delivery["rejected"]
    assert len(dead_ids) == delivery["dead_lettered"] == delivery["failed"]
    # Every span id exactly once across delivered / rejected / dead-lettered.
    assert sorted(delivered + rejected + dead_ids) == sorted(everything)
    assert delivery["retries"] >= 2 and summary["read"] == 300

    # The dead-letter file replays.
    healthy = scripted_receiver(lambda r, i: Reply())
    again = cli("replay", str(dead), "--endpoint", healthy.base_url, "-f", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["delivery"]["accepted"] == len(dead_ids)


def test_failure_without_dead_letter_exits_non_zero(
    cli: Cli, scripted_receiver: Start, tmp_path: Path
) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(500))
    result = cli(
        "replay",
        str(capture(tmp_path / "run.pb", 2, 3)),
        "--endpoint",
        receiver.base_url,
        "-f",
        "json",
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 5
    assert summary["delivery"]["failed"] == 6 and summary["adds_up"]


def test_rewrites_and_filters(cli: Cli, receiver: RecordingReceiver, tmp_path: Path) -> None:
    source = tmp_path / "run.pb"
    with open_writer(str(source)) as writer:
        for n in range(3):
            writer.write(
                make_request(
                    4,
                    trace_byte=n + 1,
                    service=f"svc{n}",
                    attributes={"gen_ai.input.messages": "secret prompt", "keep": "yes"},
                )
            )
    keep_trace = (bytes([2]) * 16).hex()
    result = cli(
        "replay",
        str(source),
        "--endpoint",
        receiver.base_url,
        "--new-ids",
        "--service",
        "replayed",
        "--resource-attr",
        "run=7",
        "--drop-attr",
        "gen_ai.input.*",
        "--trace-id",
        keep_trace,
        "--rebase-time",
        "end",
        "-f",
        "json",
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 0, summary
    assert summary["read"] == 12 and summary["filtered"] == 8
    assert summary["delivery"]["accepted"] == 4 and summary["adds_up"]
    spans = [s for r in receiver.requests if r.request for s in iter_spans(r.request)]
    assert {s.service_name for s in spans} == {"replayed"}
    assert all(s.resource_attributes["run"] == 7 for s in spans)
    assert all(
        "gen_ai.input.messages" not in s.attributes and s.attributes["keep"] == "yes" for s in spans
    )
    # Fresh ids, still one trace with its parent links intact.
    assert {s.trace_id for s in spans} != {keep_trace} and len({s.trace_id for s in spans}) == 1
    ids = {s.span_id for s in spans}
    assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)
    assert all(s.span_id not in {(bytes([2, i]) * 4).hex() for i in range(1, 5)} for s in spans)
    # The capture now ends about now, offsets kept.
    ends = sorted(s.end_ns for s in spans)
    assert abs(ends[-1] - time.time_ns()) < 60e9
    assert ends[-1] - ends[0] == 3000


def test_new_ids_are_fresh_on_every_run(
    cli: Cli, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    source = capture(tmp_path / "run.pb", 1, 3)
    for _ in range(2):
        cli("replay", str(source), "--endpoint", receiver.base_url, "--new-ids")
    first, second = (
        {s.trace_id for s in iter_spans(r.request)} for r in receiver.requests if r.request
    )
    assert first.isdisjoint(second)


def test_dry_run_writes_the_rewritten_capture(cli: Cli, tmp_path: Path) -> None:
    source = capture(tmp_path / "run.jsonl", 2, 5)
    out = tmp_path / "out.pb"
    result = cli("replay", str(source), "-o", str(out), "--service-filter", "svc1", "-f", "json")
    summary = json.loads(result.stdout)
    assert summary["written"] == 5 and summary["filtered"] == 5 and summary["adds_up"]
    assert sum(count_spans(b) for b in read_batches([str(out)])) == 5


def test_rechunks_by_count_and_size(cli: Cli, receiver: RecordingReceiver, tmp_path: Path) -> None:
    source = capture(tmp_path / "run.pb", 2, 50)
    result = cli(
        "replay",
        str(source),
        "--endpoint",
        receiver.base_url,
        "--batch-size",
        "30",
        "--max-batch-bytes",
        "2048",
        "-f",
        "json",
    )
    assert json.loads(result.stdout)["delivery"]["accepted"] == 100
    sizes = [count_spans(r.request) for r in receiver.requests if r.request]
    assert sum(sizes) == 100 and max(sizes) <= 30
    assert all(len(r.body) <= 2048 for r in receiver.requests)


def test_pace_follows_the_original_timing(
    cli: Cli, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    source = tmp_path / "run.pb"
    with open_writer(str(source)) as writer:
        for n in range(3):  # three batches 0.2 s apart in the capture
            batch = make_request(1, trace_byte=n + 1)
            for s in iter_spans(batch):
                s.span.start_time_unix_nano += n * 200_000_000
                s.span.end_time_unix_nano += n * 200_000_000
            writer.write(batch)
    started = time.monotonic()
    result = cli(
        "replay",
        str(source),
        "--endpoint",
        receiver.base_url,
        "--pace",
        "2x",
        "--batch-size",
        "1",
        "--concurrency",
        "1",
    )
    assert result.exit_code == 0
    assert time.monotonic() - started >= 0.2  # 0.4 s of capture at 2x


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pace", "fast"], "--pace"),
        (["--rebase-time", "middle"], "--rebase-time"),
        (["--trace-id", "abc"], "--trace-id"),
    ],
)
def test_bad_options_are_usage_errors(
    cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli(
        "replay",
        str(capture(tmp_path / "r.pb", 1, 1)),
        "-o",
        str(tmp_path / "o.pb"),
        *args,
        "-f",
        "json",
    )
    assert result.exit_code == 2
    assert message in json.loads(result.stdout)["error"]["message"]


# -- deadlines and signals -----------------------------------------------------------------


def replay_process(*args: str) -> subprocess.Popen[str]:
    """The real CLI in a child process, to get real signals."""
    return subprocess.Popen(
        [sys.executable, "-m", "otelcli", "replay", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class HoldingScript:
    """Answers the first `answered` requests, then holds every later one unanswered."""

    def __init__(self, answered: int, held: int) -> None:
        self.answered = answered
        self.held = held
        self.lock = threading.Lock()
        self.delivered: list[bytes] = []
        self.holding = 0
        self.all_held = threading.Event()
        self.release = threading.Event()

    def __call__(self, received: Received, index: int) -> Reply:
        assert received.request is not None
        if index < self.answered:
            with self.lock:
                self.delivered.extend(span_ids(received.request))
            return Reply()
        with self.lock:
            self.holding += 1
            if self.holding >= self.held:
                self.all_held.set()
        self.release.wait(120)
        return Reply(503)


@pytest.mark.parametrize(
    ("signum", "exit_code", "dead_letter"),
    [(signal.SIGINT, 130, False), (signal.SIGTERM, 143, True)],
)
def test_a_signal_mid_replay_loses_no_span(
    scripted_receiver: Start, tmp_path: Path, signum: int, exit_code: int, dead_letter: bool
) -> None:
    # 7-span batches re-cut into 20s: the re-chunk buffer and the read-ahead hold spans too.
    source = capture(tmp_path / "run.pb", batches=150, spans=7)
    taken = Path(f"{source}.unsent.jsonl")
    taken.write_text("an earlier run's file: never overwritten\n")
    dead = tmp_path / "dead.jsonl"
    script = HoldingScript(answered=4, held=2)
    receiver = scripted_receiver(script)
    args = [str(source), "-e", receiver.base_url, "--batch-size", "20", "--concurrency", "2"]
    args += ["--timeout", "0", "-f", "json"]  # no deadline: only the grace period ends them
    if dead_letter:
        args += ["--dead-letter", str(dead)]
    process = replay_process(*args)
    try:
        assert script.all_held.wait(60), "the endpoint never saw the requests it holds"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        script.release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    summary = json.loads(stdout)
    delivery = summary["delivery"]
    assert summary["signal"] == signal.Signals(signum).name and delivery["interrupted"]
    assert summary["adds_up"], summary
    assert summary["read"] == summary["filtered"] + (
        delivery["accepted"]
        + delivery["rejected"]
        + delivery["failed"]
        + delivery["unknown"]
        + delivery["not_sent"]
    )
    # The two held requests were sent and never answered: unknown, not failed.
    assert delivery["unknown"] == 40 and delivery["failed"] == 0 and delivery["not_sent"] > 0
    if dead_letter:
        kept, expected_file = dead, str(dead)
    else:
        kept, expected_file = Path(f"{source}.unsent-1.jsonl"), f"{source}.unsent-1.jsonl"
        assert summary["unsent_file"] is True
        assert taken.read_text().startswith("an earlier run's file")
    assert summary["dead_letter"] == expected_file
    kept_ids = all_ids(kept)
    assert len(kept_ids) == delivery["dead_lettered"]
    assert delivery["dead_lettered"] == delivery["unknown"] + delivery["not_sent"]
    # Every span read is either delivered or in the file, exactly once.
    read_ids = all_ids(source)[: summary["read"]]
    assert sorted(script.delivered + kept_ids) == sorted(read_ids)
    assert len(script.delivered) == delivery["accepted"] == 80


def test_a_trickling_endpoint_cannot_stretch_the_timeout(cli: Cli, tmp_path: Path) -> None:
    source = capture(tmp_path / "run.pb", batches=1, spans=5)
    body = b"\x00" * 120  # a byte every 0.5 s: a minute, were each read timed on its own
    dead = tmp_path / "dead.jsonl"
    with RawServer(trickle(body, 0.5, head=ANSWER % len(body))).running() as server:
        started = time.monotonic()
        result = cli(
            "replay",
            str(source),
            "-e",
            server.base_url,
            "--timeout",
            "2",
            "--dead-letter",
            str(dead),
            "-f",
            "table",
        )
        elapsed = time.monotonic() - started
    assert elapsed < 30, f"--timeout 2 stretched to {elapsed:.0f} s"
    assert result.exit_code == 6, result.stdout + result.stderr
    assert "5 (timed out after sending: may have arrived)" in result.stdout
    assert "unknown: timed out after sending" in result.stderr
    assert len(all_ids(dead)) == 5


def test_retry_after_a_day_without_a_deadline_is_refused(
    scripted_receiver: Start, tmp_path: Path
) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(429, headers={"retry-after": "86400"}))
    source = capture(tmp_path / "run.pb", batches=1, spans=3)
    dead = tmp_path / "dead.jsonl"
    process = replay_process(
        str(source),
        "-e",
        receiver.base_url,
        "--timeout",
        "0",
        "--dead-letter",
        str(dead),
        "-f",
        "table",
    )
    try:
        stdout, stderr = process.communicate(timeout=60)  # not a day
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 5, stderr
    assert "asked to retry after 86400s" in stderr and "at most 300s" in stderr
    assert len(receiver.requests) == 1 and len(all_ids(dead)) == 3
