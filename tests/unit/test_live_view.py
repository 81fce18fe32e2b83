"""The live view of `otelcli tail` on fixed-size consoles: the newest trace and the status line
are on screen at any size (wrapped lines counted), a failed trace is not marked done-and-well,
and forwarding shows how it is going."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from rich.console import Console
from rich.text import Text

from otelcli.errors import EndpointRejected
from otelcli.genai.pricing.summary import Summarizer
from otelcli.otlp.traces import TraceBoard
from otelcli.render.live import LiveScreen, ViewOptions, status_line
from otelcli.transport.delivery import DeliveryReport
from tests.conftest import CliResult
from tests.receiver import RecordingReceiver
from tests.unit.test_tree import LLM, batch

STATUS = (
    "── 127.0.0.1:4318 · 1,234 spans · 56 traces · saving to a-rather-long-file-name.pb · Ctrl-C"
)


@pytest.fixture
def summarizer() -> Summarizer:
    from otelcli.genai.pricing.summary import default_summarizer

    return default_summarizer(None)


def trace(n: int, spans: int, long_names: bool = False) -> ExportTraceServiceRequest:
    tid = bytes([n]) * 16
    name = "retrieve documents from the vector store for the question " * 2 if long_names else ""
    specs = [{"id": 1, "name": f"trace-{n}", "trace": tid}]
    specs += [
        {"id": i, "parent": 1, "name": f"{name}step-{i}", "trace": tid, "attrs": LLM}
        for i in range(2, spans + 1)
    ]
    return batch(*specs)


def frame(screen: LiveScreen, console: Console) -> list[str]:
    """The frame the live view draws now, as the console's lines."""
    screen.board.clock = lambda: 0.0  # nothing settles mid-test
    renderable = screen.view.renderable(Text(STATUS, style="dim"), console)
    return [
        "".join(segment.text for segment in line)
        for line in console.render_lines(renderable, console.options, pad=False)
    ]


@pytest.mark.parametrize(("width", "height"), [(80, 24), (60, 12), (120, 40), (40, 8)])
def test_newest_trace_and_status_line_always_fit(
    summarizer: Summarizer, width: int, height: int
) -> None:
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None)
    screen = LiveScreen(console, TraceBoard(), summarizer, lambda: Text(STATUS))
    for n in range(1, 12):  # spans whose names wrap at these widths
        screen.add_batch(trace(n, 3, long_names=True))
    lines = frame(screen, console)
    assert len(lines) <= height, lines
    assert lines[-1].strip() and STATUS.split()[-1] in " ".join(lines[-3:])  # the status line
    text = "\n".join(lines)
    assert "trace-11" in text  # the newest trace
    screen.close()


def test_a_newest_trace_taller_than_the_screen_shows_its_head(summarizer: Summarizer) -> None:
    console = Console(file=io.StringIO(), width=80, height=24, color_system=None)
    screen = LiveScreen(console, TraceBoard(), summarizer, lambda: Text(STATUS))
    screen.add_batch(trace(1, 3))
    screen.add_batch(trace(2, 60))
    lines = frame(screen, console)
    assert len(lines) <= 24
    assert "trace-2" in lines[0] and "trace-1" not in "\n".join(lines)
    assert any(line.startswith("… ") and "more lines" in line for line in lines)
    assert "Ctrl-C" in lines[-1]
    screen.close()


def test_a_trace_with_an_error_span_is_not_marked_done_well(summarizer: Summarizer) -> None:
    from otelcli.render.tree import render_text, render_trace

    board = TraceBoard()
    board.add_batch(
        batch(
            {"id": 1, "name": "root"},
            {"id": 2, "parent": 1, "name": "tool", "status": 2, "message": "boom"},
        )
    )
    board.add_batch(batch({"id": 9, "name": "fine", "trace": bytes([9]) * 16}))
    entries = {e.trace_hex[:2]: e for e in board.newest()}
    failed = render_text(render_trace(entries["01"], summarizer, settled=True))
    fine = render_text(render_trace(entries["09"], summarizer, settled=True))
    assert failed.startswith("✗ root") and fine.startswith("✓ fine")


def test_status_line_shows_forwarding_live() -> None:
    options = ViewOptions(mode="live", forward="http://backend:4318/v1/traces")
    board = TraceBoard()
    forwarder = SimpleNamespace(live=None, overflow=0)
    session = SimpleNamespace(
        listen="http://127.0.0.1:4318",
        grpc_listen=None,
        stats=[],
        forwarder=forwarder,
        log_records=0,
        data_points=0,
    )
    assert status_line(options, session, board).plain.endswith(  # type: ignore[arg-type]
        "forwarding to http://backend:4318/v1/traces · Ctrl-C to stop"
    )
    delivery = DeliveryReport(accepted=12)
    forwarder.live = delivery
    assert "backend:4318/v1/traces: 12 accepted ·" in status_line(options, session, board).plain  # type: ignore[arg-type]
    delivery.failed = 4
    delivery.errors.append(EndpointRejected("backend rejected the data: HTTP 415"))
    shown = status_line(options, session, board)  # type: ignore[arg-type]
    assert "12 accepted, FAILING: 4 not delivered (last: backend rejected the data: HTTP 415)" in (
        shown.plain
    )
    assert any("red" in str(span.style) for span in shown.spans)


def test_status_line_of_a_followed_file_counts_its_logs_and_metric_points() -> None:
    session = SimpleNamespace(
        listen=None,
        grpc_listen=None,
        request=SimpleNamespace(file="run.jsonl"),
        stats=[],
        forwarder=None,
        log_records=20,
        data_points=25,
    )
    shown = status_line(ViewOptions(mode="live"), session, TraceBoard()).plain  # type: ignore[arg-type]
    assert "── run.jsonl · 0 spans · 0 traces · 20 logs · 25 metric points ·" in shown


def test_tail_warns_once_per_kind_of_forwarding_failure(
    cli: Callable[..., CliResult],
    scripted_receiver: Callable[..., RecordingReceiver],
    tmp_path: Path,
) -> None:
    from otelcli.otlp.writer import open_writer
    from tests.conftest import make_request
    from tests.receiver import Reply

    capture = tmp_path / "run.jsonl"
    with open_writer(str(capture)) as writer:
        for n in range(6):
            writer.write(make_request(2, trace_byte=n + 1))
    backend = scripted_receiver(lambda received, index: Reply(415))
    result = cli("tail", "--file", str(capture), "--forward", backend.base_url, "-f", "ndjson")
    warnings = [line for line in result.stderr.splitlines() if "forwarding failed" in line]
    assert len(backend.requests) == 6 and len(warnings) == 1, result.stderr
    assert "HTTP 415" in warnings[0] and "--protocol" in result.stderr  # the hint of a 415
    assert result.exit_code != 0


@pytest.mark.parametrize("command", ["capture", "tail"])
def test_a_command_that_exports_nothing_gets_a_protocol_hint(
    cli: Callable[..., CliResult], tmp_path: Path, command: str
) -> None:
    import sys

    silent = [sys.executable, "-c", "print('working, but my exporter speaks gRPC')"]
    args = [command, "-o", str(tmp_path / "run.pb")] if command == "capture" else [command]
    result = cli(*args, "-f", "ndjson" if command == "tail" else "json", "--", *silent)
    assert "the command exported no spans" in result.stderr, result.stderr
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in result.stderr
