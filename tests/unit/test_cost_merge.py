"""--jobs' merge: batches measured apart (pickled as a worker sends them) and merged in order
report exactly what one calculator reports over the same batches.

The captures are generated: double instrumentation within a batch and across batches (the
richer span first or later, by response id, parent and child, or overlapping in time), spans
sent twice, unknown models, cache counts, heuristics, reported costs that agree, differ or come
in Portkey's cents or another currency; and call identity's memory limits small enough to
forget traces and counted calls in the middle of the capture.
"""

from __future__ import annotations

import json
import pickle
import random
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelcli.genai.pricing import calls as calls_module
from otelcli.genai.pricing import cost as cost_module
from otelcli.genai.pricing.cost import CostCalculator, CostSlice
from otelcli.genai.pricing.table import PriceTable, load_builtin_table
from otelcli.otlp.values import make_attributes

START = 1_793_000_000 * 10**9  # 2026-10
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514", "mystery-model-9")
PROVIDERS = {"gpt-4o": "openai", "gpt-4o-mini": "openai", "mystery-model-9": "openai"}
# (scope, name, parent, start, end, attributes)
Span = tuple[str, str, bytes, int, int, dict[str, Any]]


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_builtin_table()


def _call(rng: random.Random, model: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDERS.get(model, "anthropic"),
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": rng.choice((100, 1_000, 5_000)),
        "gen_ai.usage.output_tokens": rng.choice((10, 100, 700)),
    }
    if rng.random() < 0.5:
        attributes["gen_ai.response.id"] = f"resp-{rng.randrange(400)}"
    if rng.random() < 0.3:  # more cache than input: a heuristic note
        attributes["gen_ai.usage.cache_read.input_tokens"] = rng.choice((0, 50, 9_000))
    if rng.random() < 0.2:
        attributes["gen_ai.usage.reasoning.output_tokens"] = rng.choice((5, 2_000))
    if rng.random() < 0.3:
        attributes["gen_ai.usage.cost"] = rng.choice((0.0, 0.0035, 0.5))
    return attributes


def _portkey(rng: random.Random) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "ai_model": "gpt-4o",
        "ai_org": "openai",
        "req_units": rng.choice((100, 1_000)),
        "res_units": rng.choice((10, 100)),
        "cost": rng.choice((0.035, 0.35, 1.0)),
    }
    if rng.random() < 0.3:
        attributes["cost_currency"] = rng.choice(("USD", "EUR"))
    return attributes


def _trace(rng: random.Random, trace: int) -> list[tuple[bytes, bytes, Span]]:
    """The spans of one trace: (trace id, span id, span)."""
    trace_id = trace.to_bytes(16, "big")
    out = []
    for number in range(rng.randrange(1, 4)):
        span_id = (trace * 100 + number * 10).to_bytes(8, "big")
        start = START + rng.randrange(10**9)
        end = start + 10**9
        scope = rng.choice(("lib-a", "lib-b"))
        if rng.random() < 0.15:
            attributes = _portkey(rng)
            out.append((trace_id, span_id, ("portkey", "llm", b"", start, end, attributes)))
            twin = _call(rng, "gpt-4o")
            twin["gen_ai.usage.input_tokens"] = attributes["req_units"]
            twin["gen_ai.usage.output_tokens"] = attributes["res_units"]
        else:
            attributes = _call(rng, rng.choice(MODELS))
            out.append((trace_id, span_id, (scope, "chat", b"", start, end, attributes)))
            twin = dict(attributes)
        kind = rng.random()
        if kind > 0.6:
            continue
        # the same call again, from another library: as a child, within its time or by its
        # response id; sometimes with more token facts (then it is the one kept)
        if rng.random() < 0.5:
            twin["gen_ai.usage.cache_read.input_tokens"] = 0
        twin_id = (trace * 100 + number * 10 + 1).to_bytes(8, "big")
        parent = span_id if kind < 0.2 else b""
        twin_scope = scope if kind < 0.2 else f"lib-{rng.randrange(3, 6)}"
        span = (twin_scope, "chat twin", parent, start + 1, end - 1, twin)
        out.append((trace_id, twin_id, span))
    return out


