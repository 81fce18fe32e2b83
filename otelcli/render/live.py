"""The outputs of `otelcli tail`: a live screen, trees printed once settled, or NDJSON spans.

Each takes batches as the consumer receives them and has `tick()` (called a few times a second)
and `close()`. None of them drops a span: the live screen shows what fits, the tree printer
prints every trace once (on settling, eviction or close), NDJSON writes every matching span.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from otelcli.otlp.traces import SpanFilter, TraceBoard, TraceEntry, span_record
from otelcli.render.tree import BoardView, TreeStyle, render_trace

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.pricing.summary import GenAISummary, Summarizer

StatusLine = Callable[[], Text]


class LiveScreen:
    """A rich Live display redrawn at most `refresh_s` apart, from the consumer's thread."""

    def __init__(
        self,
        console: Console,
        board: TraceBoard,
        summarizer: Summarizer,
        status: StatusLine,
        *,
        style: TreeStyle | None = None,
        span_filter: SpanFilter | None = None,
        idle_s: float = 2.0,
        refresh_s: float = 0.25,
    ) -> None:
        self.console = console
        self.board = board
        self.view = BoardView(
            board, summarizer, style or TreeStyle(), span_filter or SpanFilter(), idle_s
        )
        self.status = status
        self.refresh_s = refresh_s
        self.redraws = 0
        self._next = 0.0
        # Redrawn from our own loop (auto_refresh off): the board is never read mid-update.
        self._live = Live(
            console=console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="crop",
        )
        self._live.start()

    def add_batch(self, batch: ExportTraceServiceRequest) -> None:
        self.board.add_batch(batch)

    def add_logs(self, request: ExportLogsServiceRequest) -> None:
        self.board.add_logs(request)

    def tick(self, force: bool = False, final: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.refresh_s
        self.redraws += 1
        screen = self.view.renderable(self.status(), self.console.height, final)
        self._live.update(screen, refresh=True)

    def close(self) -> None:
        self.tick(force=True, final=True)
        self._live.stop()


class TreePrinter:
    """Prints each trace once, as a tree, when it settles (or is evicted, or at close)."""

    def __init__(
        self,
        console: Console,
        board: TraceBoard,
        summarizer: Summarizer,
        *,
        style: TreeStyle | None = None,
        span_filter: SpanFilter | None = None,
        idle_s: float = 2.0,
    ) -> None:
        self.console = console
        self.board = board
        self.summarizer = summarizer
        self.style = style or TreeStyle(max_nodes=1 << 30)
        self.span_filter = span_filter or SpanFilter()
        self.idle_s = idle_s
        self.printed = 0
        board.on_evict = self._print

    def add_batch(self, batch: ExportTraceServiceRequest) -> None:
        self.board.add_batch(batch)

    def add_logs(self, request: ExportLogsServiceRequest) -> None:
        self.board.add_logs(request)

    def _print(self, entry: TraceEntry) -> None:
        if not entry.spans or not self.span_filter.matches_trace(entry, self.summarizer):
            return
        self.console.print(render_trace(entry, self.summarizer, self.style, settled=True))
        self.printed += 1

    def tick(self, force: bool = False) -> None:
        for entry in self.board.pop_settled(self.idle_s):
            self._print(entry)

    def close(self) -> None:
        self.tick()
        for entry in self.board.pop_all():
            self._print(entry)


def _constant(summary: GenAISummary | None) -> Callable[[], GenAISummary | None]:
    return lambda: summary


class SpanLines:
    """One JSON line per matching span, written as batches arrive."""

    def __init__(
        self,
        write: Callable[[list[dict[str, Any]]], None],
        summarizer: Summarizer,
        *,
        attrs: Sequence[str] = (),
        span_filter: SpanFilter | None = None,
    ) -> None:
        self.write = write
        self.summarizer = summarizer
        self.attrs = attrs
        self.span_filter = span_filter or SpanFilter()
        self.spans_written = 0

    def add_batch(self, batch: ExportTraceServiceRequest) -> None:
        from otelcli.otlp.spans import iter_spans

        summarize = self.summarizer.summarize
        records = []
        for view in iter_spans(batch):
            summary = summarize(view)
            if self.span_filter.matches_span(view, _constant(summary)):
                records.append(span_record(view, summary, self.attrs))
        if records:
            self.write(records)
            self.spans_written += len(records)

    def add_logs(self, request: ExportLogsServiceRequest) -> None:
        pass  # counted by the receiver; the NDJSON stream holds spans only

    def tick(self, force: bool = False) -> None:
        pass

    def close(self) -> None:
        pass
