"""Each validate check, on the smallest span that triggers it and one that must not."""

from __future__ import annotations

import json

import pytest

from otelcli.genai.semconv.findings import RULES
from otelcli.genai.semconv.policy import Policy
from otelcli.genai.semconv.validate import Options
from tests.unit.validate_helpers import (
    CHAT,
    CLIENT,
    ERROR,
    INTERNAL,
    OK,
    SERVER,
    T0,
    SpanSpec,
    check,
)

# -- attribute level ---------------------------------------------------------------------------


def test_a_conforming_chat_span_has_no_violation_or_improvement_of_its_own() -> None:
    attrs = {
        **CHAT,
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }
    result = check(SpanSpec(attrs))
    assert result.report.span_types == {"openai.inference.client": 1}
    assert not result.rule("unknown_attribute")
    assert not result.rule("type_mismatch")
    assert not result.rule("required_attribute_missing")
    assert not result.rule("span_name") and not result.rule("span_kind")


def test_unknown_key_in_a_registry_namespace_is_a_violation_with_a_suggestion() -> None:
    result = check(SpanSpec({**CHAT, "gen_ai.request.modle": "x", "myapp.feature": "a"}))
    (finding,) = result.rule("unknown_attribute")
    assert finding.attribute == "gen_ai.request.modle"
    assert finding.level == "violation"
    assert finding.hint == "did you mean gen_ai.request.model?"
    # keys outside the registry's namespaces are the application's business
    assert "myapp.feature" not in result.keys("unknown_attribute")


@pytest.mark.parametrize(
    ("key", "value", "replacement"),
    [
        ("gen_ai.system", "openai", "gen_ai.provider.name"),
        ("gen_ai.usage.prompt_tokens", 5, "gen_ai.usage.input_tokens"),
        ("gen_ai.usage.completion_tokens", 5, "gen_ai.usage.output_tokens"),
        ("gen_ai.openai.request.seed", 7, "gen_ai.request.seed"),
    ],
)
def test_deprecated_keys_name_their_replacement(key: str, value: object, replacement: str) -> None:
    result = check(SpanSpec({**CHAT, key: value}))
    (finding,) = result.rule("deprecated_attribute")
    assert finding.attribute == key and finding.level == "violation"
    assert finding.hint == f"use {replacement} instead"
    assert key not in result.keys("unknown_attribute")


def test_obsoleted_prompt_attribute_is_deprecated_without_replacement() -> None:
    result = check(SpanSpec({**CHAT, "gen_ai.prompt": "hello"}))
    (finding,) = result.rule("deprecated_attribute")
    assert "obsoleted" in finding.message and "no replacement" in (finding.hint or "").lower()


def test_type_mismatch_but_int_is_accepted_for_double() -> None:
    attrs = {
        **CHAT,
        "gen_ai.request.max_tokens": "100",  # string for int
        "gen_ai.request.temperature": 1,  # int for double: fine
        "gen_ai.request.stream": "true",  # string for boolean
        "gen_ai.request.seed": True,  # boolean is not an int
        "gen_ai.response.finish_reasons": ["stop", 3],  # mixed array for string[]
    }
    result = check(SpanSpec(attrs))
    assert result.keys("type_mismatch") == {
        "gen_ai.request.max_tokens",
        "gen_ai.request.stream",
        "gen_ai.request.seed",
        "gen_ai.response.finish_reasons",
    }
    message = next(f.message for f in result.rule("type_mismatch") if "max_tokens" in f.message)
    assert "string, expected int" in message


def test_enum_value_outside_the_registry_is_information() -> None:
    result = check(
        SpanSpec({**CHAT, "gen_ai.provider.name": "acme-llm", "gen_ai.output.type": "json"})
    )
    (finding,) = result.rule("undefined_enum_value")
    assert finding.attribute == "gen_ai.provider.name" and finding.level == "information"
    assert "'acme-llm'" in finding.message


