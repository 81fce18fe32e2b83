"""`otelcli replay`: read, rewrite, re-chunk, pace and deliver (or write), with exact accounting."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import OtelcliError, UsageError
from otelcli.otlp.batching import rechunk, rechunk_logs
from otelcli.otlp.reader import capture_readers, read_all
from otelcli.otlp.rewrite import IdRemapper, Rewrite, time_range
from otelcli.otlp.rewrite_signals import apply as rewrite_signal
from otelcli.otlp.rewrite_signals import signal_time_range
from otelcli.otlp.signals import (
    REQUEST_TYPES,
    Batch,
    Signal,
    Unused,
    count_records,
    signal_of,
)
from otelcli.otlp.spans import count_spans
from otelcli.otlp.split import items as split_items
from otelcli.otlp.split import split_batch
from otelcli.otlp.writer import signal_path
from otelcli.redact import redact_url
from otelcli.transport.config import ExporterConfig
from otelcli.transport.delivery import DeliveryReport, Outgoing, Stop
from otelcli.transport.sink import SinkReport, SinkTarget, drain

Progress = Callable[[int, int, int, float], None]  # (batches, bytes read, spans done, spans/s)


T = TypeVar("T")


def parse_pace(value: str) -> float | None:
    """None for as fast as possible, else the speed-up factor over the original timing."""
    text = value.strip().lower()
    if text == "max":
        return None
    if text == "original":
        return 1.0
    if text.endswith("x"):
        try:
            factor = float(text[:-1])
        except ValueError:
            factor = 0.0
        if factor > 0:
            return factor
    raise UsageError(f"--pace {value!r} is not max, original or Nx", hint="e.g. --pace 10x")


def _trace_id(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise UsageError(f"--trace-id {value!r} is not 32 hex digits")
    return raw


@dataclass
class ReplayPlan:
    inputs: list[str]
    rewrite: Rewrite
    rebase: str | None = None  # "end" or "start"
    speed: float | None = None  # None: as fast as possible
    batch_size: int = 512
    max_batch_bytes: int = 4 << 20
    concurrency: int = 4

    @classmethod
    def from_options(
        cls,
        *,
        inputs: Sequence[str],
        rebase_time: str | None,
        pace: str,
        new_ids: bool,
        service: str | None,
        resource_attrs: Sequence[str],
        drop_attrs: Sequence[str],
        trace_ids: Sequence[str],
        services: Sequence[str],
        since: str | None,
        until: str | None,
        batch_size: int,
        max_batch_bytes: int,
        concurrency: int,
    ) -> ReplayPlan:
        from otelcli.parse import parse_attr, parse_time

        if rebase_time is not None and rebase_time not in ("end", "start"):
            raise UsageError(f"--rebase-time {rebase_time!r} is not end or start")
        rewrite = Rewrite(
            ids=IdRemapper() if new_ids else None,
            service=service,
            resource_attributes=dict(parse_attr(item) for item in resource_attrs),
            drop_attributes=tuple(drop_attrs),
            trace_ids=frozenset(_trace_id(t) for t in trace_ids),
            services=tuple(services),
            since_ns=parse_time(since) if since else None,
            until_ns=parse_time(until) if until else None,
        )
        return cls(
            list(inputs),
            rewrite,
            rebase_time,
            parse_pace(pace),
            batch_size,
            max_batch_bytes,
            concurrency,
        )

    def total_bytes(self) -> int | None:
        try:
            return sum(os.path.getsize(path) for path in self.inputs)
        except OSError:
            return None  # stdin, or a file that will fail with a clear error when read


@dataclass
class ReplaySummary:
    target: str
    files: int
    read: int = 0
    filtered: int = 0
    written: int | None = None
    delivery: DeliveryReport | None = None
    dead_letter: str | None = None
    unsent_file: bool = False  # dead_letter is the default file made after an interruption
    time_shift_ns: int = 0
    error: OtelcliError | None = None
    signal: str | None = None  # the signal that stopped the run (a dry run too)
    unused: Unused = field(default_factory=Unused)  # not replayed (skipped folder files)
    signals: dict[str, SignalReplay] = field(default_factory=dict)  # logs, metrics

    @property
    def adds_up(self) -> bool:
        """read = filtered + accepted + rejected + failed + unknown + not_sent (or + written);
        with a --dead-letter file, every failed, unknown and not-sent span is in it. The same
        for each other signal, in its own records."""
        if not all(replay.adds_up for replay in self.signals.values()):
            return False
        if self.delivery is None:
            return self.read == self.filtered + (self.written or 0)
        d = self.delivery
        undelivered = d.failed + d.unknown + d.not_sent
        if self.dead_letter is not None and not self.unsent_file and d.dead_lettered != undelivered:
            return False
        return self.read == self.filtered + d.accepted + d.rejected + undelivered

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "files": self.files,
            "read": self.read,
            "filtered": self.filtered,
            "written": self.written,
            "delivery": self.delivery.to_dict() if self.delivery else None,
            "dead_letter": self.dead_letter,
            "unsent_file": self.unsent_file,
            "time_shift_ns": self.time_shift_ns,
            "signal": self.signal,
            "adds_up": self.adds_up,
            "signals": {name: replay.to_dict() for name, replay in self.signals.items()},
            "not_replayed": self.unused.to_dict(),
        }


@dataclass
class SignalReplay:
    """What replay did with one signal besides traces: counts in its own records."""

    signal: Signal
    read: int = 0  # log records or data points
    filtered: int = 0
    written: int | None = None
    delivery: DeliveryReport | None = None
    dead_letter: str | None = None
    unsent_file: bool = False

    @property
    def adds_up(self) -> bool:
        if self.delivery is None:
            return self.read == self.filtered + (self.written or 0)
        d = self.delivery
        undelivered = d.failed + d.unknown + d.not_sent
        return self.read == self.filtered + d.accepted + d.rejected + undelivered

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.signal.records,
            "read": self.read,
            "filtered": self.filtered,
            "written": self.written,
            "delivery": self.delivery.to_dict() if self.delivery else None,
            "dead_letter": self.dead_letter,
            "adds_up": self.adds_up,
        }


def _spool_stdin(inputs: list[str], stack: list[str]) -> list[str]:
    """Copy stdin to a temporary file, for plans that read the input twice."""
    if "-" not in inputs:
        return inputs
    handle = tempfile.NamedTemporaryFile(prefix="otelcli-stdin-", delete=False)
    with handle:
        shutil.copyfileobj(sys.stdin.buffer, handle)
    stack.append(handle.name)
    return [handle.name if path == "-" else path for path in inputs]


def _fit(batch: Batch, max_bytes: int) -> Iterator[Batch]:
    """Split a batch of any signal until each part encodes within `max_bytes` (a single span,
    log record or metric always goes)."""
    if batch.ByteSize() <= max_bytes or split_items(batch) <= 1:
        yield batch
        return
    for half in split_batch(batch):
        yield from _fit(half, max_bytes)


def run_replay(
    plan: ReplayPlan,
    config: ExporterConfig | None,
    *,
    output: str | None = None,
    dead_letter_path: str | None = None,
    on_progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    stop: Stop | None = None,
) -> ReplaySummary:
    """Replay `plan`. Once `stop` is requested (a signal) reading stops, and every span read
    but not delivered goes to the dead-letter file, or to `unsent_path(inputs)` without one."""
    if (config is None) == (output is None):
        raise UsageError("replay needs an endpoint or an output file, not both")
    temporary: list[str] = []
    stop = stop or Stop()
    try:
        needs_times = plan.rebase is not None or plan.speed is not None
        inputs = _spool_stdin(plan.inputs, temporary) if needs_times else plan.inputs
        return _run(
            plan, inputs, config, output, dead_letter_path, on_progress, clock, needs_times, stop
        )
    finally:
        for path in temporary:
            os.unlink(path)


def _until_stopped(batches: Iterator[T], stop: Stop) -> Iterator[T]:
    while not stop.requested:
        batch = next(batches, None)
        if batch is None:
            return
        yield batch


def _run(
    plan: ReplayPlan,
    inputs: list[str],
    config: ExporterConfig | None,
    output: str | None,
    dead_letter_path: str | None,
    on_progress: Progress | None,
    clock: Callable[[], float],
    needs_times: bool,
    stop: Stop,
) -> ReplaySummary:
    target = output or (redact_url(config.endpoint) if config else "")
    summary = ReplaySummary(target=target, files=len(inputs), dead_letter=dead_letter_path)
    first_start = 0
    if needs_times:
        first_start, last_end = _time_range(_until_stopped(read_all(inputs), stop))
        if plan.rebase == "end" and last_end:
            summary.time_shift_ns = time.time_ns() - last_end
        elif plan.rebase == "start" and first_start:
            summary.time_shift_ns = time.time_ns() - first_start
        plan.rewrite.time_shift_ns = summary.time_shift_ns
    readers = list(capture_readers(inputs, unused=summary.unused))
    read_bytes = 0
    started = clock()

    side: deque[Batch] = deque()  # logs and metrics on their way to the file (-o)

    def rewritten() -> Iterator[ExportTraceServiceRequest]:
        nonlocal read_bytes
        for reader in readers:
            # Once stopped, read nothing more: what was read still flows on, to be counted.
            for batch in _until_stopped(iter(reader), stop):
                read_bytes = sum(r.bytes_read for r in readers)
                if isinstance(batch, ExportTraceServiceRequest):
                    summary.read += count_spans(batch)
                    summary.filtered += plan.rewrite.apply(batch)
                    yield batch
                elif output is not None:
                    # A file takes every signal in one pass.
                    side.append(_rewrite_other(batch, plan, summary))
                else:
                    summary.unused.add(batch)  # sent in a pass of their own, below

    def outgoing() -> Iterator[Outgoing]:
        origin = first_start + summary.time_shift_ns
        for chunk in rechunk(rewritten(), plan.batch_size):
            while side:
                yield Outgoing.of(side.popleft())
            for part in _fit(chunk, plan.max_batch_bytes):
                batch = cast(ExportTraceServiceRequest, part)  # the halves of traces are traces
                due = None
                if plan.speed is not None and origin:
                    earliest = min(
                        s.start_time_unix_nano
                        for rs in batch.resource_spans
                        for ss in rs.scope_spans
                        for s in ss.spans
                    )
                    due = started + max(0, earliest - origin) / 1e9 / plan.speed
                yield Outgoing.of(batch, due)
        while side:
            yield Outgoing.of(side.popleft())

    def progress(report: SinkReport) -> None:
        if on_progress is None:
            return
        d = report.delivery
        if d is None:
            written = report.file.spans if report.file else 0
            on_progress(report.file.batches if report.file else 0, read_bytes, written, 0.0)
        else:
            done = d.accepted + d.rejected + d.failed + d.unknown
            on_progress(d.requests, read_bytes, done, d.accepted / max(clock() - started, 1e-9))

    sink_target = SinkTarget(
        output=output,
        endpoint=config,
        dead_letter=dead_letter_path,
        concurrency=plan.concurrency,
        inputs=inputs,
    )
    sink = drain(outgoing(), sink_target, stop=stop, on_progress=progress)
    summary.dead_letter, summary.unsent_file = sink.dead_letter, sink.unsent_file
    summary.signal, summary.error = sink.signal, sink.error
    if output is not None:
        summary.written = sink.file.spans if sink.file else 0
        for signal_summary in summary.signals.values():
            signal_summary.written = _written(sink, signal_summary.signal)
    else:
        summary.delivery = sink.delivery
        for signal in (Signal.LOGS, Signal.METRICS):
            if summary.unused.batches[signal] and not stop.requested:
                _replay_signal(signal, plan, inputs, config, dead_letter_path, summary, stop)
    return summary


def _rewrite_other(batch: Batch, plan: ReplayPlan, summary: ReplaySummary) -> Batch:
    assert not isinstance(batch, ExportTraceServiceRequest)
    signal = signal_of(batch)
    counts = summary.signals.setdefault(signal.value, SignalReplay(signal))
    counts.read += count_records(batch)
    counts.filtered += rewrite_signal(plan.rewrite, batch)
    return batch


def _written(sink: SinkReport, signal: Signal) -> int:
    if sink.file is None:
        return 0
    return sink.file.log_records if signal is Signal.LOGS else sink.file.data_points


def _replay_signal(
    signal: Signal,
    plan: ReplayPlan,
    inputs: list[str],
    config: ExporterConfig | None,
    dead_letter_path: str | None,
    summary: ReplaySummary,
    stop: Stop,
) -> None:
    """Send one signal's batches to its path (/v1/logs, /v1/metrics): a pass of its own over
    the inputs, with the same rewrite (so ids follow the spans' new ones) and accounting."""
    del summary.unused.batches[signal], summary.unused.records[signal]
    counts = summary.signals[signal.value] = SignalReplay(signal)
    kind = REQUEST_TYPES[signal]

    def rewritten() -> Iterator[Batch]:
        for batch in _until_stopped(read_all(inputs), stop):
            if isinstance(batch, kind):
                yield _rewrite_other(batch, plan, summary)

    def outgoing() -> Iterator[Outgoing]:
        # --batch-size counts log records as it counts spans; a metric's points stay together.
        batches: Iterator[Batch] = rewritten()
        if signal is Signal.LOGS:
            batches = rechunk_logs(
                cast(Iterator[ExportLogsServiceRequest], batches), plan.batch_size
            )
        for batch in batches:
            for part in _fit(batch, plan.max_batch_bytes):
                yield Outgoing.of(part)

    dead_letter = signal_path(dead_letter_path, signal) if dead_letter_path else None
    target = SinkTarget(
        endpoint=config,
        dead_letter=dead_letter,
        concurrency=plan.concurrency,
        inputs=inputs,
        signal=signal,
    )
    sink = drain(outgoing(), target, stop=stop)
    counts.delivery, counts.dead_letter = sink.delivery, sink.dead_letter
    counts.unsent_file = sink.unsent_file
    if summary.error is None and sink.error is not None:
        summary.error = sink.error
        summary.signal = summary.signal or sink.signal


def _time_range(batches: Iterator[Batch]) -> tuple[int, int]:
    """(earliest, latest) over spans, log records and metric points."""
    others: list[tuple[int, int]] = []

    def spans() -> Iterator[ExportTraceServiceRequest]:
        for batch in batches:
            if isinstance(batch, ExportTraceServiceRequest):
                yield batch
            else:
                others.append(signal_time_range([batch]))

    first, last = time_range(spans())
    for other_first, other_last in others:
        if other_first and (not first or other_first < first):
            first = other_first
        last = max(last, other_last)
    return first, last
