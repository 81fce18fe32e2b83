"""Dialect renderings checked attribute by attribute against the mapping facts
(reference dialects.md sections b and c), using the semconv rendering of the same seed as
the source of truth for the numbers."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from otelcli.genai.scenarios.build import build_scenario
from otelcli.genai.scenarios.catalog import DIALECTS, SCENARIOS
from otelcli.otlp.spans import SpanView, iter_spans

NOW = 1_767_225_600_000_000_000
SEED = 11

DIALECTS_JSON = resources.files("otelcli.data").joinpath("dialects.json")


def documented_keys(dialect: str) -> list[str]:
    """Patterns for every key data/dialects.json documents for the dialect `send` writes: the
    keys it reads (its renames, its span-kind marker attributes, the common aliases its send
    section names) and the keys and key templates of its send section ({i}, {j} -> \\d+)."""
    raw = json.loads(DIALECTS_JSON.read_text("utf-8"))
    (entry,) = [d for d in raw["dialects"] if d.get("send", {}).get("name", d["id"]) == dialect]
    send = entry["send"]
    preferred = {
        *send.get("write", ()),
        *(k for ks in send.get("variants", {}).values() for k in ks),
    }
    keys = [*entry["attributes"], *(k for k in raw["common"]["attributes"] if k in preferred)]
    keys += [
        entry[rule]["attribute"] for rule in ("operation", "operation_fallback") if rule in entry
    ]
    keys += [*send.get("keys", {}).values(), *send.get("step_keys", {}).values()]
    keys += [*send.get("semconv_keys", ()), *send.get("provider_values", {})]
    for group in ("input_message", "output_message", "tool_definition"):
        keys += send.get(group, {}).values()
    return [re.sub(r"\\\{\w+\\\}", r"\\d+", re.escape(key)) for key in keys]


OPENLIT_VARIANTS = {
    "gen_ai.usage.total_tokens",
    "gen_ai.usage.reasoning_tokens",
    "gen_ai.server.time_to_first_token",
}
CONTENT_PATTERNS = [
    r".*messages.*",
    r"(input|output)\.(value|mime_type)",
    r"llm\.tools\..*",
    r"gen_ai\.(prompt|completion)\.\d+\..*",
    r"llm\.request\.functions\..*",
    r"traceloop\.entity\.(input|output)",
    r"ai\.prompt.*",
    r"ai\.response\.(text|toolCalls)",
    r"ai\.toolCall\.(args|result)",
    r"gen_ai\.tool\.call\.(arguments|result)",
    r"gen_ai\.retrieval\.(query\.text|documents)",
    r"gen_ai\.(system_instructions|tool\.definitions)",
]


def render(name: str, dialect: str, content: bool = False) -> list[SpanView]:
    request = build_scenario(name, dialect=dialect, seed=SEED, content=content, now_ns=NOW)
    return list(iter_spans(request))


def semconv(name: str) -> list[SpanView]:
    return render(name, "semconv", content=True)


def attr(view: SpanView, key: str) -> Any:
    return view.attributes[key]


def messages(view: SpanView, key: str) -> list[dict[str, Any]]:
    value: list[dict[str, Any]] = json.loads(view.attributes.get(key, "[]"))
    return value


def text_of(message: dict[str, Any]) -> str:
    return "".join(p["content"] for p in message["parts"] if p["type"] == "text")


def history(view: SpanView) -> list[dict[str, Any]]:
    """Semconv chat history with separate system instructions put first."""
    system = messages(view, "gen_ai.system_instructions")
    head = [{"role": "system", "parts": system}] if system else []
    return head + messages(view, "gen_ai.input.messages")


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["openinference", "openllmetry", "vercel"])
@pytest.mark.parametrize("content", [False, True])
def test_renderings_use_only_the_dialects_documented_keys(dialect: str, content: bool) -> None:
    patterns = [re.compile(p) for p in documented_keys(dialect)]
    for name in SCENARIOS:
        for view in render(name, dialect, content):
            for key in view.attributes:
                assert any(p.fullmatch(key) for p in patterns), (dialect, name, view.name, key)


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_content_keys_appear_only_with_content(dialect: str) -> None:
    patterns = [re.compile(p) for p in CONTENT_PATTERNS]
    found_with_content = False
    for name in SCENARIOS:
        for view in render(name, dialect, content=False):
            for key in view.attributes:
                assert not any(p.fullmatch(key) for p in patterns), (dialect, name, key)
            assert not view.span.events
        for view in render(name, dialect, content=True):
            found_with_content |= any(
                any(p.fullmatch(key) for p in patterns) for key in view.attributes
            ) or bool(view.span.events)
    assert found_with_content


def test_same_seed_same_trace_in_every_dialect() -> None:
    for name in SCENARIOS:
        traces = {render(name, dialect)[0].trace_id for dialect in DIALECTS}
        assert len(traces) == 1
        ends = {max(v.end_ns for v in render(name, dialect)) for dialect in DIALECTS}
        assert ends == {NOW}


def test_error_status_survives_every_dialect() -> None:
    (source,) = semconv("error")
    for dialect in DIALECTS:
        errors = [v for v in render("error", dialect) if v.status_code == 2]
        assert errors, dialect
        assert all(v.status_message == source.status_message for v in errors)


# --- OpenInference ----------------------------------------------------------------------

OI_KINDS = {
    "chat": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "retrieval": "RETRIEVER",
    "invoke_workflow": "CHAIN",
}


def test_openinference_span_kinds_models_and_token_counts() -> None:
    for name in SCENARIOS:
        for src, oi in zip(semconv(name), render(name, "openinference"), strict=True):
            a = src.attributes
            op = a["gen_ai.operation.name"]
            assert attr(oi, "openinference.span.kind") == OI_KINDS[op]
            if op in ("chat", "generate_content"):
                model = a.get("gen_ai.response.model", a["gen_ai.request.model"])
                assert attr(oi, "llm.model_name") == model
                params = json.loads(attr(oi, "llm.invocation_parameters"))
                assert params["model"] == a["gen_ai.request.model"]
                assert params.get("temperature") == a.get("gen_ai.request.temperature")
            if op == "embeddings":
                assert attr(oi, "embedding.model_name") == a["gen_ai.request.model"]
            if "gen_ai.usage.input_tokens" in a and op != "invoke_agent":
                assert attr(oi, "llm.token_count.prompt") == a["gen_ai.usage.input_tokens"]
                out = a.get("gen_ai.usage.output_tokens", 0)
                assert attr(oi, "llm.token_count.total") == a["gen_ai.usage.input_tokens"] + out
            pairs = {
                "gen_ai.usage.output_tokens": "llm.token_count.completion",
                "gen_ai.usage.cache_read.input_tokens": "llm.token_count.prompt_details.cache_read",
                "gen_ai.usage.cache_creation.input_tokens": (
                    "llm.token_count.prompt_details.cache_write"
                ),
                "gen_ai.usage.reasoning.output_tokens": (
                    "llm.token_count.completion_details.reasoning"
                ),
            }
            for semconv_key, oi_key in pairs.items():
                if op != "invoke_agent":
                    assert oi.attributes.get(oi_key) == a.get(semconv_key), (name, oi_key)
            if op == "execute_tool":
                assert attr(oi, "tool.name") == a["gen_ai.tool.name"]
                assert attr(oi, "tool_call.id") == a["gen_ai.tool.call.id"]
                assert attr(oi, "tool.description") == a["gen_ai.tool.description"]
            if op == "invoke_agent":
                assert attr(oi, "session.id") == a["gen_ai.conversation.id"]
            # the host-aware split of the provider (llm.system vendor, llm.provider host)
            if "gen_ai.provider.name" in a:
                expected = {
                    "openai": ("openai", "openai"),
                    "anthropic": ("anthropic", "anthropic"),
                    "gcp.gemini": ("vertexai", "google"),
                }[a["gen_ai.provider.name"]]
                assert (attr(oi, "llm.system"), attr(oi, "llm.provider")) == expected


def test_openinference_flattens_messages_and_tool_calls() -> None:
    for name in ("agent", "stream", "chat"):
        for src, oi in zip(semconv(name), render(name, "openinference", True), strict=True):
            if src.attributes["gen_ai.operation.name"] != "chat":
                continue
            for prefix, msgs in (
                ("llm.input_messages", history(src)),
                ("llm.output_messages", messages(src, "gen_ai.output.messages")),
            ):
                for i, msg in enumerate(msgs):
                    base = f"{prefix}.{i}.message"
                    assert attr(oi, f"{base}.role") == msg["role"]
                    for part in msg["parts"]:
                        if part["type"] == "text":
                            assert attr(oi, f"{base}.content") == text_of(msg)
                        if part["type"] == "tool_call":
                            call = f"{base}.tool_calls.0.tool_call"
                            assert attr(oi, f"{call}.id") == part["id"]
                            assert attr(oi, f"{call}.function.name") == part["name"]
                            args = json.loads(attr(oi, f"{call}.function.arguments"))
                            assert args == part["arguments"]
                        if part["type"] == "tool_call_response":
                            assert attr(oi, f"{base}.tool_call_id") == part["id"]
                            assert json.loads(attr(oi, f"{base}.content")) == part["response"]
                assert f"{prefix}.{len(msgs)}.message.role" not in oi.attributes
            tools = messages(src, "gen_ai.tool.definitions")
            for i, tool in enumerate(tools):
                schema = json.loads(attr(oi, f"llm.tools.{i}.tool.json_schema"))
                assert schema["function"]["name"] == tool["name"]
                assert schema["function"]["parameters"] == tool["parameters"]


# --- OpenLLMetry ------------------------------------------------------------------------


def test_openllmetry_llm_spans_use_the_old_usage_names_and_span_names() -> None:
    names = {
        ("openai", "chat"): "openai.chat",
        ("anthropic", "chat"): "anthropic.chat",
        ("openai", "embeddings"): "openai.embeddings",
    }
    systems = {"openai": "openai", "anthropic": "Anthropic"}
    for name in ("chat", "agent", "rag", "embeddings", "stream"):
        for src, oll in zip(semconv(name), render(name, "openllmetry"), strict=True):
            a = src.attributes
            op = a["gen_ai.operation.name"]
            if op not in ("chat", "embeddings"):
                continue
            provider = a["gen_ai.provider.name"]
            assert oll.name == names[(provider, op)]
            assert oll.kind_name == "CLIENT"
            assert attr(oll, "llm.request.type") == {"chat": "chat", "embeddings": "embedding"}[op]
            assert attr(oll, "gen_ai.system") == systems[provider]
            assert attr(oll, "gen_ai.request.model") == a["gen_ai.request.model"]
            assert attr(oll, "gen_ai.response.model") == a["gen_ai.response.model"]
            assert attr(oll, "gen_ai.usage.prompt_tokens") == a["gen_ai.usage.input_tokens"]
            out = a.get("gen_ai.usage.output_tokens")
            assert oll.attributes.get("gen_ai.usage.completion_tokens") == out
            assert attr(oll, "llm.usage.total_tokens") == a["gen_ai.usage.input_tokens"] + (
                out or 0
            )
            assert oll.attributes.get("gen_ai.usage.cache_read_input_tokens") == a.get(
                "gen_ai.usage.cache_read.input_tokens"
            )
            assert oll.attributes.get("gen_ai.usage.cache_creation_input_tokens") == a.get(
                "gen_ai.usage.cache_creation.input_tokens"
            )
            if "gen_ai.request.top_k" in a:
                assert attr(oll, "llm.top_k") == a["gen_ai.request.top_k"]


def test_openllmetry_decorator_spans_mark_their_kind() -> None:
    expected = {"invoke_agent": "agent", "execute_tool": "tool", "invoke_workflow": "workflow"}
    for name in ("agent", "rag"):
        for src, oll in zip(semconv(name), render(name, "openllmetry"), strict=True):
            op = src.attributes["gen_ai.operation.name"]
            if op in expected:
                kind = expected[op]
                assert attr(oll, "traceloop.span.kind") == kind
                entity = attr(oll, "traceloop.entity.name")
                assert oll.name == f"{entity}.{kind}"
                assert oll.kind_name == "INTERNAL"
            if op == "retrieval":
                assert attr(oll, "traceloop.span.kind") == "task"
    workflow = render("rag", "openllmetry")[0]
    name = attr(workflow, "traceloop.entity.name")
    for view in render("rag", "openllmetry"):
        if "traceloop.span.kind" in view.attributes:
            assert attr(view, "traceloop.workflow.name") == name


def test_openllmetry_prompt_and_completion_attributes() -> None:
    for src, oll in zip(semconv("agent"), render("agent", "openllmetry", True), strict=True):
        a = src.attributes
        if a["gen_ai.operation.name"] == "execute_tool":
            entity_in = json.loads(attr(oll, "traceloop.entity.input"))
            assert entity_in["kwargs"] == json.loads(a["gen_ai.tool.call.arguments"])
            assert json.loads(attr(oll, "traceloop.entity.output")) == json.loads(
                a["gen_ai.tool.call.result"]
            )
        if a["gen_ai.operation.name"] != "chat":
            continue
        for i, msg in enumerate(history(src)):
            assert attr(oll, f"gen_ai.prompt.{i}.role") == msg["role"]
            for part in msg["parts"]:
                if part["type"] == "tool_call":
                    assert attr(oll, f"gen_ai.prompt.{i}.tool_calls.0.id") == part["id"]
                    assert attr(oll, f"gen_ai.prompt.{i}.tool_calls.0.name") == part["name"]
                if part["type"] == "tool_call_response":
                    assert attr(oll, f"gen_ai.prompt.{i}.tool_call_id") == part["id"]
        outputs = messages(src, "gen_ai.output.messages")
        for i, msg in enumerate(outputs):
            assert attr(oll, f"gen_ai.completion.{i}.role") == msg["role"]
            # OpenLLMetry keeps the provider's own finish reason
            reason = a["gen_ai.response.finish_reasons"][i]
            assert attr(oll, f"gen_ai.completion.{i}.finish_reason") == reason
        for i, tool in enumerate(messages(src, "gen_ai.tool.definitions")):
            assert attr(oll, f"llm.request.functions.{i}.name") == tool["name"]
            params = json.loads(attr(oll, f"llm.request.functions.{i}.parameters"))
            assert params == tool["parameters"]


# --- Vercel AI SDK ----------------------------------------------------------------------


def by_parent(views: list[SpanView]) -> dict[str, list[SpanView]]:
    out: dict[str, list[SpanView]] = {}
    for view in views:
        out.setdefault(view.parent_span_id, []).append(view)
    return out


def test_vercel_single_call_is_an_outer_span_with_an_inner_do_generate() -> None:
    (src,) = semconv("chat")
    outer, inner = render("chat", "vercel")
    assert (outer.name, inner.name) == ("ai.generateText", "ai.generateText.doGenerate")
    assert inner.parent_span_id == outer.span_id and outer.parent_span_id == ""
    assert outer.start_ns <= inner.start_ns <= inner.end_ns <= outer.end_ns
    a = src.attributes
    for view in (outer, inner):
        assert view.kind_name == "INTERNAL"
        assert attr(view, "ai.operationId") == view.name
        assert (
            attr(view, "operation.name") == f"{view.name} {attr(view, 'ai.telemetry.functionId')}"
        )
        assert attr(view, "ai.model.id") == a["gen_ai.request.model"]
        assert attr(view, "ai.model.provider") == "openai.chat"
        # generateText puts ai.usage.* on the outer and the inner span alike
        assert attr(view, "ai.usage.promptTokens") == a["gen_ai.usage.input_tokens"]
        assert attr(view, "ai.usage.completionTokens") == a["gen_ai.usage.output_tokens"]
        assert attr(view, "ai.settings.maxOutputTokens") == a["gen_ai.request.max_tokens"]
        assert attr(view, "ai.response.finishReason") == "stop"
    # gen_ai.usage.* only on the inner doGenerate span
    assert "gen_ai.usage.input_tokens" not in outer.attributes
    assert attr(inner, "gen_ai.usage.input_tokens") == a["gen_ai.usage.input_tokens"]
    assert attr(inner, "gen_ai.usage.output_tokens") == a["gen_ai.usage.output_tokens"]
    assert attr(inner, "ai.response.model") == a["gen_ai.response.model"]
    assert attr(inner, "gen_ai.system") == "openai.chat"


def test_vercel_stream_uses_stream_text_usage_names_and_ms_to_first_chunk() -> None:
    (src,) = semconv("stream")
    outer, inner = render("stream", "vercel")
    assert (outer.name, inner.name) == ("ai.streamText", "ai.streamText.doStream")
    a = src.attributes
    for view in (outer, inner):
        assert attr(view, "ai.usage.inputTokens") == a["gen_ai.usage.input_tokens"]
        assert attr(view, "ai.usage.outputTokens") == a["gen_ai.usage.output_tokens"]
        total = a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
        assert attr(view, "ai.usage.totalTokens") == total
        assert attr(view, "ai.usage.cachedInputTokens") == a["gen_ai.usage.cache_read.input_tokens"]
        assert attr(view, "ai.model.provider") == "anthropic.messages"
        assert "ai.usage.promptTokens" not in view.attributes
    ttfc = a["gen_ai.response.time_to_first_chunk"]
    assert attr(inner, "ai.response.msToFirstChunk") == pytest.approx(ttfc * 1000)


def test_vercel_agent_is_generate_text_with_steps_and_tool_calls() -> None:
    src = semconv("agent")
    views = render("agent", "vercel", content=True)
    root = views[0]
    children = by_parent(views)[root.span_id]
    assert root.name == "ai.generateText" and root.parent_span_id == ""
    assert [v.name for v in children] == [
        "ai.generateText.doGenerate",
        "ai.toolCall",
        "ai.generateText.doGenerate",
    ]
    chats = [s for s in src if s.attributes["gen_ai.operation.name"] == "chat"]
    steps = [v for v in children if v.name.endswith("doGenerate")]
    for chat, step in zip(chats, steps, strict=True):
        assert attr(step, "ai.usage.promptTokens") == chat.attributes["gen_ai.usage.input_tokens"]
        assert (
            attr(step, "gen_ai.usage.output_tokens")
            == chat.attributes["gen_ai.usage.output_tokens"]
        )
    # the outer span repeats the total of its steps
    total_in = sum(c.attributes["gen_ai.usage.input_tokens"] for c in chats)
    total_out = sum(c.attributes["gen_ai.usage.output_tokens"] for c in chats)
    assert attr(root, "ai.usage.promptTokens") == total_in
    assert attr(root, "ai.usage.completionTokens") == total_out
    assert attr(steps[0], "ai.response.finishReason") == "tool-calls"
    tool_src = next(s for s in src if s.attributes["gen_ai.operation.name"] == "execute_tool")
    tool = children[1]
    assert attr(tool, "ai.toolCall.name") == tool_src.attributes["gen_ai.tool.name"]
    assert attr(tool, "ai.toolCall.id") == tool_src.attributes["gen_ai.tool.call.id"]
    assert json.loads(attr(tool, "ai.toolCall.args")) == json.loads(
        tool_src.attributes["gen_ai.tool.call.arguments"]
    )
    calls = json.loads(attr(steps[0], "ai.response.toolCalls"))
    assert [c["toolCallId"] for c in calls] == [attr(tool, "ai.toolCall.id")]
    tools = attr(steps[0], "ai.prompt.tools")
    assert isinstance(tools, list) and json.loads(tools[0])["name"] == "lookup_order"


def test_vercel_embeddings_are_embed_and_do_embed_with_ai_usage_tokens() -> None:
    (src,) = semconv("embeddings")
    outer, inner = render("embeddings", "vercel")
    assert (outer.name, inner.name) == ("ai.embed", "ai.embed.doEmbed")
    for view in (outer, inner):
        assert attr(view, "ai.usage.tokens") == src.attributes["gen_ai.usage.input_tokens"]
        assert attr(view, "ai.model.id") == "text-embedding-3-small"


def test_vercel_error_marks_outer_and_inner() -> None:
    views = render("error", "vercel")
    assert [v.name for v in views] == ["ai.generateText", "ai.generateText.doGenerate"]
    assert all(v.status_code == 2 for v in views)
    assert not any("ai.usage.promptTokens" in v.attributes for v in views)


# --- OpenLIT ----------------------------------------------------------------------------


def test_openlit_keeps_semconv_names_and_uses_its_own_token_and_timing_keys() -> None:
    for name in SCENARIOS:
        for src, lit in zip(semconv(name), render(name, "openlit"), strict=True):
            a, b = src.attributes, lit.attributes
            assert lit.name == src.name and lit.kind == src.kind
            assert b["gen_ai.operation.name"] == a["gen_ai.operation.name"]
            for key in (
                "gen_ai.input.messages",
                "gen_ai.output.messages",
                "gen_ai.system_instructions",
                "gen_ai.tool.definitions",
                "gen_ai.usage.reasoning.output_tokens",
                "gen_ai.response.time_to_first_chunk",
            ):
                assert key not in b
            if "gen_ai.response.time_to_first_chunk" in a:
                assert (
                    b["gen_ai.server.time_to_first_token"]
                    == a["gen_ai.response.time_to_first_chunk"]
                )
            if "gen_ai.usage.reasoning.output_tokens" in a:
                assert (
                    b["gen_ai.usage.reasoning_tokens"] == a["gen_ai.usage.reasoning.output_tokens"]
                )
            if a["gen_ai.operation.name"] not in ("chat", "generate_content", "embeddings"):
                continue
            if "gen_ai.usage.input_tokens" not in a:
                continue
            # OpenLIT copies the provider's raw counts: Anthropic input leaves out the cache,
            # Gemini output leaves out thinking tokens
            inp = a["gen_ai.usage.input_tokens"]
            out = a.get("gen_ai.usage.output_tokens")
            if a["gen_ai.provider.name"] == "anthropic":
                inp -= a["gen_ai.usage.cache_read.input_tokens"]
                inp -= a["gen_ai.usage.cache_creation.input_tokens"]
            if a["gen_ai.provider.name"] == "gcp.gemini":
                out -= a["gen_ai.usage.reasoning.output_tokens"]
            assert b["gen_ai.usage.input_tokens"] == inp
            assert b.get("gen_ai.usage.output_tokens") == out
            assert b["gen_ai.usage.total_tokens"] == inp + (out or 0)
            assert b.get("gen_ai.usage.cache_read.input_tokens") == a.get(
                "gen_ai.usage.cache_read.input_tokens"
            )


def test_openlit_content_goes_to_prompt_and_completion_events() -> None:
    src = semconv("stream")[0]
    (lit,) = render("stream", "openlit", content=True)
    prompt, completion = lit.span.events
    assert prompt.name == "gen_ai.content.prompt"
    assert completion.name == "gen_ai.content.completion"
    (prompt_attr,) = prompt.attributes
    (completion_attr,) = completion.attributes
    assert prompt_attr.key == "gen_ai.prompt"
    assert completion_attr.key == "gen_ai.completion"
    expected = text_of(messages(src, "gen_ai.output.messages")[0])
    assert completion_attr.value.string_value == expected
    system = text_of({"parts": messages(src, "gen_ai.system_instructions")})
    assert system in prompt_attr.value.string_value
    assert prompt.time_unix_nano == lit.start_ns and completion.time_unix_nano == lit.end_ns


# --- the project's own normaliser reads every rendering back ------------------------------


def test_normaliser_detects_each_dialect_and_recovers_the_usage() -> None:
    from otelcli.genai.dialects import normalize

    dialect_ids = {
        "semconv": "semconv",
        "openinference": "openinference",
        "openllmetry": "openllmetry",
        "vercel": "vercel-ai",
        "openlit": "openlit",
    }
    keys = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")
    for name in SCENARIOS:
        truth: dict[str, int] = {}
        for view in semconv(name):
            if view.attributes["gen_ai.operation.name"] in (
                "chat",
                "generate_content",
                "embeddings",
            ):
                for key in keys:
                    truth[key] = truth.get(key, 0) + view.attributes.get(key, 0)
        for dialect, dialect_id in dialect_ids.items():
            totals: dict[str, int] = {}
            for view in render(name, dialect):
                result = normalize.normalize_span(view)
                if result.span_type == "other":
                    continue  # plain application spans carry nothing GenAI
                assert result.dialect == dialect_id, (name, dialect, view.name)
                if result.aggregate_reason or result.span_type not in ("llm", "embedding"):
                    continue
                for key in keys:
                    totals[key] = totals.get(key, 0) + int(result.attributes.get(key, 0))
            if dialect == "openlit":
                continue  # raw provider counts, compared in the OpenLIT test above
            assert totals == truth, (name, dialect)
