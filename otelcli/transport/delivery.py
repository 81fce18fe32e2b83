"""Deliver a stream of batches through an exporter: concurrency, pacing, dead letters, counts.

Shared by replay, send's load mode and portkey. The report always adds up:
offered = accepted + rejected + failed + not_sent, and failed spans are exactly the ones
written to the dead-letter file when there is one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import EndpointRejected, Interrupted, OtelcliError
from otelcli.otlp.spans import count_spans
from otelcli.otlp.writer import BatchWriter
from otelcli.transport.exporter import ExportResult, OtlpExporter


@dataclass
class Outgoing:
    """One request to send: a batch, or pre-encoded protobuf bytes with their span count."""

    spans: int
    batch: ExportTraceServiceRequest | None = None
    data: bytes | None = None
    due: float | None = None  # monotonic time before which it must not be sent (pacing)

    @classmethod
    def of(cls, batch: ExportTraceServiceRequest, due: float | None = None) -> Outgoing:
        return cls(count_spans(batch), batch=batch, due=due)


@dataclass
class DeliveryReport:
    offered: int = 0  # spans handed to the exporter
    accepted: int = 0
    rejected: int = 0  # dropped by the endpoint under partial success
    failed: int = 0  # not delivered (dead-lettered when there is a dead-letter file)
    dead_lettered: int = 0
    not_sent: int = 0  # never attempted (interrupted)
    requests: int = 0
    attempts: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    errors: list[OtelcliError] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False

    def add(self, result: ExportResult) -> None:
        self.accepted += result.accepted
        self.rejected += result.rejected
        self.failed += result.failed
        self.requests += result.requests
        self.attempts += result.attempts
        if result.status is not None:
            self.statuses[result.status] += 1
            self.latencies_s.append(result.latency_s)
        for message in result.messages:
            self.messages[message] += 1
        if result.error is not None and all(e.message != result.error.message for e in self.errors):
            self.errors.append(result.error)

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

    def outcome(self) -> OtelcliError | None:
        """The error to exit with when anything was not delivered, else None."""
        if self.errors and self.failed:
            first = self.errors[0]
            return type(first)(f"{self.failed:,} spans not delivered: {first.message}", first.hint)
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
            "offered": self.offered,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "dead_lettered": self.dead_lettered,
            "not_sent": self.not_sent,
            "requests": self.requests,
            "retries": self.attempts - self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency": self.latency_percentiles(),
            "elapsed_s": round(self.elapsed_s, 3),
            "spans_per_second": round(self.spans_per_second, 1),
            "messages": dict(self.messages),
            "errors": [e.to_dict() for e in self.errors],
            "interrupted": self.interrupted,
        }


def deliver(
    outgoing: Iterable[Outgoing],
    exporter: OtlpExporter,
    *,
    concurrency: int = 4,
    dead_letter: BatchWriter | None = None,
    on_progress: Callable[[DeliveryReport], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    report = DeliveryReport()
    started = clock()
    in_flight: set[Future[ExportResult]] = set()
    limit = max(1, concurrency) * 2  # bounded read-ahead keeps memory flat

    def settle(done: Iterable[Future[ExportResult]]) -> None:
        for future in done:
            in_flight.discard(future)
            result = future.result()
            report.add(result)
            if dead_letter is not None:
                for batch in result.undelivered:
                    dead_letter.write(batch)
                    report.dead_lettered += count_spans(batch)
            if on_progress is not None:
                on_progress(report)

    def send(item: Outgoing) -> ExportResult:
        if item.batch is not None:
            return exporter.export(item.batch)
        return exporter.export_serialized(item.data or b"", item.spans)

    iterator = iter(outgoing)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        try:
            for item in iterator:
                report.offered += item.spans
                while len(in_flight) >= limit:
                    settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
                if item.due is not None:
                    delay = item.due - clock()
                    if delay > 0:
                        sleep(delay)
                in_flight.add(pool.submit(send, item))
                if on_progress is not None and len(in_flight) == 1:
                    on_progress(report)
            settle(wait(in_flight).done)
        except KeyboardInterrupt:
            # Stop reading; let requests already on the wire finish so they are counted.
            report.interrupted = True
            for future in in_flight:
                future.cancel()
            settle(wait([f for f in in_flight if not f.cancelled()]).done)
            report.not_sent = report.offered - (report.accepted + report.rejected + report.failed)
    report.elapsed_s = clock() - started
    return report
