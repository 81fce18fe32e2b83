"""The one sink: where batches leave otelcli — a capture file, an endpoint (with dead letters),
or both — with one report.

    report = drain(outgoing, SinkTarget(output="run.pb", endpoint=config), stop=stop)

The file gets every batch as it passes on to delivery, so with both it holds everything even
when the endpoint fails. Delivery is `transport.delivery.deliver`: concurrency, pacing, dead
letters, signals and counts that add up. `tail`/`capture` keep their save file at
acknowledgement time and forward in the background (flows/receive.py), and report through the
same FileReport and DeliveryReport.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.otlp.formats import Format
from otelcli.otlp.signals import Signal
from otelcli.otlp.spans import count_spans
from otelcli.otlp.writer import BatchWriter, open_writer
from otelcli.redact import redact_url
from otelcli.transport.config import ExporterConfig
from otelcli.transport.delivery import DeliveryReport, Outgoing, Stop, deliver
from otelcli.transport.exporter import OtlpExporter


@dataclass(frozen=True)
class SinkTarget:
    output: str | None = None  # a capture file; "-" is standard output
    output_format: Format | None = None  # None: from the extension
    endpoint: ExporterConfig | None = None
    dead_letter: str | None = None  # batches the endpoint did not take
    concurrency: int = 4
    # Without --dead-letter, what a signal leaves unsent goes beside the first of these.
    inputs: Sequence[str] = ()
    signal: Signal = Signal.TRACES  # what the endpoint gets (its path: /v1/traces, ...)

    @property
    def data_on_stdout(self) -> bool:
        """Whether the data takes standard output (then reports go to stderr)."""
        return self.output == "-"

    @property
    def empty(self) -> bool:
        return self.output is None and self.endpoint is None


@dataclass
class FileReport:
    path: str
    format: str
    compressed: bool
    batches: int = 0
    spans: int = 0
    bytes: int = 0
    log_records: int = 0
    data_points: int = 0
    files: dict[str, str] = field(default_factory=dict)  # signal -> file, when split

    @classmethod
    def of(cls, writer: BatchWriter, spans: int) -> FileReport:
        others = writer.others.values()
        return cls(
            writer.path,
            writer.format.value,
            writer.compressed,
            writer.batches + sum(other.batches for other in others),
            spans,
            writer.bytes_written + sum(other.bytes_written for other in others),
            writer.records[Signal.LOGS],
            writer.records[Signal.METRICS],
            writer.paths if writer.others else {},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "compressed": self.compressed,
            "batches": self.batches,
            "spans": self.spans,
            "log_records": self.log_records,
            "data_points": self.data_points,
            "files": self.files,
            "bytes": self.bytes,
        }


@dataclass
class SinkReport:
    file: FileReport | None = None
    endpoint: str | None = None  # redacted
    delivery: DeliveryReport | None = None
    dead_letter: str | None = None  # where undelivered batches went
    unsent_file: bool = False  # dead_letter was chosen by otelcli after a signal
    signal: str | None = None
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.file.to_dict() if self.file else None,
            "endpoint": self.endpoint,
            "delivery": self.delivery.to_dict() if self.delivery else None,
            "dead_letter": self.dead_letter,
            "unsent_file": self.unsent_file,
            "signal": self.signal,
        }


def unsent_path(inputs: Sequence[str]) -> str:
    """Where spans an interrupted run did not deliver go without --dead-letter: beside the first
    input (the working directory for stdin), never over an existing file."""
    first = next((path for path in inputs if path != "-"), None)
    base = first if first is not None else "stdin"
    candidate = f"{base}.unsent.jsonl"
    number = 1
    while os.path.lexists(candidate):
        candidate = f"{base}.unsent-{number}.jsonl"
        number += 1
    return candidate


def drain(
    outgoing: Iterable[Outgoing],
    target: SinkTarget,
    *,
    stop: Stop | None = None,
    on_progress: Callable[[SinkReport], None] | None = None,
) -> SinkReport:
    """Everything in `outgoing` to the file, the endpoint, or both; stops once `stop` is asked."""
    stop = stop or Stop()
    report = SinkReport(dead_letter=target.dead_letter)
    writer = open_writer(target.output, target.output_format) if target.output else None
    written = 0

    def through_file(items: Iterable[Outgoing]) -> Iterator[Outgoing]:
        nonlocal written
        for item in items:
            if writer is not None:
                if item.batch is not None:
                    writer.write(item.batch)
                else:
                    writer.write_bytes(item.data or b"")
                written += count_spans(item.batch) if item.batch is not None else item.spans
                report.file = FileReport.of(writer, written)
            yield item

    try:
        if target.endpoint is None:
            for _ in through_file(outgoing):
                if on_progress is not None:
                    on_progress(report)
                if stop.requested:
                    break
        else:
            report.endpoint = redact_url(target.endpoint.for_signal(target.signal).endpoint)
            _deliver(through_file(outgoing), target, report, stop, on_progress)
    except BaseException:
        if writer is not None:
            writer.close(discard=True)
        raise
    if writer is not None:
        writer.close()
        report.file = FileReport.of(writer, written)
    if stop.requested:
        report.signal = stop.signal_name
        if report.error is None:
            report.error = stop.error(f"stopped after writing {written:,} spans")
    return report


def _deliver(
    items: Iterator[Outgoing],
    target: SinkTarget,
    report: SinkReport,
    stop: Stop,
    on_progress: Callable[[SinkReport], None] | None,
) -> None:
    assert target.endpoint is not None

    def unsent() -> BatchWriter:
        report.dead_letter = unsent_path(target.inputs)
        report.unsent_file = True
        return open_writer(report.dead_letter)

    def progress(delivery: DeliveryReport) -> None:
        report.delivery = delivery
        if on_progress is not None:
            on_progress(report)

    dead_letter = open_writer(target.dead_letter) if target.dead_letter else None
    try:
        with OtlpExporter(target.endpoint, signal=target.signal) as exporter:
            report.delivery = deliver(
                items,
                exporter,
                concurrency=target.concurrency,
                dead_letter=dead_letter,
                unsent=unsent if target.inputs else None,
                stop=stop,
                on_progress=progress,
            )
    finally:
        if dead_letter is not None:
            dead_letter.close()
    report.signal = report.delivery.signal
    report.error = report.delivery.outcome(stop)
    if report.error is not None and report.dead_letter and report.delivery.dead_lettered:
        report.error.hint = (
            f"{report.delivery.dead_lettered:,} spans not delivered are in "
            f"{report.dead_letter}: `otelcli replay {report.dead_letter}` sends them"
            + (
                " (check the backend first: some may have arrived)"
                if report.delivery.unknown
                else ""
            )
        )


FORWARD_BACKLOG = 1000  # batches waiting for the endpoint while receiving goes on


def failure_kind(error: OtelcliError) -> tuple[str, str]:
    """What makes two failures the same for a warning: the error's code and HTTP status."""
    import re

    status = re.search(r"HTTP \d{3}", error.message)
    return error.code, status.group(0) if status else ""


