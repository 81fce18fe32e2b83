"""Traces as trees: assemble spans into traces as they arrive, and render them with rich.

Ingest is cheap on purpose (a dict insert per span, references to the received protobuf
spans); everything else - nesting, GenAI summaries, cost, totals - is computed when a trace
is drawn, and summaries are cached per span, so the live view costs what is on screen, not
what was received.

Assembly is done at draw time from the spans present, which is what re-attaches late parents:
a span whose parent has not arrived sits under a "missing parent" placeholder until it does.
Parent links that form a cycle are broken at the earliest span and shown under a placeholder.
"""

from __future__ import annotations

import io
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from otelcli.otlp.spans import STATUS_ERROR, STATUS_OK, SpanView, status_name
from otelcli.otlp.values import attributes_to_dict, to_python
from otelcli.render.tables import format_duration_ns

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.summary import GenAISummary, Summarizer

DEFAULT_MAX_TRACES = 100
DEFAULT_MAX_SPANS_PER_TRACE = 5000
MAX_LOGS_PER_TRACE = 200
MAX_DEPTH = 20  # deeper nesting is drawn flat under a marker (guides eat 4 columns a level)
BAR_WIDTH = 16
_UNSET: Any = object()


@dataclass(slots=True)
class LogLine:
    time_ns: int
    severity: str
    body: str


@dataclass
class TraceEntry:
    trace_id: bytes
    first_seen: float
    last_seen: float
    spans: dict[bytes, SpanView] = field(default_factory=dict)
    logs: dict[bytes, list[LogLine]] = field(default_factory=dict)  # span id -> its logs
    hidden_spans: int = 0  # over the per-trace cap: counted, not kept
    log_count: int = 0
    summaries: dict[bytes, Any] = field(default_factory=dict)  # span id -> GenAISummary | None
    continued: bool = False  # spans that arrived after the trace was printed and dropped

    @property
    def trace_hex(self) -> str:
        return self.trace_id.hex()

    @property
    def has_root(self) -> bool:
        return any(not view.span.parent_span_id for view in self.spans.values())

    def summary(self, span_id: bytes, summarizer: Summarizer) -> GenAISummary | None:
        found = self.summaries.get(span_id, _UNSET)
        if found is _UNSET:
            found = self.summaries[span_id] = summarizer.summarize(self.spans[span_id])
        result: GenAISummary | None = found
        return result


