"""The outputs of `otelcli tail`: a live screen, trees printed once settled, or NDJSON spans.

Each takes batches as the consumer receives them and has `tick()` (called a few times a second)
and `close()`. None of them drops a span: the live screen shows what fits, the tree printer
prints every trace once (on settling, eviction or close), NDJSON writes every matching span.
`SessionView` subscribes one of them to the receiving session (flows/receive.py), with the
status line and the session's notes; `SessionNotes` only tells the notes (capture).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from otelcli.flows.receive import (
    LOGS,
    TRACES,
    Note,
    ReceiveResult,
    Receiving,
    SaveReport,
    Subscriber,
)
from otelcli.otlp.traces import SpanFilter, TraceBoard, TraceEntry, span_record
from otelcli.render.tree import BoardView, TreeStyle, render_trace

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.pricing.summary import GenAISummary, Summarizer
    from otelcli.genai.usage_metric import MetricsBoard
    from otelcli.render.output import Output

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
        self.metrics: MetricsBoard | None = None  # GenAI metrics, once any arrive
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

    def add_metrics(self, request: ExportMetricsServiceRequest) -> None:
        from otelcli.genai.usage_metric import MetricsBoard

        if self.metrics is None:
            self.metrics = MetricsBoard()
        self.metrics.add_batch(request)

    def tick(self, force: bool = False, final: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.refresh_s
        self.redraws += 1
        panel = metrics_panel(self.metrics) if self.metrics else None
        if panel is None:
            screen = self.view.renderable(self.status(), self.console, final)
            self._live.update(screen, refresh=True)
            return
        # The panel goes first; the traces get the lines below it (the console's height is
        # what the board view fills, so it is lent for the measure).
        height = self.console.height
        used = len(self.console.render_lines(panel, self.console.options, pad=False))
        self.console.height = max(5, height - used)
        try:
            screen = self.view.renderable(self.status(), self.console, final)
        finally:
            self.console.height = height
        self._live.update(Group(panel, screen), refresh=True)

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


# -- the session's subscribers -----------------------------------------------------------------


class SessionNotes(Subscriber):
    """Tells what the session says on stderr (the receiving line too, unless `listening` off)."""

    def __init__(self, out: Output, *, listening: bool = True) -> None:
        self.out = out
        self.listening = listening

    def note(self, note: Note) -> None:
        if note.kind == "listening" and not self.listening:
            return
        if note.level == "warning":
            self.out.warning(note.text)
        else:
            self.out.notice(note.text)


@dataclass(frozen=True)
class ViewOptions:
    mode: str  # live, tree or ndjson
    attrs: Sequence[str] = ()
    span_filter: SpanFilter | None = None
    max_traces: int = 100
    idle_s: float = 2.0
    pricing: str | None = None
    save: str | None = None  # named in the status line
    forward: str | None = None  # the endpoint, named in the status line


class SessionView(SessionNotes):
    """One of the outputs above, fed by the session; the live screen starts once receiving has."""

    def __init__(self, out: Output, options: ViewOptions) -> None:
        super().__init__(out, listening=options.mode != "live")  # the status line says it
        self.options = options
        live = options.mode == "live"
        self.signals = frozenset(
            {TRACES}
            if options.mode == "ndjson"
            else {TRACES, LOGS, *(("metrics",) if live else ())}
        )
        self.view: LiveScreen | TreePrinter | SpanLines | None = None

    def started(self, session: Receiving) -> None:
        from otelcli.genai.pricing.summary import default_summarizer

        options, out = self.options, self.out
        summarizer = default_summarizer(options.pricing)
        span_filter = options.span_filter or SpanFilter()
        if options.mode == "ndjson":
            self.view = SpanLines(
                out.lines, summarizer, attrs=options.attrs, span_filter=span_filter
            )
            return
        board = TraceBoard(max_traces=options.max_traces)
        if options.mode == "tree":
            self.view = TreePrinter(
                text_console(out),
                board,
                summarizer,
                style=TreeStyle(attrs=options.attrs, max_nodes=1 << 30),
                span_filter=span_filter,
                idle_s=options.idle_s,
            )
            return
        self.view = LiveScreen(
            out.console,
            board,
            summarizer,
            lambda: status_line(options, session, board),
            style=TreeStyle(attrs=options.attrs),
            span_filter=span_filter,
            idle_s=options.idle_s,
        )

    def batch(self, signal: str, request: Any) -> None:
        if self.view is None:
            return
        if signal == TRACES:
            self.view.add_batch(request)
        elif signal == LOGS:
            self.view.add_logs(request)
        elif signal == "metrics" and isinstance(self.view, LiveScreen):
            self.view.add_metrics(request)

    def tick(self) -> None:
        if self.view is not None:
            self.view.tick()

    def close(self) -> None:
        if self.view is not None:
            self.view.close()


def metrics_panel(board: MetricsBoard) -> Table:
    """GenAI metrics by model: calls, tokens, mean latency, error rate."""
    table = Table(title="GenAI metrics", title_justify="left", box=None, pad_edge=False)
    for column in ("model", "calls", "input tok", "output tok", "mean latency", "errors"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, row in board.by_model().items():
        mean, errors = row.mean_s, row.error_rate
        table.add_row(
            model,
            f"{row.calls:,}",
            f"{row.input_tokens:,}",
            f"{row.output_tokens:,}",
            "-" if mean is None else f"{mean:.2f}s",
            "-" if errors is None else f"{errors:.0%}",
        )
    return table


def text_console(out: Output) -> Console:
    """The terminal's console, or for pipes and files a wide one: trees wrap badly."""
    if out.is_terminal:
        return out.console
    import os

    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else 200
    return Console(file=out.stdout, width=width, no_color=True, highlight=False, emoji=False)


