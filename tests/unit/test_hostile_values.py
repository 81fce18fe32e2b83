"""Hostile attribute values and span fields: the core reports them, it never crashes on them.

Random AnyValues of every type (strings, bools, ints up to +-2^63, doubles including inf, -inf,
NaN, 1e308 and -0.0, bytes, arrays, kvlists, the empty AnyValue), number-like strings and
extreme numbers go onto every attribute the core reads (token and usage keys of every
dialect, models, providers, operations, cost keys, finish reasons, markers, error.type,
service.name), and extreme status codes, kinds, times and ids of odd lengths onto the span.
validate, cost, normalize, the tail summarizer and tree, stats and replay's time shift run on
them: nothing escapes but a typed OtelcliError, and every report serialises as JSON. The
defects fuzzing found are kept as explicit examples.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import OtelcliError
from otelcli.genai.dialects.capture import CaptureNormalizer
from otelcli.genai.dialects.normalize import load_dialects
from otelcli.genai.pricing.cost import REPORTED_COST_KEYS, CostCalculator
from otelcli.genai.pricing.summary import Summarizer
from otelcli.genai.pricing.table import load_builtin_table
from otelcli.genai.scenarios.build import build_scenario
from otelcli.genai.scenarios.catalog import DIALECTS, SCENARIOS
from otelcli.genai.semconv.document import report_document
from otelcli.genai.semconv.findings import ValidationReport
from otelcli.genai.semconv.policy import Policy
from otelcli.genai.semconv.rules import load_rules
from otelcli.genai.semconv.validate import Options, Validator
from otelcli.otlp.rewrite import Rewrite, time_range
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.stats import compute_stats
from otelcli.otlp.traces import TraceBoard, span_record, trace_totals
from otelcli.otlp.values import fill_any_value, remove_attribute
from otelcli.render.output import to_json
from otelcli.render.tree import trace_text

U64 = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1

DIALECT_TABLE = load_dialects()
RULES = load_rules()
PRICES = load_builtin_table()

# Every attribute key the core reads: what the dialect table maps and detects by, the cost
# and summary keys, and what validate checks beyond the registry's per-key rules.
CORE_KEYS = sorted(
    set(DIALECT_TABLE.key_index())
    | DIALECT_TABLE.marker_keys()
    | set(REPORTED_COST_KEYS)
    | {
        "error.type",
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.response.finish_reasons",
        "gen_ai.tool.name",
        "gen_ai.prompt.name",
        "gen_ai.agent.name",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "mcp.method.name",
        "server.address",
        "user.id",
        "session.id",
        "openai.response.service_tier",
        "service.name",
    }
)

# Real spans of every scenario in every dialect: hostile values replace realistic ones, so the
# code paths behind a span's type, dialect and model are reached.
BASES = [
    build_scenario(
        name, dialect=dialect, seed=7, now_ns=1_750_000_000_000_000_000
    ).SerializeToString()
    for name in SCENARIOS
    for dialect in DIALECTS
]

_SPECIAL_NUMBERS = [
    0,
    -1,
    1,
    I64_MAX,
    I64_MIN,
    (1 << 53) + 1,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    -1e308,
    1e30,
    -0.0,
    5e-324,
    0.5,
]
_NUMBER_TEXT = ["NaN", "inf", "-inf", "1e999", "9" * 30, "1" * 5000, "-5", "1.5", " 7 ", "", "0x10"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=I64_MIN, max_value=I64_MAX)
    | st.sampled_from(_SPECIAL_NUMBERS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(_NUMBER_TEXT)
    | st.text(max_size=12)
    | st.binary(max_size=12)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
ids = st.binary(max_size=20) | st.sampled_from([b"", b"\x00" * 16, b"\x00" * 8, b"\xff" * 16])
times = st.integers(min_value=0, max_value=U64) | st.sampled_from([0, 1, U64, U64 - 1, 1 << 63])
codes = st.integers(min_value=I32_MIN, max_value=I32_MAX) | st.sampled_from([-1, 0, 1, 2, 3, 7])


USAGE_KEYS = sorted(k for k in CORE_KEYS if "token" in k or "usage" in k or "cost" in k)


def _set(attributes: Any, key: str, value: Any) -> None:
    remove_attribute(attributes, key)
    fill_any_value(attributes.add(key=key).value, value)


def hostile(attributes: dict[str, Any], **span_fields: Any) -> ExportTraceServiceRequest:
    """The first scenario's chat span (semconv) with these attributes (... removes one) and
    span fields."""
    request = ExportTraceServiceRequest.FromString(BASES[0])
    span = request.resource_spans[0].scope_spans[0].spans[0]
    for key, value in attributes.items():
        if value is ...:
            remove_attribute(span.attributes, key)
        else:
            _set(span.attributes, key, value)
    for name, value in span_fields.items():
        if name == "status":
            span.status.code = value
        else:
            setattr(span, name, value)
    return request


# The defects fuzzing found, kept as explicit examples so every run checks them.
STATUS_7 = hostile({"error.type": "timeout"}, status=7)
STATUS_NEGATIVE = hostile({}, status=-5)
INFINITE_TOKENS = hostile({"gen_ai.usage.input_tokens": math.inf})
HUGE_TOKENS = hostile({"gen_ai.usage.input_tokens": 1e30, "gen_ai.usage.output_tokens": 1e30})
NAN_COST = hostile({"gen_ai.usage.cost": math.nan})
LONG_DIGITS = hostile(  # OpenInference counts as text, mapped to semconv by normalize
    {
        "gen_ai.usage.input_tokens": ...,
        "gen_ai.usage.output_tokens": ...,
        "llm.token_count.prompt": "1" * 5000,
        "llm.token_count.completion": "9" * 30,
    }
)
FAR_TIMES = hostile({}, start_time_unix_nano=1, end_time_unix_nano=U64)

# A span of every dialect: the hostile values meet every dialect's code paths.
assert len(
    {
        DIALECT_TABLE.detect(view.scope_name, view.attributes, view.name).id
        for data in BASES
        for view in iter_spans(ExportTraceServiceRequest.FromString(data))
    }
) >= len(DIALECTS)


@st.composite
def hostile_requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    """A real scenario trace with hostile values on some of its spans and attributes."""
    request = ExportTraceServiceRequest.FromString(draw(st.sampled_from(BASES)))
    resource_spans = request.resource_spans[0]
    if draw(st.booleans()):
        _set(resource_spans.resource.attributes, "service.name", draw(values))
    scope_spans = resource_spans.scope_spans[0]
    if draw(st.booleans()):
        scope_spans.scope.name = draw(st.text(max_size=12))
    spans = scope_spans.spans
    for index in draw(st.lists(st.integers(0, len(spans) - 1), min_size=1, max_size=3)):
        span = spans[index]
        own_keys = sorted(kv.key for kv in span.attributes)
        keys = (
            st.sampled_from(USAGE_KEYS)
            | st.sampled_from(CORE_KEYS)
            | st.sampled_from(own_keys or CORE_KEYS)
        )
        for key in draw(st.lists(keys, min_size=1, max_size=5)):
            _set(span.attributes, key, draw(values))
        if draw(st.booleans()):
            span.status.code = draw(codes)  # type: ignore[assignment]
            span.status.message = draw(st.text(max_size=8))
        if draw(st.booleans()):
            span.kind = draw(codes)  # type: ignore[assignment]
        if draw(st.booleans()):
            span.start_time_unix_nano = draw(times)
            span.end_time_unix_nano = draw(times)
        if draw(st.booleans()):
            span.trace_id = draw(ids)
            span.span_id = draw(ids)
            span.parent_span_id = draw(ids)
        if draw(st.booleans()) and span.events:
            span.events[0].time_unix_nano = draw(times)
        if draw(st.booleans()):
            span.name = draw(st.text(max_size=12))
    return request


HOSTILE = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _typed(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run the call; a typed OtelcliError is an accepted answer, anything else fails."""
    try:
        return call(*args, **kwargs)
    except OtelcliError as error:
        assert error.message and "\n" not in error.message
        return None