class TraceBoard:
    """The traces received so far, newest last; at most `max_traces` of them are kept."""

    def __init__(
        self,
        max_traces: int = DEFAULT_MAX_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS_PER_TRACE,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[TraceEntry], None] | None = None,
    ) -> None:
        self.max_traces = max(1, max_traces)
        self.max_spans_per_trace = max_spans_per_trace
        self.clock = clock
        self.on_evict = on_evict
        self.traces: OrderedDict[bytes, TraceEntry] = OrderedDict()  # least recently updated first
        self.spans_received = 0
        self.traces_evicted = 0
        self.logs_received = 0
        self.logs_uncorrelated = 0
        self._printed: set[bytes] = set()  # traces handed out by pop_settled (bounded below)

    def _entry(self, trace_id: bytes, now: float) -> TraceEntry:
        traces = self.traces
        entry = traces.get(trace_id)
        if entry is None:
            entry = traces[trace_id] = TraceEntry(trace_id, now, now)
            entry.continued = trace_id in self._printed
            if len(traces) > self.max_traces:
                _, evicted = traces.popitem(last=False)
                self.traces_evicted += 1
                if self.on_evict is not None:
                    self.on_evict(evicted)
        else:
            entry.last_seen = now
            traces.move_to_end(trace_id)
        return entry

    def add_batch(self, batch: ExportTraceServiceRequest) -> list[SpanView]:
        """Take every span of a batch; returns their views (in batch order)."""
        now = self.clock()
        cap = self.max_spans_per_trace
        added: list[SpanView] = []
        for resource_spans in batch.resource_spans:
            resource = attributes_to_dict(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                last_id = b""
                entry: TraceEntry | None = None
                for span in scope_spans.spans:
                    trace_id = span.trace_id
                    if entry is None or trace_id != last_id:
                        entry = self._entry(trace_id, now)
                        last_id = trace_id
                    view = SpanView(resource, scope, span)
                    added.append(view)
                    span_id = span.span_id
                    if len(entry.spans) >= cap and span_id not in entry.spans:
                        entry.hidden_spans += 1
                        continue
                    entry.spans[span_id] = view
                    entry.summaries.pop(span_id, None)
        self.spans_received += len(added)
        return added

    def add_logs(self, request: ExportLogsServiceRequest) -> None:
        """Attach log records to their spans (by trace and span id); others are only counted."""
        now = self.clock()
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    self.logs_received += 1
                    if not record.trace_id:
                        self.logs_uncorrelated += 1
                        continue
                    entry = self._entry(record.trace_id, now)
                    entry.log_count += 1
                    if entry.log_count > MAX_LOGS_PER_TRACE:
                        continue
                    body = to_python(record.body)
                    entry.logs.setdefault(record.span_id, []).append(
                        LogLine(
                            record.time_unix_nano or record.observed_time_unix_nano,
                            record.severity_text or _severity(record.severity_number),
                            body if isinstance(body, str) else str(body),
                        )
                    )

    def is_settled(self, entry: TraceEntry, idle_s: float, now: float | None = None) -> bool:
        """Quiet for `idle_s` with its root present, or quiet for much longer without it."""
        quiet = (self.clock() if now is None else now) - entry.last_seen
        return quiet >= idle_s and (entry.has_root or quiet >= max(idle_s * 5, 10.0))

    def pop_settled(self, idle_s: float) -> list[TraceEntry]:
        """Remove and return the traces that are complete (for printing once)."""
        now = self.clock()
        done = [e for e in self.traces.values() if self.is_settled(e, idle_s, now)]
        for entry in done:
            del self.traces[entry.trace_id]
            self._remember(entry.trace_id)
        return done

    def pop_all(self) -> list[TraceEntry]:
        entries = list(self.traces.values())
        self.traces.clear()
        return entries

    def _remember(self, trace_id: bytes) -> None:
        printed = self._printed
        printed.add(trace_id)
        if len(printed) > self.max_traces * 10:  # bounded: forget the oldest half
            for old in list(printed)[: len(printed) // 2]:
                printed.discard(old)

    def newest(self) -> Iterator[TraceEntry]:
        return reversed(self.traces.values())


_SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def _severity(number: int) -> str:
    return _SEVERITIES[(number - 1) // 4] if 1 <= number <= 24 else "LOG"


# -- assembly ----------------------------------------------------------------------------------


@dataclass
class Node:
    """A span in the tree, or a placeholder (view None) for a missing parent or a cycle."""

    view: SpanView | None
    label: str = ""
    children: list[Node] = field(default_factory=list)


def _start(view: SpanView) -> int:
    return view.span.start_time_unix_nano


def assemble(spans: dict[bytes, SpanView]) -> list[Node]:
    """Top-level nodes: roots by start time, then placeholders for missing parents and cycles."""
    children: dict[bytes, list[SpanView]] = {}
    roots: list[SpanView] = []
    orphans: dict[bytes, list[SpanView]] = {}
    for span_id, view in spans.items():
        parent = view.span.parent_span_id
        if not parent or parent == span_id:
            roots.append(view)
        elif parent in spans:
            children.setdefault(parent, []).append(view)
        else:
            orphans.setdefault(parent, []).append(view)
    visited: set[bytes] = set()

    def build(top: SpanView) -> Node:
        # Iterative, so a very deep chain cannot exhaust the stack.
        root = Node(top)
        visited.add(top.span.span_id)
        stack = [root]
        while stack:
            node = stack.pop()
            assert node.view is not None
            kids = sorted(children.get(node.view.span.span_id, ()), key=_start)
            for kid in kids:
                kid_id = kid.span.span_id
                if kid_id in visited:
                    continue
                visited.add(kid_id)
                child = Node(kid)
                node.children.append(child)
                stack.append(child)
        return root

    top: list[Node] = [build(view) for view in sorted(roots, key=_start)]
    for parent, views in sorted(orphans.items(), key=lambda item: min(map(_start, item[1]))):
        holder = Node(None, f"missing parent {parent.hex()}")
        holder.children = [build(view) for view in sorted(views, key=_start)]
        top.append(holder)
    rest = [view for span_id, view in spans.items() if span_id not in visited]
    if rest:
        holder = Node(None, "cycle in parent links")
        for view in sorted(rest, key=_start):
            if view.span.span_id not in visited:
                holder.children.append(build(view))
        top.append(holder)
    return top


# -- totals ------------------------------------------------------------------------------------


@dataclass
class TraceTotals:
    service: str
    root_name: str | None
    start_ns: int
    end_ns: int
    spans: int
    errors: int
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: Decimal | None = None
    genai_spans: int = 0

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "root": self.root_name,
            "start_ns": self.start_ns,
            "duration_ms": self.duration_ns / 1e6,
            "spans": self.spans,
            "errors": self.errors,
            "genai_spans": self.genai_spans,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": _decimal_text(self.cost_usd),
        }


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def trace_totals(entry: TraceEntry, summarizer: Summarizer | None) -> TraceTotals:
    views = list(entry.spans.values())
    roots = sorted((v for v in views if not v.span.parent_span_id), key=_start)
    first = roots[0] if roots else min(views, key=_start)
    totals = TraceTotals(
        service=first.service_name,
        root_name=roots[0].name if roots else None,
        start_ns=min(v.span.start_time_unix_nano for v in views),
        end_ns=max(v.span.end_time_unix_nano for v in views),
        spans=len(views) + entry.hidden_spans,
        errors=sum(1 for v in views if v.span.status.code == STATUS_ERROR),
    )
    if summarizer is None:
        return totals
    for span_id in entry.spans:
        summary = entry.summary(span_id, summarizer)
        if summary is None:
            continue
        totals.genai_spans += 1
        if not summary.counted:
            continue
        totals.input_tokens += summary.input_tokens or 0
        totals.output_tokens += summary.output_tokens or 0
        totals.cached_tokens += summary.cached_tokens or 0
        if summary.cost_usd is not None:
            totals.cost_usd = (totals.cost_usd or Decimal(0)) + summary.cost_usd
    return totals


# -- filters -----------------------------------------------------------------------------------


@dataclass
class SpanFilter:
    """--service, --genai-only, --errors, --min-duration, --grep. A trace matches if a span does."""

    services: Sequence[str] = ()
    genai_only: bool = False
    errors_only: bool = False
    min_duration_ns: int = 0
    grep: re.Pattern[str] | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.services
            or self.genai_only
            or self.errors_only
            or self.min_duration_ns
            or self.grep
        )

    def matches_span(
        self, view: SpanView, summary: Callable[[], GenAISummary | None], duration_ns: int = -1
    ) -> bool:
        if self.services and view.service_name not in self.services:
            return False
        if self.errors_only and view.span.status.code != STATUS_ERROR:
            return False
        if self.min_duration_ns:
            length = view.duration_ns if duration_ns < 0 else duration_ns
            if length < self.min_duration_ns:
                return False
        if self.grep is not None and not self._grep(view):
            return False
        return not (self.genai_only and summary() is None)

    def _grep(self, view: SpanView) -> bool:
        assert self.grep is not None
        search = self.grep.search
        if search(view.name) or search(view.span.status.message):
            return True
        return any(search(key) or search(str(value)) for key, value in view.attributes.items())

    def matches_trace(self, entry: TraceEntry, summarizer: Summarizer) -> bool:
        if not self.active:
            return True
        trace_length = -1
        if self.min_duration_ns and entry.spans:
            views = entry.spans.values()
            trace_length = max(v.end_ns for v in views) - min(v.start_ns for v in views)
        for span_id, view in entry.spans.items():

            def summary(span_id: bytes = span_id) -> GenAISummary | None:
                return entry.summary(span_id, summarizer)

            if self.matches_span(view, summary, trace_length):
                return True
        return False


# -- records (NDJSON) --------------------------------------------------------------------------


def pick_attributes(view: SpanView, keys: Sequence[str]) -> dict[str, Any]:
    if not keys:
        return {}
    attributes = view.attributes
    resource = view.resource_attributes
    out: dict[str, Any] = {}
    for key in keys:
        if key in attributes:
            out[key] = attributes[key]
        elif key in resource:
            out[key] = resource[key]
    return out


def span_record(
    view: SpanView, summary: GenAISummary | None, attrs: Sequence[str] = ()
) -> dict[str, Any]:
    """One span as a flat JSON-ready dict (the NDJSON output of tail)."""
    span = view.span
    record: dict[str, Any] = {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "name": span.name,
        "service": view.service_name,
        "kind": view.kind_name,
        "start_ns": span.start_time_unix_nano,
        "duration_ms": view.duration_ns / 1e6,
        "status": status_name(span.status.code),
    }
    if span.status.message:
        record["status_message"] = span.status.message
    if summary is not None:
        record["genai"] = summary.to_dict()
    if attrs:
        record["attributes"] = pick_attributes(view, attrs)
    return record


# -- rich rendering ----------------------------------------------------------------------------


def format_usd(value: Decimal) -> str:
    """Dollars with the digits that matter: $1.23, $0.0125, $0.000375."""
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    text = f"{value:.4f}" if value >= Decimal("0.01") else f"{value:.6f}"
    text = text.rstrip("0").rstrip(".")
    return f"${text}" if text not in ("0", "") else "<$0.000001"


def _bar(view: SpanView, start_ns: int, total_ns: int, width: int) -> str:
    if total_ns <= 0:
        return "█" * width
    offset = (view.span.start_time_unix_nano - start_ns) * width / total_ns
    length = view.duration_ns * width / total_ns
    first = min(width - 1, max(0, round(offset)))
    last = min(width, max(first + 1, round(offset + length)))
    return "·" * first + "█" * (last - first) + "·" * (width - last)


def _genai_text(summary: GenAISummary, text: Text, span_name: str) -> None:
    # Semconv span names are "{operation} {model or tool}": say only what the name does not.
    head = summary.operation or summary.span_type
    text.append(" ")
    if head not in span_name:
        text.append(f" {head}", style="cyan")
    if summary.tool_name and summary.tool_name not in span_name:
        text.append(f" {summary.tool_name}", style="yellow")
    if summary.model and summary.model not in span_name:
        text.append(f" {summary.model}", style="magenta")
    if summary.input_tokens is not None or summary.output_tokens is not None:
        tokens = f" in {summary.input_tokens or 0:,}"
        if summary.cached_tokens:
            tokens += f" ({summary.cached_tokens:,} cached)"
        tokens += f" out {summary.output_tokens or 0:,}"
        text.append(tokens, style="" if summary.counted else "dim")
    if summary.cost_usd is not None:
        text.append(f" {format_usd(summary.cost_usd)}", style="green")
    if summary.finish_reasons:
        text.append(f" finish={','.join(summary.finish_reasons)}", style="dim")
    if summary.error_type:
        text.append(f" error.type={summary.error_type}", style="red")


@dataclass
class TreeStyle:
    attrs: Sequence[str] = ()
    bar_width: int = BAR_WIDTH
    max_nodes: int = 400  # per trace in the live view; the rest is summarised in one line


def span_label(
    view: SpanView,
    summary: GenAISummary | None,
    start_ns: int,
    total_ns: int,
    style: TreeStyle,
    root_service: str,
) -> Text:
    span = view.span
    error = span.status.code == STATUS_ERROR
    text = Text()
    text.append(_bar(view, start_ns, total_ns, style.bar_width), style="blue")
    text.append(" ")
    text.append(span.name or "(no name)", style="bold red" if error else "bold")
    text.append(f" {format_duration_ns(view.duration_ns)}", style="dim")
    if view.service_name != root_service:
        text.append(f" [{view.service_name}]", style="dim")
    if error:
        message = span.status.message
        text.append(" ✗ ERROR" + (f": {message[:120]}" if message else ""), style="red")
    elif span.status.code == STATUS_OK:
        text.append(" ✓", style="green")
    if summary is not None:
        _genai_text(summary, text, span.name)
    for key, value in pick_attributes(view, style.attrs).items():
        text.append(f" {key}={_short(value)}", style="dim")
    return text


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trace_header(entry: TraceEntry, totals: TraceTotals, settled: bool, priced: bool) -> Text:
    text = Text()
    text.append("✓ " if settled else "● ", style="green" if settled else "yellow")
    if entry.continued:
        text.append("(continued) ", style="dim")
    text.append(totals.root_name or "(root not received)", style="bold")
    text.append(f"  {totals.service}", style="cyan")
    text.append(f"  {format_duration_ns(totals.duration_ns)}")
    text.append(f"  {totals.spans:,} span{'s' if totals.spans != 1 else ''}", style="dim")
    if totals.errors:
        text.append(f"  {totals.errors} error{'s' if totals.errors != 1 else ''}", style="red")
    if totals.input_tokens or totals.output_tokens:
        text.append(f"  tokens in {totals.input_tokens:,} out {totals.output_tokens:,}")
    if totals.cost_usd is not None:
        text.append(f"  {format_usd(totals.cost_usd)}", style="green")
    elif priced and totals.genai_spans and (totals.input_tokens or totals.output_tokens):
        text.append("  cost unknown", style="dim")
    text.append(f"  trace {entry.trace_hex}", style="dim")
    return text


def render_trace(
    entry: TraceEntry,
    summarizer: Summarizer,
    style: TreeStyle | None = None,
    settled: bool = False,
) -> Tree:
    """One trace as a rich Tree: a header line, then its spans nested with bars and summaries."""
    style = style or TreeStyle()
    totals = trace_totals(entry, summarizer)
    tree = Tree(trace_header(entry, totals, settled, summarizer.prices), guide_style="dim")
    budget = [style.max_nodes]

    def add(parent: Tree, node: Node, depth: int) -> None:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if node.view is None:
            branch = parent.add(Text(f"⋯ {node.label}", style="yellow"))
        else:
            span_id = node.view.span.span_id
            label = span_label(
                node.view,
                entry.summary(span_id, summarizer),
                totals.start_ns,
                totals.duration_ns,
                style,
                totals.service,
            )
            branch = parent.add(label)
            for log in entry.logs.get(span_id, ()):
                branch.add(Text(f"log {log.severity}: {_short(log.body, 160)}", style="dim italic"))
        if depth >= MAX_DEPTH:
            flat = list(_walk(node.children))
            if flat:
                deeper = branch.add(Text(f"⋯ {len(flat)} deeper spans", style="yellow"))
                for child in flat:
                    add(deeper, Node(child.view, child.label), MAX_DEPTH)
            return
        for child in node.children:
            add(branch, child, depth + 1)

    for node in assemble(entry.spans):
        add(tree, node, 1)
    shown = style.max_nodes - budget[0]
    missing = len(entry.spans) - shown + entry.hidden_spans
    if budget[0] <= 0 and missing > 0:
        tree.add(Text(f"… {missing:,} more spans not shown", style="dim"))
    elif entry.hidden_spans:
        tree.add(Text(f"… {entry.hidden_spans:,} spans over the per-trace limit", style="dim"))
    orphan_logs = entry.logs.get(b"")
    if orphan_logs:
        for log in orphan_logs:
            tree.add(Text(f"log {log.severity}: {_short(log.body, 160)}", style="dim italic"))
    return tree


def _walk(nodes: Iterable[Node]) -> Iterator[Node]:
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _tree_lines(entry: TraceEntry, style: TreeStyle) -> int:
    logs = sum(len(v) for v in entry.logs.values())
    return 1 + min(len(entry.spans), style.max_nodes) + logs + 1


def render_text(renderable: RenderableType, width: int = 120) -> str:
    """Plain text (no colour, no control codes) of a rich renderable, for pipes and files."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=True,
        color_system=None,
        force_terminal=False,
        highlight=False,
        soft_wrap=False,
        emoji=False,
    )
    console.print(renderable)
    return buffer.getvalue()


def trace_text(
    entry: TraceEntry, summarizer: Summarizer, style: TreeStyle | None = None, width: int = 120
) -> str:
    style = style or TreeStyle(max_nodes=1 << 30)  # text is printed once: all of it
    return render_text(render_trace(entry, summarizer, style, settled=True), width)


@dataclass
class BoardView:
    """What the live view draws: a status line and the newest traces that fit the screen."""

    board: TraceBoard
    summarizer: Summarizer
    style: TreeStyle = field(default_factory=TreeStyle)
    span_filter: SpanFilter = field(default_factory=SpanFilter)
    idle_s: float = 2.0

    def renderable(self, status: Text, height: int, final: bool = False) -> Group:
        budget = max(4, height - 2)
        chosen: list[TraceEntry] = []
        for entry in self.board.newest():
            if not entry.spans:
                continue
            if not self.span_filter.matches_trace(entry, self.summarizer):
                continue
            lines = _tree_lines(entry, self.style)
            if chosen and lines > budget:
                break
            chosen.append(entry)
            budget -= lines
            if budget <= 0:
                break
        now = self.board.clock()
        trees: list[RenderableType] = [
            render_trace(
                entry,
                self.summarizer,
                self.style,
                final or self.board.is_settled(entry, self.idle_s, now),
            )
            for entry in reversed(chosen)
        ]
        if not trees:
            trees.append(Text("waiting for traces…", style="dim"))
        return Group(*trees, status)
