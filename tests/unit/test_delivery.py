"""deliver() against loopback servers: stopping mid-run loses nothing, unknown stays apart."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from otelcli.errors import ExitCode, Interrupted, NetworkError, Terminated
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import BatchWriter, open_writer
from otelcli.transport.config import ExporterConfig
from otelcli.transport.delivery import DeliveryReport, Outgoing, Stop, deliver, stop_on_signals
from otelcli.transport.exporter import OtlpExporter
from tests.conftest import make_request
from tests.raw_server import RawServer, hold
from tests.receiver import Received, RecordingReceiver, Reply

Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]


def ids_in(path: Path) -> list[bytes]:
    return [s.span.span_id for batch in read_batches([str(path)]) for s in iter_spans(batch)]


def batches(count: int, spans: int = 5) -> list[Outgoing]:
    return [Outgoing.of(make_request(spans, trace_byte=n + 1)) for n in range(count)]


def test_a_stop_while_reading_counts_and_keeps_every_span(
    receiver: RecordingReceiver, tmp_path: Path
) -> None:
    stop = Stop()
    items = batches(40)

    def source() -> Iterator[Outgoing]:
        for n, item in enumerate(items):
            if n == 10:
                stop.request(signal.SIGINT)  # as a signal would, between two reads
            yield item

    dead = tmp_path / "dead.jsonl"
    with OtlpExporter(ExporterConfig(endpoint=receiver.url)) as exporter:
        with open_writer(str(dead)) as writer:
            report = deliver(source(), exporter, concurrency=2, dead_letter=writer, stop=stop)
    assert report.interrupted and report.signal == "SIGINT"
    assert report.taken == 200 and report.offered == report.accepted and report.adds_up
    assert report.not_sent >= 150  # the source went on; deliver took no more to send
    assert report.accepted == len(receiver.spans)
    undelivered = report.failed + report.unknown + report.not_sent
    assert report.dead_lettered == undelivered == len(ids_in(dead))
    error = report.outcome(stop)
    assert (
        isinstance(error, Interrupted) and int(error.exit_code) == ExitCode.INTERRUPTED.value == 130
    )


def test_requests_on_the_wire_get_only_the_grace_period(tmp_path: Path) -> None:
    stop = Stop()
    made: list[str] = []

    def unsent() -> BatchWriter:
        made.append(str(tmp_path / "unsent.jsonl"))
        return open_writer(made[0])

    with RawServer(hold).running() as server:
        # No deadline: without the stop these requests would wait for ever.
        config = ExporterConfig(endpoint=server.url, timeout_s=None)
        results: list[DeliveryReport] = []

        def run() -> None:
            with OtlpExporter(config) as exporter:
                results.append(
                    deliver(
                        batches(6),
                        exporter,
                        concurrency=2,
                        stop=stop,
                        unsent=unsent,
                        grace_s=1.0,
                    )
                )

        worker = threading.Thread(target=run)
        worker.start()
        assert server.wait_for_connections(2)
        started = time.monotonic()
        stop.request(signal.SIGTERM)
        worker.join(60)
        assert not worker.is_alive()
        assert time.monotonic() - started < 30  # held for 120 s otherwise
    [report] = results
    # The two requests held by the server were sent: unknown, not failed.
    assert (report.unknown, report.failed, report.not_sent) == (10, 0, 20)
    assert report.adds_up and report.signal == "SIGTERM"
    assert made and len(ids_in(Path(made[0]))) == report.dead_lettered == 30
    error = report.outcome(stop)
    assert (
        isinstance(error, Terminated) and int(error.exit_code) == ExitCode.TERMINATED.value == 143
    )
    assert "10 unknown (timed out after sending)" in error.message


def test_unknown_is_its_own_outcome(tmp_path: Path) -> None:
    with RawServer(hold).running() as server:
        config = ExporterConfig(endpoint=server.url, timeout_s=1.0)
        with OtlpExporter(config) as exporter:
            report = deliver(batches(2), exporter, concurrency=2)
    assert (report.accepted, report.failed, report.unknown) == (0, 0, 10)
    summary = report.to_dict()
    assert summary["unknown"] == 10 and summary["failed"] == 0 and summary["adds_up"]
    error = report.outcome()
    assert isinstance(error, NetworkError) and error.exit_code == ExitCode.NETWORK
    assert error.message.startswith("10 spans unknown: timed out after sending")


def test_no_dead_letter_file_is_made_without_a_stop(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(400))

    def unsent() -> BatchWriter:
        raise AssertionError("the unsent file is only for a stopped run")

    with OtlpExporter(ExporterConfig(endpoint=receiver.url)) as exporter:
        report = deliver(batches(3), exporter, unsent=unsent)
    assert report.failed == 15 and report.dead_lettered == 0 and not report.interrupted


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_request_the_stop_and_the_handlers_come_back(signum: int) -> None:
    before = signal.getsignal(signum)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signum)
        ends = time.monotonic() + 30
        while not stop.requested and time.monotonic() < ends:
            time.sleep(0.01)  # the handler runs between two bytecodes of this thread
        assert stop.signum == signum
    assert signal.getsignal(signum) is before


def test_off_the_main_thread_no_handler_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def run() -> None:
        with stop_on_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    assert seen == [before]


def test_a_batch_is_counted_once_taken(receiver: RecordingReceiver) -> None:
    # A stop before the first batch: it is taken, counted and parked, never sent.
    stop = Stop()
    stop.request()
    with OtlpExporter(ExporterConfig(endpoint=receiver.url)) as exporter:
        report = deliver(batches(3), exporter, stop=stop)
    assert report.taken == report.not_sent == 15 and receiver.requests == []
    assert report.offered == 0  # taken, never sent
    assert report.adds_up
