"""--jobs: cost and validate report the same with one process and with worker processes.

Every recorded run is cut into one batch per span (the finest slices the merge can meet), and
each command's JSON over all of them at once is compared between --jobs 2 and the runs read
as recorded with --jobs 1 (one batch per run, the single-process path). The benchmark
capture's first slices are compared the same way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.reader import read_batches
from tests.conftest import CliResult

Cli = Callable[..., CliResult]

REPO = Path(__file__).resolve().parents[2]
RUNS = sorted((REPO / "tests" / "data" / "corpus" / "runs").glob("*/traces.jsonl"))
COMMANDS: dict[str, tuple[str, ...]] = {
    "cost": ("cost", "-f", "json", "--no-fallback"),
    "cost --by": (
        "cost",
        "-f",
        "json",
        "--no-fallback",
        "--by",
        "model",
        "--by",
        "service",
        "--by",
        "trace",
    ),
    "validate": ("validate", "-f", "json"),
    "validate --normalized": ("validate", "-f", "json", "--normalized"),
}


def _one_span_per_batch(batches: Iterator[ExportTraceServiceRequest]) -> Iterator[bytes]:
    for batch in batches:
        for resource_spans in batch.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    single = ExportTraceServiceRequest()
                    rs = single.resource_spans.add()
                    rs.resource.CopyFrom(resource_spans.resource)
                    rs.schema_url = resource_spans.schema_url
                    ss = rs.scope_spans.add()
                    ss.scope.CopyFrom(scope_spans.scope)
                    ss.schema_url = scope_spans.schema_url
                    ss.spans.add().CopyFrom(span)
                    yield single.SerializeToString()


def _report(cli: Cli, command: tuple[str, ...], inputs: list[str], jobs: int) -> Any:
    result = cli(*command, *inputs, "--jobs", str(jobs))
    assert result.exit_code in (0, 3), result.stderr
    report = json.loads(result.stdout)
    report.pop("inputs", None)  # validate names its inputs
    return report


@pytest.fixture(scope="module")
def sliced_runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """(recorded run, the same spans one per batch as JSON Lines)."""
    out = []
    root = tmp_path_factory.mktemp("sliced")
    for run in RUNS:
        sliced = root / f"{run.parent.name}.jsonl"
        lines = (
            json.dumps(request_to_dict(ExportTraceServiceRequest.FromString(data)))
            for data in _one_span_per_batch(read_batches([str(run)]))
        )
        sliced.write_text("\n".join(lines) + "\n")
        out.append((run, sliced))
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_all_runs_at_once_report_the_same_with_one_and_two_jobs(
    cli: Cli, sliced_runs: list[tuple[Path, Path]], command: str
) -> None:
    # calls and traces of every run in one report: call identity and the per-capture checks
    # (duplicates, orphans, once-per-key findings) carry across the workers' slices
    argv = COMMANDS[command]
    recorded = [str(run) for run, _ in sliced_runs]
    sliced = [str(path) for _, path in sliced_runs]
    expected = _report(cli, argv, recorded, 1)
    assert _report(cli, argv, sliced, 2) == expected
    assert _report(cli, argv, sliced * 2, 2) == _report(cli, argv, recorded * 2, 1)


def test_the_benchmark_captures_first_slices_report_the_same(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO))
    from bench.capture import write_pb

    capture = tmp_path / "capture.pb"
    write_pb(str(capture), 3000, content=True)
    monkeypatch.setattr("otelcli.otlp.reader._PB_SLICE", 128 << 10)  # ~12 slices
    for name, command in COMMANDS.items():
        one = _report(cli, command, [str(capture)], 1)
        assert _report(cli, command, [str(capture)], 2) == one
        if name == "cost":  # more workers than cores: slices finish out of order
            assert _report(cli, command, [str(capture)], 3) == one


def test_a_corrupt_batch_read_by_a_worker_is_the_same_error(cli: Cli, tmp_path: Path) -> None:
    capture = tmp_path / "capture.pb"
    good = next(_one_span_per_batch(read_batches([str(RUNS[0])])))
    # a well-framed resource_spans field whose content is not a ResourceSpans
    bad = b"\x0a\x04\xff\xff\xff\xff"
    capture.write_bytes(good * 3 + bad + good)
    for command in (("cost", "-f", "json"), ("validate", "-f", "json")):
        one = cli(*command, str(capture), "--jobs", "1")
        two = cli(*command, str(capture), "--jobs", "2")
        assert one.exit_code == two.exit_code == 3
        assert "invalid protobuf near byte" in one.stdout
        assert (two.stdout, two.stderr) == (one.stdout, one.stderr)


def test_jobs_must_be_positive(cli: Cli) -> None:
    result = cli("cost", str(RUNS[0]), "--jobs", "0")
    assert result.exit_code == 2
    assert "--jobs 0 is not a positive number" in result.stdout + result.stderr


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except FileNotFoundError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_run_leaves_no_worker_behind(tmp_path: Path, signum: int) -> None:
    """Ctrl-C reaches the whole process group; a supervisor's SIGTERM only the calling process,
    which then runs no clean-up: the workers end with it either way, and release its pipes."""
    from bench.capture import write_pb

    capture = tmp_path / "slices.pb"
    write_pb(str(capture), 60_000)  # several 4 MiB slices: the work goes to the workers
    process = subprocess.Popen(
        [sys.executable, "-m", "otelcli", "validate", str(capture), "-j", "2", "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(workers := _children(process.pid)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.02)
    assert len(workers) == 2, "the run ended before its workers were seen"
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)  # returns once no process holds the pipes
    while any(Path(f"/proc/{worker}").exists() for worker in workers):
        assert time.monotonic() < deadline + 120, "a worker outlived the run"
        time.sleep(0.02)
    if signum == signal.SIGINT:
        assert process.returncode == 130 and stderr.strip() == "interrupted", stderr
    else:
        assert process.returncode == -signal.SIGTERM, stderr
    assert "Traceback" not in stderr
