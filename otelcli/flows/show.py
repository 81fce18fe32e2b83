"""`otelcli show`: the traces of captures, assembled as trees, without a receiver.

Each trace goes to `on_trace` once it is whole: when the input ends, or earlier when more than
`max_traces` are open (the oldest goes, marked continued if more of it comes). Every span read
is counted; `shown` counts the traces the filter let through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.genai.pricing.summary import Summarizer, default_summarizer
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import count_spans
from otelcli.otlp.traces import SpanFilter, TraceBoard, TraceEntry


@dataclass(frozen=True)
class ShowRequest:
    inputs: Sequence[str]
    span_filter: SpanFilter = field(default_factory=SpanFilter)
    pricing: str | None = None
    max_traces: int = 10_000


@dataclass
class ShowResult:
    batches: int = 0
    spans: int = 0
    traces: int = 0
    shown: int = 0
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "spans": self.spans,
            "traces": self.traces,
            "shown": self.shown,
        }


def run(request: ShowRequest, on_trace: Callable[[TraceEntry, Summarizer], None]) -> ShowResult:
    result = ShowResult()
    summarizer = default_summarizer(request.pricing)

    def done(entry: TraceEntry) -> None:
        result.traces += 1
        if entry.spans and request.span_filter.matches_trace(entry, summarizer):
            result.shown += 1
            on_trace(entry, summarizer)

    board = TraceBoard(max_traces=request.max_traces, max_spans_per_trace=1 << 30, on_evict=done)
    for batch in read_batches(request.inputs):
        result.batches += 1
        result.spans += count_spans(batch)
        board.add_batch(batch)
    for entry in board.pop_all():
        done(entry)
    return result
