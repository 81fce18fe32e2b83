"""Dialect detection and normalisation of span attributes to GenAI semconv keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otelcli.genai.dialects.normalize import (
    detect_dialect,
    load_dialects,
    normalize_span,
    span_type,
)
from otelcli.otlp.spans import SpanView, iter_spans
from otelcli.otlp.values import make_attributes

REFERENCE = Path(__file__).resolve().parents[2] / "../shared/reference"


def view(attributes: Mapping[str, Any], *, scope: str = "", name: str = "span") -> SpanView:
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    scope_spans.scope.name = scope
    span = scope_spans.spans.add(name=name, trace_id=b"\1" * 16, span_id=b"\2" * 8)
    span.attributes.extend(make_attributes(attributes))
    return next(iter_spans(request))


@pytest.mark.parametrize(
    ("attributes", "scope", "name", "dialect"),
    [
        ({"openinference.span.kind": "LLM"}, "", "ChatCompletion", "openinference"),
        ({"llm.request.type": "chat"}, "", "openai.chat", "openllmetry"),
        ({"gen_ai.usage.input_tokens": 1}, "ai", "ai.generateText", "vercel-ai"),
        ({"ai.operationId": "ai.streamText.doStream"}, "", "x", "vercel-ai"),
        ({}, "", "ai.embed.doEmbed", "vercel-ai"),
        ({"gen_ai.usage.input_tokens": 1}, "openlit.otel.tracing", "chat", "openlit"),
        ({"gen_ai.usage.input_tokens": 1}, "pydantic-ai", "chat gpt-4o", "pydantic-ai"),
        ({"logfire.span_type": "span"}, "", "Chat Completion", "logfire"),
        ({"langfuse.observation.type": "generation"}, "", "gen", "langfuse"),
        ({"gen_ai.response.input_tokens": 5}, "custom.genai.instrumentation", "llm", "portkey"),
        (
            {"gen_ai.operation.name": "chat"},
            "opentelemetry.instrumentation.openai_v2",
            "chat",
            "semconv",
        ),
    ],
)
def test_detect_dialect(attributes: Mapping[str, Any], scope: str, name: str, dialect: str) -> None:
    assert detect_dialect(view(attributes, scope=scope, name=name)) == dialect


def test_openinference_to_semconv_keeping_originals() -> None:
    span = view(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-2024-08-06",
            "llm.provider": "azure",
            "llm.system": "openai",
            "llm.token_count.prompt": 120,
            "llm.token_count.completion": 30,
            "llm.token_count.prompt_details.cache_read": 100,
            "llm.cost.total": 0.001,
        }
    )
    result = normalize_span(span)
    a = result.attributes
    assert a["gen_ai.usage.input_tokens"] == 120
    assert a["gen_ai.usage.output_tokens"] == 30
    assert a["gen_ai.usage.cache_read.input_tokens"] == 100
    assert a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert a["gen_ai.provider.name"] == "azure.ai.openai"  # host (llm.provider) wins
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.usage.cost"] == 0.001
    assert a["llm.token_count.prompt"] == 120  # originals kept
    assert result.renamed["llm.token_count.prompt"] == "gen_ai.usage.input_tokens"
    assert result.span_type == "llm" and result.dialect == "openinference"


def test_replace_mode_drops_renamed_originals() -> None:
    span = view(
        {
            "llm.request.type": "chat",
            "gen_ai.usage.prompt_tokens": "12",
            "gen_ai.system": "Anthropic",
            "custom": 1,
        }
    )
    result = normalize_span(span, keep_originals=False)
    assert result.attributes == {
        "llm.request.type": "chat",
        "custom": 1,
        "gen_ai.usage.input_tokens": 12,  # numeric strings become numbers
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
    }


def test_existing_semconv_key_wins_over_aliases() -> None:
    span = view(
        {
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.prompt_tokens": 9,
            "llm.token_count.prompt": 11,
        }
    )
    result = normalize_span(span)
    assert result.attributes["gen_ai.usage.input_tokens"] == 7
    assert "gen_ai.usage.prompt_tokens" not in result.renamed


def test_low_priority_duplicates_only_fill_gaps() -> None:
    both = view(
        {"gen_ai.usage.details.cache_read_tokens": 9, "gen_ai.usage.cache_read_input_tokens": 5},
        scope="pydantic-ai",
    )
    assert normalize_span(both).attributes["gen_ai.usage.cache_read.input_tokens"] == 5
    alone = view({"gen_ai.usage.details.cache_read_tokens": 9}, scope="pydantic-ai")
    assert normalize_span(alone).attributes["gen_ai.usage.cache_read.input_tokens"] == 9


@pytest.mark.parametrize(
    ("attributes", "scope", "name", "expected"),
    [
        (
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 5},
            "",
            "a",
            "agent span",
        ),
        (
            {"ai.operationId": "ai.generateText", "ai.usage.promptTokens": 5},
            "ai",
            "ai.generateText",
            "Vercel AI SDK outer span",
        ),
        (
            {"ai.operationId": "ai.generateText.doGenerate", "ai.usage.promptTokens": 5},
            "ai",
            "ai.generateText.doGenerate",
            None,
        ),
        ({"gen_ai.usage.input_tokens": 5}, "pydantic-ai", "agent run", "pydantic-ai agent run"),
        (
            {"logfire.span_type": "pending_span", "gen_ai.usage.input_tokens": 5},
            "",
            "chat",
            "Logfire pending span",
        ),
        (
            {"traceloop.span.kind": "workflow", "gen_ai.usage.input_tokens": 5},
            "",
            "w.workflow",
            "OpenLLMetry workflow",
        ),
        ({"gen_ai.operation.name": "invoke_agent"}, "", "a", None),  # no usage: nothing to skip
    ],
)
def test_aggregate_reasons(
    attributes: Mapping[str, Any], scope: str, name: str, expected: str | None
) -> None:
    reason = normalize_span(view(attributes, scope=scope, name=name)).aggregate_reason
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)


@pytest.mark.parametrize(
    ("attributes", "name", "kind"),
    [
        ({"openinference.span.kind": "EMBEDDING"}, "x", "embedding"),
        ({"openinference.span.kind": "TOOL"}, "x", "tool"),
        ({"langfuse.observation.type": "agent"}, "x", "agent"),
        ({"traceloop.span.kind": "tool"}, "x", "tool"),
        ({"ai.operationId": "ai.toolCall"}, "ai.toolCall", "tool"),
        ({"gen_ai.operation.name": "retrieval"}, "x", "retrieval"),
        ({"http.method": "GET"}, "GET /", "other"),
    ],
)
def test_span_types(attributes: Mapping[str, Any], name: str, kind: str) -> None:
    assert span_type(view(attributes, name=name)) == kind


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("openai.responses", "openai"),
        ("Anthropic", "anthropic"),
        ("azure-openai", "azure.ai.openai"),
        ("vertex-ai", "gcp.vertex_ai"),
        ("MistralAI", "mistral_ai"),
        ("xai", "x_ai"),
        ("AWS", "aws.bedrock"),
        ("somebody-new", "somebody-new"),
    ],
)
def test_provider_names(raw: str, canonical: str) -> None:
    assert load_dialects().canonical_provider(raw) == canonical


def test_vercel_time_to_first_chunk_is_scaled_to_seconds() -> None:
    span = view({"ai.response.msToFirstChunk": 250.0}, scope="ai")
    assert normalize_span(span).attributes["gen_ai.response.time_to_first_chunk"] == 0.25


def test_key_index_ranks_semconv_keys_first() -> None:
    index = load_dialects().key_index()
    assert index["gen_ai.usage.input_tokens"] == ("gen_ai.usage.input_tokens", 0)
    assert index["llm.token_count.prompt"][0] == "gen_ai.usage.input_tokens"
    assert (
        index["gen_ai.usage.details.cache_read_tokens"][1]
        > index["gen_ai.usage.cache_read_input_tokens"][1]
    )


def test_rename_targets_are_registry_or_known_extension_keys() -> None:
    registry = REFERENCE / "semconv"
    if not registry.exists():
        pytest.skip("shared reference material is not available")
    text = " ".join(p.read_text(errors="ignore") for p in registry.rglob("*") if p.is_file())
    # general-registry keys and de-facto extensions outside the GenAI tables
    extensions = {
        "gen_ai.usage.cost",
        "gen_ai.usage.total_tokens",
        "session.id",
        "user.id",
        "service.name",
        "deployment.environment.name",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.response.time_to_first_chunk",
    }
    raw = json.loads(
        (Path(__file__).resolve().parents[2] / "otelcli/data/dialects.json").read_text()
    )
    targets = set()
    for renames in [raw["common"]["attributes"], *(d["attributes"] for d in raw["dialects"])]:
        for spec in renames.values():
            targets.add(spec if isinstance(spec, str) else spec["to"])
    unknown = {t for t in targets - extensions if t not in text}
    assert not unknown


def test_a_single_finish_reason_becomes_the_semconv_list() -> None:
    result = normalize_span(
        view({"openinference.span.kind": "LLM", "llm.finish_reason": "tool_calls"})
    )
    assert result.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]


def test_recorded_request_parameters_fill_request_attributes() -> None:
    parameters = {
        "model": "gpt-4o-mini",
        "max_completion_tokens": 200,
        "stop": "END",
        "stream": False,
        "reasoning": {"effort": "low"},
        "response_format": {"type": "json_schema"},
        "tools": [{"type": "function"}],
    }
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini-2024-07-18",
        "llm.invocation_parameters": json.dumps(parameters),
    }
    out = normalize_span(view(attributes), keep_originals=False).attributes
    assert out["gen_ai.request.model"] == "gpt-4o-mini"  # as requested, not the dated id
    assert out["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert out["gen_ai.request.max_tokens"] == 200
    assert out["gen_ai.request.stop_sequences"] == ["END"]
    assert out["gen_ai.request.reasoning.level"] == "low"
    assert out["gen_ai.output.type"] == "json"
    assert "gen_ai.request.stream" not in out  # set only when the request streams
    assert "llm.invocation_parameters" in out  # it holds more than semconv has keys for
    # text that is no JSON object changes nothing
    broken = {**attributes, "llm.invocation_parameters": "{not json"}
    assert "gen_ai.request.max_tokens" not in normalize_span(view(broken)).attributes