@HOSTILE
@given(hostile_requests(), st.booleans())
@example(STATUS_7, False)
@example(STATUS_NEGATIVE, True)
def test_validate_reports_hostile_values(
    request: ExportTraceServiceRequest, normalized: bool
) -> None:
    def run() -> None:
        report = ValidationReport(level_for=Policy().level_for, max_findings=50, examples=3)
        Validator(RULES, report, Options(normalized=normalized)).check_batches([request])
        to_json(report_document(report, RULES, inputs=["-"], fail_on="violation"))

    _typed(run)


@HOSTILE
@given(hostile_requests(), st.sampled_from([(), ("model",), ("provider", "service", "user")]))
@example(INFINITE_TOKENS, ())
@example(HUGE_TOKENS, ("model",))
@example(NAN_COST, ())
@example(LONG_DIGITS, ())
def test_cost_prices_or_skips_hostile_values(
    request: ExportTraceServiceRequest, by: tuple[str, ...]
) -> None:
    def run() -> None:
        calculator = CostCalculator(PRICES, by=by)
        calculator.add_batch(request)
        for view in iter_spans(request):
            breakdown = calculator.add_span(view, enrich=True)
            if breakdown is not None:
                to_json(breakdown.to_dict())
        report = calculator.report
        to_json(report.to_dict(top=5))
        for total in (report.total, *report.groups.values()):
            assert total.total_usd.is_finite()
            for count in (total.input_tokens, total.output_tokens, total.reasoning_tokens):
                assert 0 <= count <= I64_MAX
        request.SerializeToString()  # what enrichment wrote still encodes

    _typed(run)


