"""Trace assembly and the tree views: nesting, late parents, orphans, cycles, limits, filters,
GenAI summaries and cost, and the rendered tree pinned on a fixed-width console."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from rich.console import Console
from rich.text import Text

from otelcli.genai.pricing.cost import price_call
from otelcli.genai.pricing.summary import Summarizer
from otelcli.genai.pricing.table import load_table
from otelcli.otlp.follow import follow_batches
from otelcli.otlp.traces import Node, SpanFilter, TraceBoard, assemble, trace_totals
from otelcli.otlp.values import make_attributes
from otelcli.otlp.writer import open_writer
from otelcli.render.live import LiveScreen, SpanLines, TreePrinter
from otelcli.render.tree import format_usd, render_text, render_trace, trace_text

T0 = 1_750_000_000_000_000_000  # 2025-06: gpt-4o at its current price
MS = 1_000_000
TRACE = bytes(range(1, 17))


def sid(n: int) -> bytes:
    return bytes([0, 0, 0, 0, 0, 0, 0, n])


def batch(
    *spans: dict[str, Any], service: str = "chatbot", scope: str = "app"
) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(make_attributes({"service.name": service}))
    ss = rs.scope_spans.add()
    ss.scope.name = scope
    for spec in spans:
        span = ss.spans.add(
            trace_id=spec.get("trace", TRACE),
            span_id=sid(spec["id"]),
            parent_span_id=sid(spec["parent"]) if spec.get("parent") else b"",
            name=spec["name"],
            start_time_unix_nano=T0 + spec.get("start", 0) * MS,
            end_time_unix_nano=T0 + spec.get("end", 10) * MS,
        )
        span.attributes.extend(make_attributes(spec.get("attrs", {})))
        if "status" in spec:
            span.status.code = spec["status"]
            span.status.message = spec.get("message", "")
    return request


LLM = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 800,
    "gen_ai.response.finish_reasons": ["tool_calls"],
}
TOOL = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "get_weather",
    "error.type": "TimeoutError",
}


def agent_trace() -> ExportTraceServiceRequest:
    return batch(
        {"id": 1, "name": "POST /chat", "start": 0, "end": 1000},
        {"id": 2, "parent": 1, "name": "chat gpt-4o", "start": 100, "end": 600, "attrs": LLM},
        {
            "id": 3,
            "parent": 1,
            "name": "execute_tool get_weather",
            "start": 650,
            "end": 900,
            "attrs": TOOL,
            "status": 2,
            "message": "timed out",
        },
        {"id": 4, "parent": 2, "name": "http POST", "start": 120, "end": 580},
    )


@pytest.fixture(scope="module")
def summarizer() -> Summarizer:
    return Summarizer(load_table(use_fallback=False))


def names(nodes: list[Node]) -> list[Any]:
    """The tree as nested [name, children] lists (placeholders by label)."""
    return [[node.view.name if node.view else node.label, names(node.children)] for node in nodes]


def only_entry(board: TraceBoard) -> Any:
    assert len(board.traces) == 1
    return next(iter(board.traces.values()))


# -- assembly ----------------------------------------------------------------------------------


def test_nesting_orders_children_by_start() -> None:
    board = TraceBoard()
    board.add_batch(agent_trace())
    tree = names(assemble(only_entry(board).spans))
    assert tree == [
        [
            "POST /chat",
            [
                ["chat gpt-4o", [["http POST", []]]],
                ["execute_tool get_weather", []],
            ],
        ]
    ]


def test_late_parent_is_reattached() -> None:
    board = TraceBoard()
    board.add_batch(batch({"id": 4, "parent": 2, "name": "http POST", "start": 120}))
    early = names(assemble(only_entry(board).spans))
    assert early == [[f"missing parent {sid(2).hex()}", [["http POST", []]]]]
    board.add_batch(batch({"id": 2, "parent": 1, "name": "chat"}, {"id": 1, "name": "root"}))
    assert names(assemble(only_entry(board).spans)) == [["root", [["chat", [["http POST", []]]]]]]


def test_parent_cycle_is_broken_and_every_span_shown_once() -> None:
    board = TraceBoard()
    board.add_batch(
        batch(
            {"id": 1, "name": "root"},
            {"id": 5, "parent": 6, "name": "a", "start": 1},
            {"id": 6, "parent": 7, "name": "b", "start": 2},
            {"id": 7, "parent": 5, "name": "c", "start": 3},
            {"id": 8, "parent": 8, "name": "self-parent", "start": 4},
        )
    )
    entry = only_entry(board)
    tree = names(assemble(entry.spans))
    assert tree[0] == ["root", []]
    assert ["self-parent", []] in tree  # its own parent: drawn as a root
    assert tree[-1] == ["cycle in parent links", [["a", [["c", [["b", []]]]]]]]
    text = trace_text(entry, Summarizer(None))
    assert all(text.count(f" {name} ") == 1 for name in ("a", "b", "c"))


def test_deep_chain_does_not_recurse(summarizer: Summarizer) -> None:
    depth = 3000
    request = batch()
    spans = request.resource_spans[0].scope_spans[0].spans
    for n in range(1, depth + 1):
        spans.add(
            trace_id=TRACE,
            span_id=n.to_bytes(8, "big"),
            parent_span_id=(n - 1).to_bytes(8, "big") if n > 1 else b"",
            name=f"s{n}",
            start_time_unix_nano=T0 + n,
            end_time_unix_nano=T0 + 2 * depth,
        )
    board = TraceBoard()
    board.add_batch(request)
    nodes = assemble(only_entry(board).spans)
    depth_seen, node = 1, nodes[0]
    while node.children:
        node, depth_seen = node.children[0], depth_seen + 1
    assert depth_seen == depth
    text = trace_text(only_entry(board), summarizer)
    assert "deeper spans" in text and f" s{depth} " in text


# -- the board ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_max_traces_evicts_least_recently_updated() -> None:
    evicted: list[bytes] = []
    board = TraceBoard(max_traces=3, on_evict=lambda e: evicted.append(e.trace_id))
    for n in range(1, 6):
        board.add_batch(batch({"id": 1, "name": f"t{n}", "trace": bytes([n]) * 16}))
        if n == 3:  # trace 1 gets a new span: it is now the most recent
            board.add_batch(batch({"id": 2, "parent": 1, "name": "late", "trace": bytes([1]) * 16}))
    assert evicted == [bytes([2]) * 16, bytes([3]) * 16]
    assert list(board.traces) == [bytes([1]) * 16, bytes([4]) * 16, bytes([5]) * 16]
    assert board.spans_received == 6 and board.traces_evicted == 2


def test_spans_over_the_per_trace_cap_are_counted(summarizer: Summarizer) -> None:
    board = TraceBoard(max_spans_per_trace=3)
    board.add_batch(
        batch(*[{"id": i, "name": f"s{i}", "parent": 1 if i > 1 else None} for i in range(1, 8)])
    )
    entry = only_entry(board)
    assert len(entry.spans) == 3 and entry.hidden_spans == 4
    assert trace_totals(entry, summarizer).spans == 7
    assert "4 spans over the per-trace limit" in trace_text(entry, summarizer)


def test_settling_needs_quiet_and_a_root() -> None:
    clock = FakeClock()
    board = TraceBoard(clock=clock)
    board.add_batch(batch({"id": 2, "parent": 1, "name": "child"}))
    clock.now += 3
    assert board.pop_settled(2.0) == []  # no root yet: wait longer
    board.add_batch(batch({"id": 1, "name": "root"}))
    clock.now += 1
    assert board.pop_settled(2.0) == []  # not quiet long enough
    clock.now += 1.5
    [done] = board.pop_settled(2.0)
    assert len(done.spans) == 2 and not board.traces
    # a span arriving after the trace was printed opens a "continued" entry
    board.add_batch(batch({"id": 3, "parent": 1, "name": "straggler"}))
    assert only_entry(board).continued


def test_rootless_trace_settles_after_a_longer_wait() -> None:
    clock = FakeClock()
    board = TraceBoard(clock=clock)
    board.add_batch(batch({"id": 2, "parent": 1, "name": "child"}))
    clock.now += 9.9
    assert board.pop_settled(2.0) == []
    clock.now += 0.2
    assert len(board.pop_settled(2.0)) == 1


def test_logs_are_shown_under_their_span(summarizer: Summarizer) -> None:
    board = TraceBoard()
    board.add_batch(agent_trace())
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    records.add(trace_id=TRACE, span_id=sid(3), severity_number=17).body.string_value = "boom"
    records.add().body.string_value = "no trace"
    board.add_logs(logs)
    assert (board.logs_received, board.logs_uncorrelated) == (2, 1)
    lines = trace_text(only_entry(board), summarizer).splitlines()
    tool_line = next(i for i, line in enumerate(lines) if "execute_tool get_weather" in line)
    assert "log ERROR: boom" in lines[tool_line + 1]
    assert "no trace" not in "\n".join(lines)


# -- GenAI summaries and totals ----------------------------------------------------------------


def test_totals_and_cost_agree_with_the_cost_module(summarizer: Summarizer) -> None:
    board = TraceBoard()
    board.add_batch(agent_trace())
    board.add_batch(
        batch(
            # an agent span repeating its children's usage must not be counted twice
            {
                "id": 9,
                "parent": 1,
                "name": "invoke_agent planner",
                "start": 950,
                "end": 990,
                "attrs": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 1200,
                    "gen_ai.usage.output_tokens": 300,
                },
            },
        )
    )
    totals = trace_totals(only_entry(board), summarizer)
    expected = price_call(
        load_table(use_fallback=False), "gpt-4o", 1200, 300, cached_tokens=800, provider="openai"
    )
    assert (totals.input_tokens, totals.output_tokens, totals.cached_tokens) == (1200, 300, 800)
    assert totals.cost_usd == expected.total_usd
    assert (totals.service, totals.root_name, totals.errors) == ("chatbot", "POST /chat", 1)
    assert totals.duration_ns == 1000 * MS and totals.genai_spans == 3


def test_dialect_spans_are_summarised_in_semconv_terms(summarizer: Summarizer) -> None:
    board = TraceBoard()
    board.add_batch(
        batch(
            {
                "id": 1,
                "name": "ChatCompletion",
                "attrs": {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "claude-sonnet-4-5",
                    "llm.provider": "anthropic",
                    "llm.token_count.prompt": 1000,
                    "llm.token_count.completion": 200,
                },
            },
            scope="openinference.instrumentation.anthropic",
        )
    )
    entry = only_entry(board)
    summary = entry.summary(sid(1), summarizer)
    assert summary is not None
    assert (summary.model, summary.input_tokens, summary.output_tokens) == (
        "claude-sonnet-4-5",
        1000,
        200,
    )
    expected = price_call(
        load_table(use_fallback=False), "claude-sonnet-4-5", 1000, 200, provider="anthropic"
    )
    assert summary.cost_usd == expected.total_usd


def test_plain_spans_have_no_summary_and_no_cost_without_prices() -> None:
    board = TraceBoard()
    board.add_batch(agent_trace())
    entry = only_entry(board)
    unpriced = Summarizer(None)
    assert entry.summary(sid(4), unpriced) is None  # http POST
    llm = entry.summary(sid(2), unpriced)
    assert llm is not None and llm.cost_usd is None and llm.input_tokens == 1200
    assert trace_totals(entry, unpriced).cost_usd is None
    assert "$" not in trace_text(entry, unpriced)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0", "$0"),
        ("12.3456", "$12.35"),
        ("0.0125", "$0.0125"),
        ("0.000375", "$0.000375"),
        ("0.0000001", "<$0.000001"),
    ],
)
def test_format_usd(value: str, text: str) -> None:
    assert format_usd(Decimal(value)) == text


# -- the rendered tree, pinned -----------------------------------------------------------------

PINNED = """\
✗ POST /chat  chatbot  1.00s  4 spans  1 error  tokens in 1,200 out 300  $0.005  trace 0102030405060708090a0b0c0d0e0f10
└── ████████████████ POST /chat 1.00s
    ├── ··████████······ chat gpt-4o 500.0ms  in 1,200 (800 cached) out 300 $0.005 finish=tool_calls
    │   gen_ai.provider.name=openai
    │   └── ··███████······· http POST 460.0ms
    └── ··········████·· execute_tool get_weather 250.0ms ✗ ERROR: timed out  error.type=TimeoutError