def test_template_keys_are_known_and_type_checked() -> None:
    result = check(
        SpanSpec({**CHAT, "gen_ai.prompt.variable.city": "Paris", "gen_ai.prompt.variable.n": 3})
    )
    assert result.keys("template_attribute") == {
        "gen_ai.prompt.variable.city",
        "gen_ai.prompt.variable.n",
    }
    assert not result.rule("unknown_attribute")
    assert result.keys("type_mismatch") == {"gen_ai.prompt.variable.n"}
    # a template present satisfies the span type's opt-in template
    assert "gen_ai.prompt.variable" not in result.keys("opt_in_attribute_missing")


def test_naming_rules() -> None:
    attrs = {
        **CHAT,
        "BadKey": "x",
        "gen_ai.request.model.family": "gpt",
        "server.colour": "blue",
    }
    result = check(SpanSpec(attrs))
    assert result.keys("invalid_name") == {"BadKey"}
    assert result.keys("missing_namespace") == {"BadKey"}
    assert result.keys("illegal_namespace") == {"gen_ai.request.model.family"}
    assert result.keys("extends_namespace") == {"server.colour"}


def test_not_stable_is_reported_once_per_key_per_run() -> None:
    spans = [SpanSpec(CHAT, span=i) for i in range(1, 4)]
    result = check(*spans)
    assert result.count("not_stable") == len(CHAT)
    assert all(f.span_id == f"{1:016x}" for f in result.rule("not_stable"))


# -- span level --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "kind", "expected"),
    [
        ({**CHAT, "gen_ai.provider.name": "cohere"}, CLIENT, "gen_ai.inference.client"),
        (CHAT, CLIENT, "openai.inference.client"),
        ({**CHAT, "gen_ai.provider.name": "anthropic"}, CLIENT, "anthropic.inference.client"),
        ({"gen_ai.operation.name": "invoke_agent"}, INTERNAL, "gen_ai.invoke_agent.internal"),
        (
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "aws.bedrock"},
            CLIENT,
            "gen_ai.invoke_agent.client",
        ),
        ({"gen_ai.operation.name": "embeddings"}, CLIENT, "gen_ai.embeddings.client"),
        ({"gen_ai.operation.name": "execute_tool"}, INTERNAL, "gen_ai.execute_tool.internal"),
        ({"gen_ai.operation.name": "search_memory"}, CLIENT, "gen_ai.memory.client"),
        ({"mcp.method.name": "tools/call"}, CLIENT, "mcp.client"),
        (
            {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"},
            SERVER,
            "mcp.server",
        ),
    ],
)
def test_span_classification(attrs: dict[str, object], kind: int, expected: str) -> None:
    result = check(SpanSpec(attrs, kind=kind))
    assert dict(result.report.span_types) == {expected: 1}


def test_required_attributes_follow_the_provider_refinement() -> None:
    no_model = {k: v for k, v in CHAT.items() if k != "gen_ai.request.model"}
    openai = check(SpanSpec(no_model, name="chat"))
    assert openai.keys("required_attribute_missing") == {"gen_ai.request.model"}
    generic = check(SpanSpec({**no_model, "gen_ai.provider.name": "cohere"}, name="chat"))
    assert not generic.rule("required_attribute_missing")
    # "If available": a span cannot tell, so it is no finding; --explain lists it apart
    assert "gen_ai.request.model" not in generic.keys("conditionally_required_attribute_missing")
    assert generic.report.not_evaluated["gen_ai.request.model"] == 1
    explained = check(
        SpanSpec({**no_model, "gen_ai.provider.name": "cohere"}, name="chat"),
        options=Options(explain=True),
    )
    assert "gen_ai.request.model" in explained.keys("condition_not_evaluated")


def test_bedrock_refinement_requires_the_guardrail_id() -> None:
    attrs = {**CHAT, "gen_ai.provider.name": "aws.bedrock"}
    result = check(SpanSpec(attrs))
    assert result.keys("required_attribute_missing") == {"aws.bedrock.guardrail.id"}
    ok = check(SpanSpec({**attrs, "aws.bedrock.guardrail.id": "gr-1"}))
    assert not ok.rule("required_attribute_missing")


