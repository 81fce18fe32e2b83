"""Tee received batches to a real backend, on a thread of its own.

A slow or failing backend never holds up the receiver: batches wait in a bounded queue, and
what cannot be delivered (the exporter gave up, or the queue was full) is counted and its
error kept, while the local copy (tail --save) has everything.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from otelcli.errors import OtelcliError
from otelcli.otlp.spans import count_spans

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.transport.config import ExporterConfig
    from otelcli.transport.exporter import OtlpExporter

DEFAULT_BACKLOG = 1000  # batches waiting to be forwarded


@dataclass
class ForwardStats:
    batches: int = 0
    spans_sent: int = 0  # accepted by the backend
    spans_rejected: int = 0  # partial success: the backend dropped them
    spans_failed: int = 0  # not delivered after the exporter's retries
    spans_overflow: int = 0  # not attempted: the backlog was full
    errors: int = 0
    last_error: OtelcliError | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def spans_lost(self) -> int:
        return self.spans_rejected + self.spans_failed + self.spans_overflow


class Forwarder:
    def __init__(
        self,
        config: ExporterConfig,
        exporter: OtlpExporter | None = None,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        from otelcli.transport.exporter import OtlpExporter

        self.config = config
        self.stats = ForwardStats()
        self._exporter = exporter or OtlpExporter(config)
        self._queue: queue.Queue[ExportTraceServiceRequest | None] = queue.Queue(backlog)
        self._thread = threading.Thread(target=self._run, name="otelcli-forward", daemon=True)
        self._thread.start()

    def submit(self, batch: ExportTraceServiceRequest) -> None:
        try:
            self._queue.put_nowait(batch)
        except queue.Full:
            self.stats.spans_overflow += count_spans(batch)
            self.stats.errors += 1

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        stats = self.stats
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            try:
                result = self._exporter.export(batch)
            except Exception as exc:  # never let the thread die with batches waiting
                stats.errors += 1
                stats.spans_failed += count_spans(batch)
                stats.last_error = OtelcliError(f"forwarding failed: {exc}")
                continue
            stats.batches += 1
            stats.spans_sent += result.accepted
            stats.spans_rejected += result.rejected
            stats.spans_failed += result.failed
            for message in result.messages:
                if message not in stats.messages and len(stats.messages) < 20:
                    stats.messages.append(message)
            if result.error is not None:
                stats.errors += 1
                stats.last_error = result.error

    def close(self, timeout_s: float | None = None) -> bool:
        """Finish what is queued (within `timeout_s`); True when everything was attempted."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        done = not self._thread.is_alive()
        if done:
            self._exporter.close()
        return done
