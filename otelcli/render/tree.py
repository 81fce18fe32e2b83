"""Traces drawn as trees with rich: nesting, durations, offset bars, status and GenAI summaries.

The traces themselves are assembled in otlp/traces.py; this module only draws them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text
from rich.tree import Tree

from otelcli.otlp.spans import STATUS_ERROR, STATUS_OK, SpanView
from otelcli.otlp.traces import (
    Node,
    SpanFilter,
    TraceBoard,
    TraceEntry,
    TraceTotals,
    assemble,
    pick_attributes,
    trace_totals,
)
from otelcli.render.tables import format_duration_ns

if TYPE_CHECKING:
    from otelcli.genai.pricing.summary import GenAISummary, Summarizer

MAX_DEPTH = 20  # deeper nesting is drawn flat under a marker (guides eat 4 columns a level)
BAR_WIDTH = 16


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
    if not settled:
        text.append("● ", style="yellow")
    elif totals.errors:  # done, but not well: a span failed
        text.append("✗ ", style="bold red")
    else:
        text.append("✓ ", style="green")
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

    def renderable(self, status: Text, console: Console, final: bool = False) -> Group:
        """The newest traces that fit above the status line, lines counted as the console
        wraps them; the newest is always shown (its head, when it alone is taller)."""
        options = console.options
        height = console.height
        status_lines = len(console.render_lines(status, options, pad=False))
        budget = max(1, height - status_lines)
        now = self.board.clock()
        shown: list[list[list[Segment]]] = []
        for entry in self.board.newest():
            if not entry.spans:
                continue
            if not self.span_filter.matches_trace(entry, self.summarizer):
                continue
            settled = final or self.board.is_settled(entry, self.idle_s, now)
            tree = render_trace(entry, self.summarizer, self.style, settled)
            lines = console.render_lines(tree, options, pad=False)
            if len(lines) > budget:
                if shown:
                    break
                more = Text(f"… {len(lines) - budget + 1:,} more lines", style="dim")
                lines = lines[: budget - 1] + console.render_lines(more, options, pad=False)
            shown.append(lines)
            budget -= len(lines)
            if budget <= 0:
                break
        parts: list[RenderableType] = [_Lines(lines) for lines in reversed(shown)]
        if not parts:
            parts.append(Text("waiting for traces…", style="dim"))
        return Group(*parts, status)


class _Lines:
    """Lines already rendered (so that what was counted is what is drawn)."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            yield from line
            yield Segment.line()