"""  # noqa: E501


def test_rendered_tree_is_pinned(summarizer: Summarizer) -> None:
    from otelcli.render.tree import TreeStyle

    board = TraceBoard()
    board.add_batch(agent_trace())
    style = TreeStyle(attrs=["gen_ai.provider.name"])
    text = render_text(render_trace(only_entry(board), summarizer, style, settled=True), 120)
    assert [line.rstrip() for line in text.splitlines()] == PINNED.splitlines()


def test_bars_follow_offset_and_duration(summarizer: Summarizer) -> None:
    board = TraceBoard()
    board.add_batch(
        batch(
            {"id": 1, "name": "root", "start": 0, "end": 160},
            {"id": 2, "parent": 1, "name": "second-half", "start": 80, "end": 160},
            {"id": 3, "parent": 1, "name": "instant", "start": 40, "end": 40},
        )
    )
    text = trace_text(only_entry(board), summarizer)
    bars = dict(re.findall(r"([·█]{16}) (\S+)", text)[i][::-1] for i in range(3))
    assert bars == {
        "root": "█" * 16,
        "second-half": "·" * 8 + "█" * 8,
        "instant": "····█···········",
    }


def test_live_screen_draws_status_and_settled_traces(summarizer: Summarizer) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, height=40, force_terminal=True, color_system=None)
    board = TraceBoard()
    screen = LiveScreen(console, board, summarizer, lambda: Text("STATUS LINE"))
    screen.add_batch(agent_trace())
    screen.tick(force=True)
    screen.close()
    drawn = buffer.getvalue()
    assert "STATUS LINE" in drawn and "execute_tool get_weather" in drawn
    assert "● POST /chat" in drawn  # live: still open
    assert "✗ POST /chat" in drawn  # the final frame: settled, with a failed span


def test_live_screen_shows_only_what_fits(summarizer: Summarizer) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, height=12, force_terminal=True, color_system=None)
    board = TraceBoard()
    screen = LiveScreen(console, board, summarizer, lambda: Text("status"))
    for n in range(1, 30):
        screen.add_batch(batch({"id": 1, "name": f"trace-{n}", "trace": bytes([n]) * 16}))
    screen.close()
    final = buffer.getvalue()
    assert "trace-29" in final and "trace-1 " not in final


# -- filters and the other outputs -------------------------------------------------------------


def filtered(span_filter: SpanFilter, summarizer: Summarizer) -> list[str]:
    board = TraceBoard()
    board.add_batch(agent_trace())
    board.add_batch(
        batch({"id": 1, "name": "healthz", "trace": b"\x09" * 16, "end": 1}, service="probe")
    )
    return sorted(
        e.spans[sid(1)].name
        for e in board.traces.values()
        if span_filter.matches_trace(e, summarizer)
    )


@pytest.mark.parametrize(
    ("span_filter", "expected"),
    [
        (SpanFilter(), ["POST /chat", "healthz"]),
        (SpanFilter(services=("probe",)), ["healthz"]),
        (SpanFilter(genai_only=True), ["POST /chat"]),
        (SpanFilter(errors_only=True), ["POST /chat"]),
        (SpanFilter(min_duration_ns=500 * MS), ["POST /chat"]),
        (SpanFilter(grep=re.compile("get_weather")), ["POST /chat"]),
        (SpanFilter(grep=re.compile("^healthz$")), ["healthz"]),
        (SpanFilter(services=("probe",), errors_only=True), []),
    ],
)
def test_trace_filters(
    span_filter: SpanFilter, expected: list[str], summarizer: Summarizer
) -> None:
    assert filtered(span_filter, summarizer) == expected


def test_tree_printer_prints_each_trace_once(summarizer: Summarizer) -> None:
    clock = FakeClock()
    buffer = io.StringIO()
    printer = TreePrinter(
        Console(file=buffer, width=150, color_system=None),
        TraceBoard(max_traces=2, clock=clock),
        summarizer,
        idle_s=1.0,
    )
    printer.add_batch(agent_trace())
    printer.tick()
    assert buffer.getvalue() == ""
    clock.now += 1.5
    printer.tick()
    assert buffer.getvalue().count("POST /chat  chatbot") == 1
    for n in (20, 21, 22):  # the third evicts the first: printed at once, not lost
        printer.add_batch(batch({"id": 1, "name": f"job-{n}", "trace": bytes([n]) * 16}))
    assert "job-20" in buffer.getvalue() and "job-21" not in buffer.getvalue()
    printer.close()
    assert all(f"job-{n}" in buffer.getvalue() for n in (20, 21, 22))
    assert printer.printed == 4


def test_span_lines_one_record_per_matching_span(summarizer: Summarizer) -> None:
    written: list[dict[str, Any]] = []
    lines = SpanLines(
        written.extend,
        summarizer,
        attrs=["gen_ai.provider.name", "service.name"],
        span_filter=SpanFilter(genai_only=True),
    )
    lines.add_batch(agent_trace())
    assert [r["name"] for r in written] == ["chat gpt-4o", "execute_tool get_weather"]
    chat = written[0]
    assert chat["trace_id"] == TRACE.hex() and chat["parent_span_id"] == sid(1).hex()
    assert chat["genai"]["cost_usd"] == "0.005" and chat["genai"]["cached_tokens"] == 800
    assert chat["attributes"] == {"gen_ai.provider.name": "openai", "service.name": "chatbot"}
    assert written[1]["status"] == "ERROR" and written[1]["genai"]["tool"] == "get_weather"


# -- following a growing file ------------------------------------------------------------------


def _follow(path: Path) -> tuple[list[ExportTraceServiceRequest], threading.Event, Iterator[Any]]:
    stop = threading.Event()
    return [], stop, follow_batches(str(path), stop, poll_s=0.01)


@pytest.mark.parametrize("suffix", ["jsonl", "lp"])
def test_follow_reads_records_as_they_complete(tmp_path: Path, suffix: str) -> None:
    first, second = agent_trace(), batch({"id": 7, "name": "later"})
    whole = tmp_path / f"whole.{suffix}"
    with open_writer(str(whole)) as writer:
        writer.write(first)
        writer.write(second)
    data = whole.read_bytes()
    cut = len(data) - 10  # the second record, cut short
    growing = tmp_path / f"growing.{suffix}"
    growing.write_bytes(data[:cut])
    got, stop, batches = _follow(growing)
    got.append(next(batches))
    assert got[0] == first

    def finish() -> None:
        with open(growing, "ab") as handle:
            handle.write(data[cut:])

    timer = threading.Timer(0.1, finish)
    timer.start()
    got.append(next(batches))  # waits for the writer, then parses the completed record
    timer.join()
    stop.set()
    assert got[1] == second
    assert list(batches) == []


def test_follow_refuses_gzip(tmp_path: Path) -> None:
    from otelcli.errors import UsageError

    path = tmp_path / "run.jsonl.gz"
    with open_writer(str(path)) as writer:
        writer.write(agent_trace())
    with pytest.raises(UsageError, match="cannot be followed"):
        next(follow_batches(str(path), threading.Event()))