def status_line(options: ViewOptions, session: Receiving, board: TraceBoard) -> Text:
    text = Text(style="dim")
    text.append(f"── {session.listen or session.request.file}", style="bold")
    if session.grpc_listen is not None:
        text.append(f" · gRPC {session.grpc_listen}", style="bold")
    receivers = session.stats
    if receivers:
        spans = sum(stats.spans for stats in receivers)
        logs = sum(stats.log_records for stats in receivers)
        points = sum(stats.data_points for stats in receivers)
        refused = sum(stats.failed_requests for stats in receivers)
        text.append(f" · {spans:,} spans · {len(board.traces):,} traces")
        if logs:
            text.append(f" · {logs:,} logs")
        if points:
            text.append(f" · {points:,} metric points")
        if refused:
            last = next(stats.recent_errors[-1] for stats in receivers if stats.recent_errors)
            text.append(f" · {refused:,} requests refused (last: {last})", style="yellow")
    else:
        text.append(f" · {board.spans_received:,} spans · {len(board.traces):,} traces")
        if session.log_records:
            text.append(f" · {session.log_records:,} logs")
        if session.data_points:
            text.append(f" · {session.data_points:,} metric points")
    if options.save:
        text.append(f" · saving to {options.save}")
    if options.forward is not None:
        _forwarding(text, options.forward, session.forwarder)
    if options.span_filter is not None and options.span_filter.active:
        text.append(" · filtered")
    text.append(" · Ctrl-C to stop")
    return text


def _forwarding(text: Text, endpoint: str, forwarder: Any) -> None:
    """Where forwarding stands: what was accepted, and when spans fail, how many and why."""
    delivery = getattr(forwarder, "live", None)
    overflow = getattr(forwarder, "overflow", 0)
    text.append(f" · forwarding to {endpoint}")
    if delivery is None and not overflow:
        return
    accepted = delivery.accepted if delivery is not None else 0
    lost = overflow + (delivery.failed + delivery.unknown if delivery is not None else 0)
    text.append(f": {accepted:,} accepted")
    if lost or (delivery is not None and delivery.errors):
        last = delivery.errors[-1].message if delivery is not None and delivery.errors else ""
        reason = f" (last: {last})" if last else " (backlog full)"
        text.append(f", FAILING: {lost:,} not delivered{reason}", style="bold red")