class BackgroundSink:
    """The sink fed one batch at a time, on a thread of its own (tail --forward).

    A slow or failing endpoint never holds up the caller: batches wait in a bounded queue, and
    a batch that finds it full is not attempted (counted as offered and not sent). `close`
    finishes what is queued and returns the same SinkReport as `drain`."""

    def __init__(
        self,
        target: SinkTarget,
        backlog: int = FORWARD_BACKLOG,
        on_failure: Callable[[OtelcliError], None] | None = None,
    ) -> None:
        import queue
        import threading

        self.target = target
        self.overflow = 0  # spans that found the queue full
        # the counts so far, updated as requests settle (read by the live view)
        self.live: DeliveryReport | None = None
        self.on_failure = on_failure  # told once per kind of failure, on the sink's thread
        self._kinds: set[tuple[str, str]] = set()
        self._queue: queue.Queue[Outgoing | None] = queue.Queue(backlog)
        self._stop = Stop()
        self._report: SinkReport | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="otelcli-forward", daemon=True)
        self._thread.start()

    def submit(self, batch: Any) -> None:
        import queue

        item = Outgoing.of(batch)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.overflow += item.spans

    def _items(self) -> Iterator[Outgoing]:
        while (item := self._queue.get()) is not None:
            yield item

    def _progress(self, report: SinkReport) -> None:
        delivery = self.live = report.delivery
        if delivery is None or self.on_failure is None:
            return
        for error in delivery.errors:
            kind = failure_kind(error)
            if kind not in self._kinds:
                self._kinds.add(kind)
                self.on_failure(error)

    def _run(self) -> None:
        try:
            self._report = drain(
                self._items(), self.target, stop=self._stop, on_progress=self._progress
            )
        except BaseException as exc:  # noqa: BLE001 - reported by close, on the caller's thread
            self._failure = exc

    def close(self, timeout_s: float = 30.0) -> SinkReport:
        """Finish what is queued; after `timeout_s` the rest is cut off and counted not sent."""
        from otelcli.errors import NetworkError

        self._queue.put(None)
        self._thread.join(timeout_s)
        gave_up = self._thread.is_alive()
        if gave_up:
            self._stop.request()
            self._thread.join()
        if self._failure is not None:
            raise self._failure
        report = self._report
        assert report is not None
        delivery = report.delivery or DeliveryReport()
        report.delivery = delivery
        if self.overflow:
            delivery.taken += self.overflow
            delivery.not_sent += self.overflow
        if gave_up or report.error is None and self.overflow:
            report.signal = None
            delivery.interrupted = False
            delivery.signal = None
            why = f"gave up waiting after {timeout_s:g} s" if gave_up else "the backlog was full"
            report.error = NetworkError(
                f"{delivery.not_sent:,} spans not forwarded ({why})",
                hint="the endpoint is slower than what arrives; the saved copy has everything",
            )
        return report