@HOSTILE
@given(hostile_requests(), st.booleans())
@example(LONG_DIGITS, False)
def test_normalize_maps_hostile_values(request: ExportTraceServiceRequest, replace: bool) -> None:
    def run() -> None:
        normalizer = CaptureNormalizer(replace=replace)
        normalizer.normalize_batch(request)
        request.SerializeToString()
        to_json(normalizer.stats.to_dict())

    _typed(run)


@HOSTILE
@given(hostile_requests(), st.booleans())
@example(STATUS_NEGATIVE, False)
@example(INFINITE_TOKENS, False)
@example(HUGE_TOKENS, True)
def test_tail_summarizes_and_draws_hostile_values(
    request: ExportTraceServiceRequest, priced: bool
) -> None:
    def run() -> None:
        summarizer = Summarizer(PRICES if priced else None, DIALECT_TABLE)
        board = TraceBoard()
        for view in board.add_batch(request):
            summary = summarizer.summarize(view)
            to_json(span_record(view, summary, ("gen_ai.usage.input_tokens", "service.name")))
        for entry in board.pop_all():
            to_json(trace_totals(entry, summarizer).to_dict())
            assert trace_text(entry, summarizer, width=100)
        to_json(compute_stats([request]).to_dict())  # `stats`, on the same spans

    _typed(run)


@HOSTILE
@given(
    hostile_requests(),
    st.integers(min_value=-U64, max_value=U64) | st.sampled_from([-U64, U64, -(1 << 63), 1 << 63]),
)
@example(FAR_TIMES, 1 << 60)
@example(FAR_TIMES, -(1 << 60))
def test_time_shift_keeps_hostile_times_in_range(
    request: ExportTraceServiceRequest, shift: int
) -> None:
    def run() -> None:
        rewrite = Rewrite(time_shift_ns=shift)
        rewrite.apply(request)
        request.SerializeToString()
        first, last = time_range([request])
        assert 0 <= first <= U64 and 0 <= last <= U64

    _typed(run)
