"""Cost of usage records and of OTLP span streams: dialects, aggregates, groups, enrichment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelcli.errors import UsageError
from otelcli.genai.pricing.cost import (
    GROUP_DIMENSIONS,
    CostCalculator,
    Usage,
    cost_of,
    cost_report,
    enrich_batches,
    inclusive_usage,
    price_call,
)
from otelcli.genai.pricing.table import PriceTable, load_builtin_table
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.values import attributes_to_dict, make_attributes

MTOK = 1_000_000
DAY_2026 = int(datetime(2026, 11, 1, 12, tzinfo=UTC).timestamp() * 10**9)

Span = tuple[str, Mapping[str, Any]]


def batch(
    spans: Sequence[Span],
    *,
    scope: str = "",
    service: str = "shop",
    trace: int = 1,
    start_ns: int = DAY_2026,
) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(make_attributes({"service.name": service}))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope
    for number, (name, attributes) in enumerate(spans, start=1):
        span = scope_spans.spans.add()
        span.name = name
        span.trace_id = trace.to_bytes(16, "big")
        span.span_id = (trace * 1000 + number).to_bytes(8, "big")
        span.start_time_unix_nano = start_ns
        span.end_time_unix_nano = start_ns + 10**9
        span.attributes.extend(make_attributes(attributes))
    return request


def chat(model: str, provider: str, inp: int, out: int, **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": out,
        **extra,
    }


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_builtin_table()


# --- one call ------------------------------------------------------------------------------


def test_quick_mode_breakdown(table: PriceTable) -> None:
    b = price_call(table, "gpt-4o", 1200, 300, cached_tokens=200, provider="openai")
    # consensus gpt-4o: 2.5 in, 1.25 cached, 10 out ($/MTok)
    assert b.usd("input") == Decimal("0.0025")
    assert b.usd("cache_read") == Decimal("0.00025")
    assert b.usd("output") == Decimal("0.003")
    assert b.total_usd == Decimal("0.00575")
    assert b.price_id == "openai/gpt-4o" and not b.unknown
    assert b.to_dict()["usd"]["total"] == "0.00575"


def test_cached_larger_than_input_means_exclusive_counts(table: PriceTable) -> None:
    # Anthropic-style raw counts: 100 uncached + 20k cache read + 1k cache write
    b = price_call(
        table,
        "claude-sonnet-4-20250514",
        100,
        50,
        cached_tokens=20_000,
        cache_write_tokens=1_000,
        provider="anthropic",
    )
    assert b.usage.input_tokens == 21_100
    assert b.notes and "cache tokens > input tokens" in b.notes[0]
    expected = (
        100 * Decimal(3) + 20_000 * Decimal("0.3") + 1_000 * Decimal("3.75") + 50 * Decimal(15)
    ) / MTOK
    assert b.total_usd == expected


def test_inclusive_override_beats_the_heuristic() -> None:
    usage, notes = inclusive_usage(8_000, 10, 5_000, input_includes_cache=False)
    assert usage.input_tokens == 13_000 and notes == ()
    usage, _ = inclusive_usage(8_000, 10, 5_000)  # ambiguous: semconv reading
    assert usage.input_tokens == 8_000


def test_reasoning_larger_than_output_is_added(table: PriceTable) -> None:
    b = price_call(
        table,
        "o3",
        1000,
        200,
        reasoning_tokens=800,
        provider="openai",
        at=datetime(2025, 7, 1, tzinfo=UTC),
    )
    assert b.usage.output_tokens == 1000
    assert b.usd("output") == Decimal(1000 * 8) / MTOK


def test_one_hour_cache_writes_use_their_own_price(table: PriceTable) -> None:
    resolution = table.resolve("claude-sonnet-4-20250514", "anthropic")
    usage = Usage(
        input_tokens=3_000, output_tokens=0, cache_write_tokens=3_000, cache_write_1h_tokens=1_000
    )
    b = cost_of(resolution, usage, model="claude-sonnet-4-20250514", ts_ns=DAY_2026)
    assert b.usd("cache_write") == (2_000 * Decimal("3.75") + 1_000 * Decimal(6)) / MTOK


def test_negative_tokens_are_a_usage_error(table: PriceTable) -> None:
    with pytest.raises(UsageError):
        price_call(table, "gpt-4o", -1, 0)


@settings(max_examples=200, deadline=None)
@given(
    inp=st.integers(0, 2_000_000),
    out=st.integers(0, 500_000),
    cached=st.integers(0, 2_000_000),
    model=st.sampled_from(["gpt-4o", "gemini-2.5-pro", "claude-sonnet-4-5", "gpt-5.4"]),
)
def test_parts_add_up_and_match_decimal_arithmetic(
    inp: int, out: int, cached: int, model: str
) -> None:
    table = load_builtin_table()
    b = price_call(
        table, model, inp, out, cached_tokens=cached, at=datetime(2026, 11, 1, tzinfo=UTC)
    )
    parts = [b.usd(part) for part in ("input", "cache_read", "cache_write", "output", "reasoning")]
    assert b.total_usd == sum((p for p in parts if p is not None), Decimal(0))
    resolution = table.resolve(model)
    assert resolution is not None
    period = resolution.entry.current_period()
    rates, _ = period.rates_for(b.usage.input_tokens)
    price = rates.usd()
    uncached = b.usage.input_tokens - b.usage.cache_read_tokens
    expected = (
        uncached * price["input"]
        + b.usage.cache_read_tokens * price["cache_read"]
        + b.usage.output_tokens * price["output"]
    ) / MTOK
    assert b.total_usd == expected


# --- spans ---------------------------------------------------------------------------------


def mixed_capture() -> list[ExportTraceServiceRequest]:
    return [
        batch(
            [
                (
                    "chat gpt-4o",
                    chat("gpt-4o", "openai", 1_000, 100, **{"user.id": "ann", "session.id": "s1"}),
                ),
                (
                    "invoke_agent shopper",
                    {
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.usage.input_tokens": 1_000,
                        "gen_ai.usage.output_tokens": 100,
                    },
                ),
                (
                    "chat claude",
                    chat("claude-sonnet-4-20250514", "anthropic", 2_000, 200, **{"user.id": "bob"}),
                ),
                ("chat mystery", chat("mystery-model-9", "openai", 10, 10)),
            ],
            trace=1,
        ),
        # Vercel AI SDK: the outer span repeats the doGenerate usage
        batch(
            [
                (
                    "ai.generateText",
                    {
                        "ai.operationId": "ai.generateText",
                        "ai.model.id": "gpt-4o",
                        "ai.model.provider": "openai.chat",
                        "ai.usage.promptTokens": 500,
                        "ai.usage.completionTokens": 50,
                    },
                ),
                (
                    "ai.generateText.doGenerate",
                    {
                        "ai.operationId": "ai.generateText.doGenerate",
                        "ai.model.id": "gpt-4o",
                        "ai.model.provider": "openai.chat",
                        "ai.usage.promptTokens": 500,
                        "ai.usage.completionTokens": 50,
                        "ai.telemetry.metadata.userId": "ann",
                    },
                ),
            ],
            scope="ai",
            service="web",
            trace=2,
        ),
        # OpenInference LLM span (and an AGENT span carrying the sum)
        batch(
            [
                (
                    "ChatCompletion",
                    {
                        "openinference.span.kind": "LLM",
                        "llm.model_name": "gpt-4o-mini",
                        "llm.provider": "openai",
                        "llm.token_count.prompt": 10_000,
                        "llm.token_count.completion": 1_000,
                        "llm.token_count.prompt_details.cache_read": 4_000,
                    },
                ),
                (
                    "Agent",
                    {
                        "openinference.span.kind": "AGENT",
                        "llm.token_count.prompt": 10_000,
                        "llm.token_count.completion": 1_000,
                    },
                ),
            ],
            scope="openinference.instrumentation.openai",
            service="rag",
            trace=3,
        ),
        # pydantic-ai: agent run with aggregated usage, Logfire pending duplicate
        batch(
            [
                (
                    "agent run",
                    {
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.usage.input_tokens": 300,
                        "gen_ai.usage.output_tokens": 30,
                        "gen_ai.aggregated_usage.input_tokens": 300,
                    },
                ),
                (
                    "chat gpt-4o",
                    chat("gpt-4o", "openai", 300, 30, **{"logfire.span_type": "pending_span"}),
                ),
                ("chat gpt-4o", chat("gpt-4o", "openai", 300, 30, **{"operation.cost": 0.00105})),
            ],
            scope="pydantic-ai",
            trace=4,
        ),
    ]


def test_file_mode_totals_skips_and_unknowns(table: PriceTable) -> None:
    report = cost_report(mixed_capture(), table)
    assert report.spans_seen == 11
    # priced: gpt-4o 1000/100, claude 2000/200, vercel inner 500/50, OI 10000/1000 (4000
    # cached), pydantic chat 300/30; the unknown one is counted but not priced
    expected = (
        (1_000 * Decimal("2.5") + 100 * 10)
        + (2_000 * 3 + 200 * 15)
        + (500 * Decimal("2.5") + 50 * 10)
        + (6_000 * Decimal("0.15") + 4_000 * Decimal("0.075") + 1_000 * Decimal("0.6"))
        + (300 * Decimal("2.5") + 30 * 10)
    ) / MTOK
    assert report.total.total_usd == expected
    assert report.total.priced_spans == 5 and report.total.unknown_spans == 1
    assert report.unknown_models == {("mystery-model-9", "openai"): 1}
    reasons = " | ".join(report.skipped)
    assert sum(report.skipped.values()) == 5
    assert "Vercel" in reasons and "pydantic-ai" in reasons and "OpenInference AGENT" in reasons
    assert "Logfire pending span" in reasons
    assert report.disagreement_count == 0 and report.agreements == 1  # operation.cost matched


@pytest.mark.parametrize("dimension", GROUP_DIMENSIONS)
def test_every_grouping_adds_up_to_the_total(table: PriceTable, dimension: str) -> None:
    report = cost_report(mixed_capture(), table, by=[dimension])
    assert sum(g.total_cost for g in report.groups.values()) == report.total.total_cost
    assert sum(g.spans for g in report.groups.values()) == report.total.spans
    keys = {key[0] for key in report.groups}
    expected = {
        "model": {"gpt-4o", "claude-sonnet-4-20250514", "mystery-model-9", "gpt-4o-mini"},
        "provider": {"openai", "anthropic"},
        "service": {"shop", "web", "rag"},
        "trace": {f"{n:032x}" for n in (1, 2, 3, 4)},
        "user": {"ann", "bob", "unknown"},
        "session": {"s1", "unknown"},
        "day": {"2026-11-01"},
        "hour": {"2026-11-01T12Z"},
        "span-name": {
            "chat gpt-4o",
            "chat claude",
            "chat mystery",
            "ai.generateText.doGenerate",
            "ChatCompletion",
        },
    }[dimension]
    assert keys == expected


def test_two_dimensions_and_top(table: PriceTable) -> None:
    report = cost_report(mixed_capture(), table, by=["service", "model"])
    top = report.top(1)
    assert top[0][0] == ("shop", "claude-sonnet-4-20250514")
    data = report.to_dict(top=2)
    assert len(data["groups"]) == 3 and data["groups"][0]["key"] == {
        "service": "shop",
        "model": "claude-sonnet-4-20250514",
    }
    other = data["groups"][-1]  # what --top leaves out, in one row: the rows add up
    assert other["key"] == {"service": "(other)", "model": "(other)"}
    assert other["other_groups"] == len(report.groups) - 2
    assert sum(g["spans"] for g in data["groups"]) == report.total.spans
    assert sum(Decimal(g["usd"]["total"]) for g in data["groups"]) == report.total.total_usd
    unknown_group = report.groups[("shop", "mystery-model-9")].to_dict()
    assert unknown_group["usd"] is None  # unknown is never $0


def test_unknown_dimension_is_a_usage_error(table: PriceTable) -> None:
    with pytest.raises(UsageError, match="color"):
        CostCalculator(table, by=["color"])


def test_openlit_anthropic_counts_are_read_as_exclusive(table: PriceTable) -> None:
    attrs = chat(
        "claude-sonnet-4-20250514",
        "anthropic",
        8_000,
        0,
        **{"gen_ai.usage.cache_read.input_tokens": 5_000},
    )
    openlit = cost_report([batch([("chat", attrs)], scope="openlit.otel.tracing")], table)
    semconv = cost_report([batch([("chat", attrs)], scope="my.app")], table)
    assert openlit.total.input_tokens == 13_000
    assert semconv.total.input_tokens == 8_000
    assert openlit.heuristics == {"input excluded cache (anthropic raw counts)": 1}


def test_old_attribute_names_and_string_counts(table: PriceTable) -> None:
    spans = [
        (
            "openai.chat",
            {
                "llm.request.type": "chat",
                "gen_ai.system": "OpenAI",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.prompt_tokens": "1000",
                "gen_ai.usage.completion_tokens": "100",
            },
        )
    ]
    report = cost_report([batch(spans)], table, by=["provider"])
    assert report.total.input_tokens == 1_000
    assert list(report.groups) == [("openai",)]
    assert report.total.total_usd == Decimal("0.0035")


def test_provider_from_server_address_and_response_model(table: PriceTable) -> None:
    spans = [
        (
            "chat",
            {
                "gen_ai.request.model": "prod-gpt4o",
                "gen_ai.response.model": "gpt-4o-2024-05-13",
                "server.address": "acme.openai.azure.com",
                "gen_ai.usage.input_tokens": MTOK,
                "gen_ai.usage.output_tokens": 0,
            },
        )
    ]
    report = cost_report([batch(spans)], table, by=["provider", "model"])
    assert list(report.groups) == [("azure.ai.openai", "gpt-4o-2024-05-13")]
    assert report.total.total_usd == Decimal(5)


def test_spans_are_priced_at_their_start_day(table: PriceTable) -> None:
    spans = [("chat", chat("o3", "openai", MTOK, 0))]
    early = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 10**9)
    assert cost_report([batch(spans, start_ns=early)], table).total.total_usd == 10
    assert cost_report([batch(spans)], table).total.total_usd == 2


def test_tier_is_chosen_per_request_not_per_total(table: PriceTable) -> None:
    spans = [("chat", chat("gemini-2.5-pro", "gcp.gemini", 150_000, 0))] * 2
    report = cost_report([batch(spans)], table)
    assert report.total.total_usd == 2 * 150_000 * Decimal("1.25") / MTOK


# --- enrichment ----------------------------------------------------------------------------


def test_enrichment_writes_cost_and_reports_disagreements(table: PriceTable) -> None:
    capture = [
        batch(
            [
                ("chat a", chat("gpt-4o", "openai", 1_000, 100, **{"gen_ai.usage.cost": 0.5})),
                ("chat b", chat("gpt-4o", "openai", 1_000, 100, **{"llm.cost.total": 0.0035})),
                ("chat c", chat("mystery-model-9", "openai", 1, 1)),
                (
                    "invoke_agent",
                    {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 2_000},
                ),
            ]
        )
    ]
    calculator = CostCalculator(table)
    out = list(enrich_batches(capture, calculator))
    spans = {v.name: attributes_to_dict(v.span.attributes) for v in iter_spans(out[0])}
    assert spans["chat a"]["gen_ai.usage.cost"] == pytest.approx(0.0035)
    assert spans["chat a"]["gen_ai.usage.cost.reported"] == 0.5
    assert spans["chat a"]["gen_ai.usage.cost.input"] == pytest.approx(0.0025)
    assert spans["chat a"]["gen_ai.usage.cost.price_id"] == "openai/gpt-4o"
    assert spans["chat b"]["gen_ai.usage.cost"] == pytest.approx(0.0035)
    assert "gen_ai.usage.cost" not in spans["chat c"]  # unknown: never priced
    assert "gen_ai.usage.cost" not in spans["invoke_agent"]  # aggregate: not enriched
    report = calculator.report
    assert report.disagreement_count == 1 and report.agreements == 1
    disagreement = report.disagreements[0]
    assert (disagreement.name, disagreement.attribute) == ("chat a", "gen_ai.usage.cost")
    assert disagreement.reported_usd == Decimal("0.5")
    assert disagreement.computed_usd == Decimal("0.0035")


def test_enriched_capture_prices_the_same_again(table: PriceTable) -> None:
    capture = mixed_capture()
    first = CostCalculator(table)
    enriched = list(enrich_batches(capture, first))
    second = cost_report(enriched, table)
    assert second.total.total_cost == first.report.total.total_cost
    assert second.disagreement_count == 0