def test_missing_provider_is_required_and_recommended_ones_are_improvements() -> None:
    attrs = {k: v for k, v in CHAT.items() if k != "gen_ai.provider.name"}
    result = check(SpanSpec(attrs))
    assert result.keys("required_attribute_missing") == {"gen_ai.provider.name"}
    missing = result.rule("recommended_attribute_missing")
    assert {f.level for f in missing} == {"improvement"}
    assert "gen_ai.response.model" in {f.attribute for f in missing}
    assert "gen_ai.usage.input_tokens" not in {f.attribute for f in missing}
    assert "gen_ai.input.messages" in result.keys("opt_in_attribute_missing")


def test_span_without_operation_name_is_a_violation() -> None:
    result = check(SpanSpec({"gen_ai.request.model": "gpt-4o"}))
    assert len(result.rule("operation_missing")) == 1
    unknown = check(SpanSpec({"gen_ai.operation.name": "dance"}))
    assert len(unknown.rule("unknown_operation")) == 1
    assert unknown.keys("undefined_enum_value") == {"gen_ai.operation.name"}


def test_non_genai_spans_get_no_span_level_findings() -> None:
    result = check(SpanSpec({"http.request.method": "GET"}, name="GET /", kind=SERVER))
    assert result.report.genai_spans == 0
    assert not result.findings


def test_span_kind() -> None:
    assert len(check(SpanSpec(CHAT, kind=SERVER)).rule("span_kind")) == 1
    assert not check(SpanSpec(CHAT, kind=INTERNAL)).rule("span_kind")  # MAY be INTERNAL
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
    assert (
        len(check(SpanSpec(tool, name="execute_tool search", kind=CLIENT)).rule("span_kind")) == 1
    )


@pytest.mark.parametrize(
    ("attrs", "name", "ok"),
    [
        (CHAT, "chat gpt-4o", True),
        (CHAT, "chat", False),
        (CHAT, "ChatCompletion", False),
        ({"gen_ai.operation.name": "invoke_agent"}, "invoke_agent", True),
        (
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Planner"},
            "invoke_agent",
            False,
        ),
        (
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
            "execute_tool search",
            True,
        ),
        (
            {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_weather"},
            "tools/call get_weather",
            True,
        ),
        ({"mcp.method.name": "tools/list"}, "tools/list", True),
    ],
)
def test_span_name_format(attrs: dict[str, object], name: str, ok: bool) -> None:
    kind = (
        INTERNAL
        if attrs.get("gen_ai.operation.name") in ("invoke_agent", "execute_tool")
        else CLIENT
    )
    findings = check(SpanSpec(attrs, name=name, kind=kind)).rule("span_name")
    assert (not findings) is ok


def test_error_type_and_status() -> None:
    missing = check(SpanSpec(CHAT, status=ERROR))
    assert [f.level for f in missing.rule("error_type_missing")] == ["violation"]
    stray = check(SpanSpec({**CHAT, "error.type": "timeout"}))
    assert len(stray.rule("error_type_without_error_status")) == 1
    good = check(SpanSpec({**CHAT, "error.type": "timeout"}, status=ERROR))
    assert not good.rule("error_type_missing") and not good.rule("error_type_without_error_status")
    # error.type is never reported as a missing conditionally required attribute
    assert "error.type" not in check(SpanSpec(CHAT)).keys(
        "conditionally_required_attribute_missing"
    )
    assert len(check(SpanSpec(CHAT, status=OK)).rule("status_ok_set")) == 1


# -- content -----------------------------------------------------------------------------------

GOOD_MESSAGES = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]