def _refused_records(saved: SaveReport) -> str:
    """The records of the refused batches: spans, and the other signals when there are any."""
    text = f"{saved.refused_spans:,} spans"
    if saved.refused_log_records or saved.refused_data_points:
        text += (
            f", {saved.refused_log_records:,} log records, "
            f"{saved.refused_data_points:,} data points"
        )
    return text


def summary_lines(result: ReceiveResult) -> list[str]:
    """The end-of-run report of a session, for stderr."""
    lines = []
    where = f" on {result.listen}" if result.listen else f" from {result.source}"
    if result.grpc_listen:
        where += f" and gRPC {result.grpc_listen}"
    stats, grpc_stats = result.receiver, result.grpc_receiver
    spans, batches = result.spans, result.batches
    if stats or grpc_stats:  # the receivers' counts: batches refused for a retry are in them
        spans = stats.get("spans", 0) + grpc_stats.get("spans", 0)
        batches = stats.get("trace_requests", 0) + grpc_stats.get("trace_requests", 0)
    received = f"received {spans:,} spans in {batches:,} batches{where}"
    log_records = stats.get("log_records", 0) + grpc_stats.get("log_records", 0)
    data_points = stats.get("data_points", 0) + grpc_stats.get("data_points", 0)
    if result.source:  # read from --file: no receiver counted them
        log_records, data_points = result.log_records, result.data_points
    if log_records:
        received += f", {log_records:,} log records"
    if data_points:
        received += f", {data_points:,} metric data points"
    lines.append(received)
    if stats and stats.get("rejected_requests"):
        refused = ", ".join(f"{n} x HTTP {code}" for code, n in stats["rejected_requests"].items())
        lines.append(f"refused requests: {refused}")
    if grpc_stats.get("rejected_requests"):
        from otelcli.transport.grpc_receiver import grpc_code_name

        refused = ", ".join(
            f"{n} x {grpc_code_name(code)}" for code, n in grpc_stats["rejected_requests"].items()
        )
        lines.append(f"refused gRPC requests: {refused}")
    saved = result.saved
    if saved is not None:
        file = saved.file
        kept = f"{file.spans:,} spans"
        if file.log_records or file.data_points:
            kept += f", {file.log_records:,} log records, {file.data_points:,} data points"
        line = f"saved {kept} in {file.batches:,} batches to {file.path} ({file.format})"
        if file.files:
            line += "; one file per signal: " + ", ".join(
                f"{signal} {path}" for signal, path in file.files.items()
            )
        lines.append(line)
        if saved.refused_batches:
            reason = f": {saved.error.message}" if saved.error else ""
            lines.append(
                f"could not save {saved.refused_batches:,} batches "
                f"({_refused_records(saved)}), refused so that senders retry{reason}"
            )
        elif saved.error is not None:
            lines.append(f"the save file failed: {saved.error.message}")
    forward = result.forward
    if forward is not None:
        delivery = forward.delivery
        sent = delivery.accepted if delivery is not None else 0
        line = f"forwarded {sent:,} spans to {forward.endpoint}"
        if delivery is not None:
            lost = delivery.taken - delivery.accepted  # not sent ones too
            if lost:
                line += f"; {lost:,} not delivered"
        if forward.error is not None:
            line += f" ({forward.error.message})"
        lines.append(line)
    for signal, other in result.forwards.items():
        delivery = other.delivery
        sent = delivery.accepted if delivery is not None else 0
        what = "log records" if signal == "logs" else "data points"
        line = f"forwarded {sent:,} {what} to {other.endpoint}"
        if delivery is not None and delivery.offered != delivery.accepted:
            line += f"; {delivery.offered - delivery.accepted:,} not delivered"
        if other.error is not None:
            line += f" ({other.error.message})"
        lines.append(line)
    if result.command_exit_code is not None:
        lines.append(f"command exited with {result.command_exit_code}")
    return lines
