"""Deliver a stream of batches through an exporter: concurrency, pacing, dead letters, counts.

Shared by replay, send's load mode and portkey. The report always adds up:
taken = offered + not_sent, and offered (the spans sent) = accepted + rejected + failed +
unknown. Failed spans were not delivered;
unknown ones timed out after their request was sent (they may have arrived); not-sent ones were
taken from the source but never attempted (an interruption). Every failed, unknown and not-sent
batch goes to the dead-letter writer when there is one (`dead_lettered` counts them); without
one, to the `unsent` writer once the run is stopped.

Stopping (SIGINT, SIGTERM): `stop_on_signals()` installs handlers that only record the signal in
a Stop; deliver looks at it between steps, so a batch is always counted once it is taken. Then
the source stops reading (it watches the same Stop), requests already on the wire get a short
grace period (the exporter's cut_off), queued ones and whatever the source still held are
not_sent, and the report names the signal.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import (
    EndpointRejected,
    Interrupted,
    NetworkError,
    OtelcliError,
    Terminated,
)
from otelcli.otlp.signals import Batch, count_records
from otelcli.otlp.writer import BatchWriter
from otelcli.transport.exporter import ExportResult, OtlpExporter

GRACE_S = 5.0  # after a stop, how long requests already on the wire may still take
POLL_S = 0.1  # how often the delivering thread looks at the Stop while it waits

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """A request to stop, from a signal handler or code. Handlers only assign attributes here
    (no locks), so one can never deadlock the thread it interrupts."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal asked to stop
        self.count = 0  # how many times stopping was asked

    def request(self, signum: int = signal.SIGINT) -> None:
        if self.signum is None:
            self.signum = signum
        self.count += 1

    @property
    def requested(self) -> bool:
        return self.count > 0

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def error(self, message: str) -> Interrupted:
        """The error to exit with: 143 for SIGTERM, 130 otherwise."""
        if self.signum == signal.SIGTERM:
            return Terminated(f"terminated (SIGTERM): {message}")
        return Interrupted(f"interrupted: {message}")


@contextmanager
def stop_on_signals(stop: Stop | None = None) -> Iterator[Stop]:
    """SIGINT and SIGTERM request `stop` instead of ending the process, while inside; the
    previous handlers come back after. Off the main thread nothing is installed."""
    stop = stop or Stop()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def handler(signum: int, frame: object) -> None:
            stop.request(signum)

        for wanted in STOP_SIGNALS:
            try:
                previous[wanted] = signal.signal(wanted, handler)
            except (OSError, ValueError):  # pragma: no cover - a platform without it
                pass
    try:
        yield stop
    finally:
        for installed, handler_before in previous.items():
            signal.signal(installed, handler_before)


@dataclass
class Outgoing:
    """One request to send: a batch, or pre-encoded protobuf bytes with their span count."""

    spans: int  # spans, log records or data points
    batch: Batch | None = None
    data: bytes | None = None
    due: float | None = None  # monotonic time before which it must not be sent (pacing)

    @classmethod
    def of(cls, batch: Batch, due: float | None = None) -> Outgoing:
        return cls(count_records(batch), batch=batch, due=due)


@dataclass
class DeliveryReport:
    taken: int = 0  # spans taken from the source (sent, or not sent when interrupted)
    accepted: int = 0
    rejected: int = 0  # dropped by the endpoint under partial success
    failed: int = 0  # not delivered
    unknown: int = 0  # timed out after sending: may have been delivered
    not_sent: int = 0  # never attempted (interrupted)
    dead_lettered: int = 0  # failed, unknown and not-sent spans written to a dead-letter file
    requests: int = 0
    attempts: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    errors: list[OtelcliError] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    signal: str | None = None  # SIGINT or SIGTERM when a signal stopped the run

    def add(self, result: ExportResult) -> None:
        self.accepted += result.accepted
        self.rejected += result.rejected
        self.failed += result.failed
        self.unknown += result.unknown
        self.not_sent += result.not_sent
        self.requests += result.requests
        self.attempts += result.attempts
        if result.status is not None:
            self.statuses[result.status] += 1
            self.latencies_s.append(result.latency_s)
        for message in result.messages:
            self.messages[message] += 1
        error = result.error
        if (
            error is not None
            and not isinstance(error, Interrupted)
            and all(e.message != error.message for e in self.errors)
        ):
            self.errors.append(error)

    @property
    def offered(self) -> int:
        """Spans handed to the exporter: taken, less those an interruption left unsent."""
        return self.taken - self.not_sent

    @property
    def adds_up(self) -> bool:
        return self.offered == self.accepted + self.rejected + self.failed + self.unknown

    @property
    def spans_per_second(self) -> float:
        return self.accepted / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def latency_percentiles(self) -> dict[str, float]:
        if not self.latencies_s:
            return {}
        ordered = sorted(self.latencies_s)

        def pick(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return {
            "p50_ms": pick(0.50),
            "p95_ms": pick(0.95),
            "p99_ms": pick(0.99),
            "max_ms": ordered[-1] * 1000,
        }

    def outcome(self, stop: Stop | None = None) -> OtelcliError | None:
        """The error to exit with when anything was not delivered, else None. A signal wins:
        the run was stopped, whatever else happened (130 for SIGINT, 143 for SIGTERM)."""
        if self.interrupted:
            parts = [f"{self.not_sent:,} spans not sent"]
            if self.failed:
                parts.append(f"{self.failed:,} failed")
            if self.unknown:
                parts.append(f"{self.unknown:,} unknown (timed out after sending)")
            return (stop or _stop_for(self.signal)).error(", ".join(parts))
        if self.errors and self.failed:
            first = next((e for e in self.errors if not _is_unknown(e)), self.errors[0])
            also = f" (and {self.unknown:,} unknown)" if self.unknown else ""
            return type(first)(
                f"{self.failed:,} spans not delivered{also}: {first.message}", first.hint
            )
        if self.unknown:
            sent = next((e for e in self.errors if _is_unknown(e)), None)
            return NetworkError(
                f"{self.unknown:,} spans unknown: timed out after sending, with no answer; "
                "the endpoint may have received them"
                + (f" ({sent.message})" if sent is not None else ""),
                hint="they are counted apart from failed ones and dead-lettered all the same: "
                "check the backend before replaying them",
            )
        if self.rejected:
            detail = "; ".join(self.messages) or "no reason given"
            return EndpointRejected(
                f"the endpoint rejected {self.rejected:,} spans (partial success): {detail}",
                hint="rejected spans cannot be identified, so they are not dead-lettered",
            )
        if self.not_sent:
            return Interrupted(f"interrupted: {self.not_sent:,} spans were not sent")
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "taken": self.taken,
            "offered": self.offered,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "unknown": self.unknown,
            "not_sent": self.not_sent,
            "dead_lettered": self.dead_lettered,
            "requests": self.requests,
            "retries": self.attempts - self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency": self.latency_percentiles(),
            "elapsed_s": round(self.elapsed_s, 3),
            "spans_per_second": round(self.spans_per_second, 1),
            "messages": dict(self.messages),
            "errors": [e.to_dict() for e in self.errors],
            "interrupted": self.interrupted,
            "signal": self.signal,
            "adds_up": self.adds_up,
        }


