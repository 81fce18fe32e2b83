"""Traces assembled from spans as they arrive: the board of recent traces, their trees, totals,
filters and flat span records. Nothing here draws; render/tree.py does.

Ingest is cheap on purpose (a dict insert per span, references to the received protobuf
spans); nesting, GenAI summaries, cost and totals are computed when a trace is looked at,
and summaries are cached per span, so the live view costs what is on screen, not what was
received.

Assembly is done from the spans present, which is what re-attaches late parents: a span whose
parent has not arrived sits under a "missing parent" placeholder until it does. Parent links
that form a cycle are broken at the earliest span and shown under a placeholder.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from otelcli.otlp.spans import STATUS_ERROR, SpanView, status_name
from otelcli.otlp.values import attributes_to_dict, to_python

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.pricing.summary import GenAISummary, Summarizer

DEFAULT_MAX_TRACES = 100
DEFAULT_MAX_SPANS_PER_TRACE = 5000
MAX_LOGS_PER_TRACE = 200
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
    calls: int = 0  # LLM calls with usage (a call two libraries traced counts once)
    set_aside: int = 0  # spans that repeat a call already counted

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
            "calls": self.calls,
            "set_aside": self.set_aside,
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
    from otelcli.genai.pricing.calls import CallLedger

    ledger = CallLedger()
    counted: dict[bytes, GenAISummary] = {}
    for span_id in entry.spans:
        summary = entry.summary(span_id, summarizer)
        if summary is None:
            continue
        totals.genai_spans += 1
        if not summary.counted:
            continue
        counted[span_id] = summary
        if summary.call is not None and (aside := ledger.add(summary.call)) is not None:
            counted.pop(aside.dropped.span_id, None)
            totals.set_aside += 1
    totals.calls = len(counted)
    for summary in counted.values():
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