@pytest.mark.parametrize("as_string", [True, False])
def test_content_follows_its_json_schema(as_string: bool) -> None:
    def value(v: object) -> object:
        return json.dumps(v) if as_string else v

    good = check(SpanSpec({**CHAT, "gen_ai.input.messages": value(GOOD_MESSAGES)}))
    assert not good.rule("content_schema")
    bad = check(SpanSpec({**CHAT, "gen_ai.input.messages": value([{"role": "user"}])}))
    (finding,) = bad.rule("content_schema")
    assert "parts" in finding.message and finding.level == "violation"


def test_content_checks_every_schema_attribute_and_rejects_bad_json() -> None:
    attrs = {
        **CHAT,
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": []}]
        ),  # no finish_reason
        "gen_ai.system_instructions": "not json at all",
        "gen_ai.tool.definitions": json.dumps([{"type": "function"}]),  # no name
    }
    result = check(SpanSpec(attrs))
    assert result.keys("content_schema") == {
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
    }
    no_content = check(SpanSpec(attrs), options=Options(content=False))
    assert not no_content.rule("content_schema")


def test_tool_definitions_with_json_schema_parameters_validate_offline() -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert not check(SpanSpec({**CHAT, "gen_ai.tool.definitions": json.dumps(tools)})).rule(
        "content_schema"
    )


# -- sanity ------------------------------------------------------------------------------------


def test_token_sanity() -> None:
    attrs = {
        **CHAT,
        "gen_ai.usage.output_tokens": -3,
        "gen_ai.usage.cache_read.input_tokens": 80,
        "gen_ai.usage.cache_creation.input_tokens": 30,  # 110 > 100 input
        "gen_ai.usage.reasoning.output_tokens": 5,  # > -3 output
    }
    result = check(SpanSpec(attrs))
    assert result.keys("invalid_token_count") == {"gen_ai.usage.output_tokens"}
    assert len(result.rule("cache_exceeds_input")) == 1
    assert len(result.rule("reasoning_exceeds_output")) == 1
    fine = {
        **CHAT,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.reasoning.output_tokens": 20,
    }
    clean = check(SpanSpec(fine))
    assert not clean.rule("cache_exceeds_input") and not clean.rule("reasoning_exceeds_output")


def test_timing_orphans_and_duplicates() -> None:
    result = check(
        SpanSpec(CHAT, span=1, start=T0 + 10, end=T0),  # ends before it starts
        SpanSpec(CHAT, span=2, parent=1),  # parent present
        SpanSpec(CHAT, span=3, parent=99),  # parent missing
        SpanSpec(CHAT, span=2, parent=1),  # duplicate id
        SpanSpec(CHAT, span=5, parent=6),  # parent arrives later: not an orphan
        SpanSpec(CHAT, span=6),
    )
    assert [f.span_id for f in result.rule("end_before_start")] == [f"{1:016x}"]
    assert [f.span_id for f in result.rule("orphan_span")] == [f"{3:016x}"]
    assert len(result.rule("duplicate_span_id")) == 1
    assert result.report.traces == 1


# -- dialects and policy -----------------------------------------------------------------------

OPENINFERENCE = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o",
    "llm.token_count.prompt": 12,
    "llm.token_count.completion": 3,
    "llm.provider": "openai",
}


def test_dialect_spans_are_named_with_their_semconv_equivalents() -> None:
    result = check(SpanSpec(OPENINFERENCE, name="ChatCompletion"))
    (finding,) = result.rule("dialect")
    assert "OpenInference" in finding.message
    assert "llm.token_count.prompt -> gen_ai.usage.input_tokens" in (finding.hint or "")
    assert result.report.dialects == {"openinference": 1}
    assert not result.rule("required_attribute_missing")  # raw dialect spans are not typed


def test_normalized_mode_checks_dialect_spans_as_semconv() -> None:
    result = check(SpanSpec(OPENINFERENCE, name="ChatCompletion"), options=Options(normalized=True))
    assert sum(result.report.span_types.values()) == 1
    assert not result.rule("unknown_attribute")
    assert result.rule("span_name")  # ChatCompletion is not "chat gpt-4o"