def _is_unknown(error: OtelcliError) -> bool:
    return error.message.startswith("unknown:")


def _stop_for(name: str | None) -> Stop:
    stop = Stop()
    stop.request(signal.Signals[name] if name else signal.SIGINT)
    return stop


def deliver(
    outgoing: Iterable[Outgoing],
    exporter: OtlpExporter,
    *,
    concurrency: int = 4,
    dead_letter: BatchWriter | None = None,
    unsent: Callable[[], BatchWriter] | None = None,
    stop: Stop | None = None,
    grace_s: float = GRACE_S,
    on_progress: Callable[[DeliveryReport], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send every batch of `outgoing`; see the module docstring for the counts and for stopping.

    `unsent` makes the writer for what was not delivered once stopped when there is no
    `dead_letter` writer (called at most once, only if there is something to write)."""
    report = DeliveryReport()
    stop = stop or Stop()
    started = clock()
    in_flight: dict[Future[ExportResult], Outgoing] = {}
    limit = max(1, concurrency) * 2  # bounded read-ahead keeps memory flat
    seen_stops = 0
    made: list[BatchWriter] = []

    def writer() -> BatchWriter | None:
        if dead_letter is not None:
            return dead_letter
        if not stop.requested or unsent is None:
            return None
        if not made:
            made.append(unsent())
        return made[0]

    def keep(batches: Iterable[Batch]) -> None:
        target = writer()
        if target is None:
            return
        for batch in batches:
            target.write(batch)
            report.dead_lettered += count_records(batch)

    def stopping() -> bool:
        """Has a stop been asked since last time? Tell the exporter (never from a handler)."""
        nonlocal seen_stops
        if stop.count != seen_stops:
            first = seen_stops == 0
            seen_stops = stop.count
            report.interrupted = True
            report.signal = stop.signal_name
            exporter.cut_off(grace_s if first else 0.0)  # a second signal: no more grace
        return stop.requested

    def park(item: Outgoing) -> None:
        """Taken but never attempted."""
        report.not_sent += item.spans
        if writer() is not None:
            keep([item.batch if item.batch is not None else _decode(item.data)])

    def settle(done: Iterable[Future[ExportResult]]) -> None:
        for future in done:
            item = in_flight.pop(future)
            if future.cancelled():
                park(item)
                continue
            result = future.result()
            report.add(result)
            keep(result.undelivered)
            if on_progress is not None:
                on_progress(report)

    def send(item: Outgoing) -> ExportResult:
        if item.batch is not None:
            return exporter.export(item.batch)
        return exporter.export_serialized(item.data or b"", item.spans)

    def wait_until(due: float) -> None:
        while not stopping():
            delay = due - clock()
            if delay <= 0:
                return
            sleep(min(delay, POLL_S))

    iterator = iter(outgoing)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        try:
            while not stopping():
                item = next(iterator, None)
                if item is None:
                    break
                report.taken += item.spans  # counted the moment it is taken
                while len(in_flight) >= limit and not stopping():
                    settle(wait(in_flight, POLL_S, return_when=FIRST_COMPLETED).done)
                if item.due is not None:
                    wait_until(item.due)
                if stopping():
                    park(item)
                    break
                in_flight[pool.submit(send, item)] = item
                if on_progress is not None and len(in_flight) == 1:
                    on_progress(report)
        except KeyboardInterrupt:  # no handler installed (stop_on_signals): stop all the same
            stop.request(signal.SIGINT)
        while True:
            try:
                if stopping():
                    # The source has stopped reading; what it still holds is not sent.
                    for item in iterator:
                        report.taken += item.spans
                        park(item)
                    for future in list(in_flight):
                        future.cancel()
                while in_flight:
                    settle(wait(in_flight, POLL_S, return_when=FIRST_COMPLETED).done)
                    if stopping():
                        for future in list(in_flight):
                            future.cancel()
                break
            except KeyboardInterrupt:
                stop.request(signal.SIGINT)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for made_writer in made:
            made_writer.close()
    report.elapsed_s = clock() - started
    return report


def _decode(data: bytes | None) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest.FromString(data or b"")
