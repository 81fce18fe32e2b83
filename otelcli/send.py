"""Load generation for `otelcli send`: pre-encoded scenario batches, paced, delivered.

The scenario template encodes each trace once; a batch only patches ids and timestamps in
bytes, so the generator is never the bottleneck (see otlp.template.TraceTemplate).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from otelcli.errors import UsageError
from otelcli.otlp.template import TraceTemplate
from otelcli.transport.delivery import Outgoing, Stop


@dataclass(frozen=True)
class LoadPlan:
    spans_per_copy: int
    count: int | None = None  # spans to send (rounded up to whole traces); None: until duration
    rate: float | None = None  # spans per second; None: as fast as possible
    duration_s: float | None = None
    batch_size: int = 512  # spans per request, at least one whole trace

    def __post_init__(self) -> None:
        if self.count is None and self.duration_s is None:
            raise UsageError("load needs --count or --duration")
        if self.rate is not None and self.rate <= 0:
            raise UsageError("--rate must be positive")

    @property
    def copies_per_batch(self) -> int:
        return max(1, self.batch_size // self.spans_per_copy)

    @property
    def total_copies(self) -> int | None:
        """Traces to send, or None when only the duration bounds the run."""
        limits = []
        if self.count is not None:
            limits.append(math.ceil(self.count / self.spans_per_copy))
        if self.duration_s is not None and self.rate is not None:
            limits.append(math.ceil(self.duration_s * self.rate / self.spans_per_copy))
        return min(limits) if limits else None


def generate(
    plan: LoadPlan,
    template: TraceTemplate,
    clock: Callable[[], float] = time.monotonic,
    stop: Stop | None = None,
) -> Iterator[Outgoing]:
    """Batches of whole traces, each due when the rate allows; stops at count or duration,
    or as soon as `stop` is requested."""
    started = clock()
    remaining = plan.total_copies
    sent_spans = 0
    while remaining is None or remaining > 0:
        if stop is not None and stop.requested:
            return
        if plan.duration_s is not None and clock() - started >= plan.duration_s:
            return
        copies = (
            plan.copies_per_batch if remaining is None else min(remaining, plan.copies_per_batch)
        )
        due = started + sent_spans / plan.rate if plan.rate else None
        spans = copies * plan.spans_per_copy
        yield Outgoing(spans, data=template.batch(copies), due=due)
        sent_spans += spans
        if remaining is not None:
            remaining -= copies