def test_policy_ignores_raises_and_requires() -> None:
    policy = Policy(
        levels=[
            ("recommended_attribute_missing", None, "off"),
            ("span_name", None, "violation"),
            ("opt_in_attribute_missing", "gen_ai.input.*", "improvement"),
        ],
        require={"chat": ("user.id",)},
    )
    result = check(SpanSpec(CHAT, name="chat"), policy=policy)
    assert not result.rule("recommended_attribute_missing")
    assert [f.level for f in result.rule("span_name")] == ["violation"]
    levels = {f.attribute: f.level for f in result.rule("opt_in_attribute_missing")}
    assert levels["gen_ai.input.messages"] == "improvement"
    assert levels["gen_ai.output.messages"] == "information"
    assert result.keys("policy_required_attribute_missing") == {"user.id"}
    assert not check(SpanSpec({**CHAT, "user.id": "u1"}), policy=policy).rule(
        "policy_required_attribute_missing"
    )


# -- tables and the report aggregate -----------------------------------------------------------


def test_tables_differ_where_the_conventions_changed() -> None:
    attrs = {**CHAT, "gen_ai.request.top_k": 0.5}
    assert check(SpanSpec(attrs), table="v1.41.1").keys("type_mismatch") == set()
    assert check(SpanSpec(attrs)).keys("type_mismatch") == {"gen_ai.request.top_k"}
    # fetch_response exists only in the current registry
    fetch = {"gen_ai.operation.name": "fetch_response", "gen_ai.provider.name": "openai"}
    assert check(SpanSpec(fetch, name="fetch_response"), table="v1.41.1").rule("unknown_operation")
    assert not check(SpanSpec(fetch, name="fetch_response")).rule("unknown_operation")


def test_counts_are_exact_while_examples_and_listed_findings_are_bounded() -> None:
    spans = [SpanSpec(CHAT, name="chat", span=i) for i in range(1, 201)]
    result = check(*spans, max_findings=5)
    report = result.report
    assert report.spans == 200
    assert result.count("span_name") == 200
    assert len(report.findings) == 5
    summaries = {s.rule: s for s in report.summaries()}
    assert len(summaries["span_name"].examples) == 3
    assert summaries["span_name"].span_types == {"openai.inference.client": 200}
    total = sum(s.count for s in report.summaries())
    assert total == sum(report.level_counts().values())
    assert report.fails("improvement") and not report.fails("violation")


def test_every_rule_has_a_known_level_and_category() -> None:
    assert {r.level for r in RULES.values()} <= {"violation", "improvement", "information"}
    assert all(
        "{" not in r.message or "{attribute}" in r.message or "{span_type}" in r.message
        for r in RULES.values()
    )


def test_without_fastjsonschema_content_is_reported_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fastjsonschema", None)  # import now fails
    bad = json.dumps([{"role": "user"}])
    result = check(
        SpanSpec({**CHAT, "gen_ai.input.messages": bad}, span=1),
        SpanSpec({**CHAT, "gen_ai.input.messages": bad}, span=2),
    )
    assert not result.rule("content_schema")
    assert result.count("content_not_checked") == 1  # once per key, not per span


def test_suggestions_never_point_at_a_deprecated_key() -> None:
    # gen_ai.usage.prompt_tokens is the close match, but it is deprecated
    result = check(SpanSpec({**CHAT, "gen_ai.usage.total_tokens": 12}))
    (finding,) = result.rule("unknown_attribute")
    assert finding.hint is None or "prompt_tokens" not in finding.hint


# -- conditional requirements ------------------------------------------------------------------


def test_server_port_is_asked_for_only_once_server_address_is_set() -> None:
    rule = "conditionally_required_attribute_missing"
    assert "server.port" not in check(SpanSpec(CHAT)).keys(rule)
    with_address = check(SpanSpec({**CHAT, "server.address": "api.openai.com"}))
    assert "server.port" in with_address.keys(rule)
    assert {f.level for f in with_address.rule(rule)} == {"violation"}