def _batches(rng: random.Random, traces: int) -> list[ExportTraceServiceRequest]:
    spans = [span for trace in range(1, traces + 1) for span in _trace(rng, trace)]
    # neighbours change places: a call's two spans land in either order, in one batch or two
    for i in range(len(spans) - 1):
        if rng.random() < 0.3:
            spans[i], spans[i + 1] = spans[i + 1], spans[i]
    batches = []
    while spans:
        size = rng.randrange(1, 12)
        batches.append(_request(spans[:size]))
        spans = spans[size:]
        if rng.random() < 0.15:  # a batch sent twice
            batches.append(batches[rng.randrange(len(batches))])
    return batches


def _request(spans: list[tuple[bytes, bytes, Span]]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(make_attributes({"service.name": "shop"}))
    for trace_id, span_id, (scope, name, parent, start, end, attributes) in spans:
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = scope
        span = scope_spans.spans.add()
        span.trace_id, span.span_id, span.parent_span_id = trace_id, span_id, parent
        span.name = name
        span.start_time_unix_nano, span.end_time_unix_nano = start, end
        span.attributes.extend(make_attributes(attributes))
    return request


def _reports(
    table: PriceTable, batches: list[ExportTraceServiceRequest], by: tuple[str, ...]
) -> tuple[str, str, CostCalculator]:
    one = CostCalculator(table, by=by, max_examples=5)
    for batch in batches:
        one.add_batch(batch)
    worker = CostCalculator(table, by=by, max_examples=5)
    merged = CostCalculator(table, by=by, max_examples=5)
    for batch in batches:
        part: CostSlice = pickle.loads(pickle.dumps(worker.measure_batch(batch)))
        merged.merge(part)
    return json.dumps(one.report.to_dict()), json.dumps(merged.report.to_dict()), merged


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("by", [(), ("model", "trace")])
def test_merged_batches_report_what_one_calculator_reports(
    table: PriceTable, seed: int, by: tuple[str, ...]
) -> None:
    one, merged, calculator = _reports(table, _batches(random.Random(seed), 60), by)
    assert merged == one
    report = calculator.report  # what the capture holds, so that the comparison means it
    assert report.set_aside and report.unknown_models and report.heuristics
    assert report.disagreement_count and report.reported_notes and report.cannot_tell()


@pytest.mark.parametrize("seed", range(10))
def test_the_same_when_call_identity_forgets_traces_and_counted_calls(
    table: PriceTable, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls_module, "MAX_TRACES", 7)
    monkeypatch.setattr(calls_module, "MAX_RESPONSE_IDS", 11)
    monkeypatch.setattr(cost_module, "MAX_RESPONSE_IDS", 13)
    one, merged, _ = _reports(table, _batches(random.Random(seed), 150), ())
    assert merged == one


def _one(trace: int, span: int, scope: str, **attributes: Any) -> tuple[bytes, bytes, Span]:
    call = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 1_000,
        "gen_ai.usage.output_tokens": 100,
        **attributes,
    }
    return (
        trace.to_bytes(16, "big"),
        span.to_bytes(8, "big"),
        (scope, "chat", b"", START, START + 10**9, call),
    )


CACHE = {"gen_ai.usage.cache_read.input_tokens": 0}


def test_a_scope_whose_cache_counts_come_only_from_a_dropped_call_is_no_cache_scope(
    table: PriceTable,
) -> None:
    # y's cache count is on a span dropped on arrival (same response id as x's, no richer):
    # y's other call, without cache counts, is a bound on the bill
    first = _request([_one(1, 1, "x", **{"gen_ai.response.id": "r1"}, **CACHE)])
    second = _request([_one(1, 2, "y", **{"gen_ai.response.id": "r1"}, **CACHE), _one(2, 3, "y")])
    one, merged, calculator = _reports(table, [first, second], ())
    assert merged == one
    assert calculator.report.cannot_tell()


def test_a_counted_call_sent_again_is_remembered_as_new_when_it_was_forgotten(
    table: PriceTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with room for two counted calls, call 1 sent again after call 3 is the newest; its
    # richer twin then takes it back out
    monkeypatch.setattr(cost_module, "MAX_RESPONSE_IDS", 2)
    calls = [_one(n, n, "x", **{"gen_ai.response.id": f"r{n}"}) for n in (1, 2, 3)]
    twin = _one(1, 9, "y", **{"gen_ai.response.id": "r1"}, **CACHE)
    batches = [_request(calls[:2]), _request([calls[2], calls[0]]), _request([twin])]
    one, merged, calculator = _reports(table, batches, ())
    assert merged == one
    assert calculator.report.set_aside