def test_streaming_requirements_follow_the_stream_flag() -> None:
    streamed = check(SpanSpec({**CHAT, "gen_ai.request.stream": True}))
    assert "gen_ai.response.time_to_first_chunk" in streamed.keys("recommended_attribute_missing")
    # unset means non-streaming: neither the flag nor the first chunk is asked for
    plain = check(SpanSpec(CHAT))
    assert "gen_ai.response.time_to_first_chunk" not in plain.keys("recommended_attribute_missing")
    assert "gen_ai.request.stream" not in plain.keys("conditionally_required_attribute_missing")
    # evidence only a stream has makes the missing flag a finding
    chunked = check(SpanSpec({**CHAT, "gen_ai.response.time_to_first_chunk": 0.2}))
    assert "gen_ai.request.stream" in chunked.keys("conditionally_required_attribute_missing")


def test_a_failed_call_gets_no_response_or_usage_requirements() -> None:
    failed = {k: v for k, v in CHAT.items() if not k.startswith("gen_ai.usage.")}
    result = check(SpanSpec({**failed, "error.type": "timeout"}, status=ERROR))
    missing = result.keys("recommended_attribute_missing")
    assert not {k for k in missing if k and k.startswith(("gen_ai.response.", "gen_ai.usage."))}
    ok = check(SpanSpec(failed))
    assert "gen_ai.usage.input_tokens" in ok.keys("recommended_attribute_missing")


def test_request_conditions_read_the_recorded_request_parameters() -> None:
    recorded = {**CHAT, "llm.invocation_parameters": '{"seed": 7, "n": 1, "temperature": 0.5}'}
    result = check(SpanSpec(recorded))
    assert "gen_ai.request.seed" in result.keys("conditionally_required_attribute_missing")
    assert "gen_ai.request.temperature" in result.keys("recommended_attribute_missing")
    # n = 1 is the exception the convention names; top_k does not apply to OpenAI
    assert "gen_ai.request.choice.count" not in result.keys(
        "conditionally_required_attribute_missing"
    )
    assert "gen_ai.request.top_k" not in result.report.not_evaluated
    unrecorded = check(SpanSpec(CHAT))
    assert not unrecorded.keys("conditionally_required_attribute_missing")
    assert unrecorded.report.not_evaluated["gen_ai.request.seed"] == 1


def test_cached_verdicts_still_follow_each_span() -> None:
    # the same keys, alike but for what the conditions read: status, provider
    spans = [
        SpanSpec({**CHAT, "server.address": "h"}, span=1),
        SpanSpec({**CHAT, "server.address": "h", "error.type": "x"}, span=2, status=ERROR),
        SpanSpec({**CHAT, "server.address": "h", "gen_ai.provider.name": "anthropic"}, span=3),
    ]
    result = check(*spans)
    by_span: dict[str, set[str | None]] = {}
    for f in result.rule("recommended_attribute_missing"):
        by_span.setdefault(f.span_id[-1], set()).add(f.attribute)
    assert "gen_ai.response.id" in by_span["1"]
    assert "gen_ai.response.id" not in by_span.get("2", set())
    assert "gen_ai.request.max_tokens" in by_span["3"]  # every Anthropic request sets it
    assert "gen_ai.request.max_tokens" not in by_span["1"]


def test_compacted_is_never_sent_as_false() -> None:
    false = check(SpanSpec({**CHAT, "gen_ai.conversation.compacted": False}))
    assert [f.level for f in false.rule("discouraged_value")] == ["improvement"]
    assert not check(SpanSpec({**CHAT, "gen_ai.conversation.compacted": True})).rule(
        "discouraged_value"
    )
    # what the conventions say about compaction is no finding when it is absent
    assert "gen_ai.conversation.compacted" not in check(SpanSpec(CHAT)).keys(
        "recommended_attribute_missing"
    )
