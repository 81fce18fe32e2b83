"""Synthetic GenAI scenarios: semconv conformance checked against the reference tables,
determinism, tree shape, token arithmetic, and the pre-encoded load-generation templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import UsageError
from otelcli.genai.scenarios.build import build_scenario, scenario_template
from otelcli.genai.scenarios.catalog import DIALECTS, SCENARIOS
from otelcli.otlp.spans import SpanView, iter_spans

REFERENCE = Path(__file__).resolve().parents[2] / "../shared/reference"
NOW = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z

CONTENT_KEYS = {
    "gen_ai.input.messages": "gen-ai-input-messages.json",
    "gen_ai.output.messages": "gen-ai-output-messages.json",
    "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    "gen_ai.tool.definitions": "gen-ai-tool-definitions.json",
    "gen_ai.tool.call.arguments": "gen-ai-tool-call-arguments.json",
    "gen_ai.tool.call.result": "gen-ai-tool-call-result.json",
    "gen_ai.retrieval.documents": "gen-ai-retrieval-documents.json",
}
OPT_IN_TEXT = {"gen_ai.retrieval.query.text"}


def spans(name: str, **kwargs: Any) -> list[SpanView]:
    kwargs.setdefault("now_ns", NOW)
    kwargs.setdefault("seed", 7)
    return list(iter_spans(build_scenario(name, **kwargs)))


def all_semconv_spans() -> Iterator[tuple[str, bool, SpanView]]:
    for name in SCENARIOS:
        for content in (False, True):
            for view in spans(name, content=content):
                yield name, content, view


# --- reference data -----------------------------------------------------------------------


@cache
def resolved() -> dict[str, Any]:
    path = REFERENCE / "semconv" / "genai-resolved.json"
    if not path.exists():
        pytest.skip("shared reference (semconv/genai-resolved.json) not available")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


@cache
def schema(file_name: str) -> dict[str, Any]:
    path = REFERENCE / "semconv" / "genai" / "model" / "gen-ai" / file_name
    if not path.exists():
        pytest.skip("shared reference (GenAI JSON schemas) not available")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def span_definition(view: SpanView) -> dict[str, Any]:
    """The resolved semconv span type this span claims to be, provider refinement included."""
    ref = resolved()
    op = view.attributes["gen_ai.operation.name"]
    kind = "client" if view.kind_name == "CLIENT" else "internal"
    base = {
        "chat": "gen_ai.inference.client",
        "generate_content": "gen_ai.inference.client",
        "embeddings": "gen_ai.embeddings.client",
        "retrieval": "gen_ai.retrieval.client",
        "invoke_agent": f"gen_ai.invoke_agent.{kind}",
        "execute_tool": "gen_ai.execute_tool.internal",
        "invoke_workflow": "gen_ai.invoke_workflow.internal",
    }[op]
    for refinement in ref["span_refinements"].values():
        provider = refinement["id"].removesuffix(".inference.client")
        if (
            refinement["ref"] == base
            and refinement["id"].endswith(".inference.client")
            and view.attributes.get("gen_ai.provider.name") == provider
        ):
            # a refinement lists every resolved attribute; the kind comes from its base
            return {**refinement, "kind": ref["spans"][base]["kind"]}
    definition: dict[str, Any] = ref["spans"][base]
    return definition


def registry_type(key: str) -> str:
    ref = resolved()
    entry = ref["attributes"].get(key) or ref["core_attributes_referenced"][key]
    return str(entry["type"])


# A small JSON Schema checker covering what the GenAI schemas use.
def matches(value: Any, node: dict[str, Any], root: dict[str, Any]) -> bool:
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return True  # e.g. the draft-07 meta-schema for tool parameters
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return matches(value, target, root)
    if "anyOf" in node and not any(matches(value, option, root) for option in node["anyOf"]):
        return False
    if "const" in node and value != node["const"]:
        return False
    if "enum" in node and value not in node["enum"]:
        return False
    kinds = {
        "string": str,
        "object": dict,
        "array": list,
        "boolean": bool,
        "integer": int,
        "number": (int, float),
        "null": type(None),
    }
    if "type" in node and not isinstance(value, kinds[node["type"]]):  # type: ignore[arg-type]
        return False
    if isinstance(value, dict):
        if any(key not in value for key in node.get("required", [])):
            return False
        props = node.get("properties", {})
        for key, item in value.items():
            if key in props and not matches(item, props[key], root):
                return False
            if key not in props and node.get("additionalProperties") is False:
                return False
    if isinstance(value, list) and "items" in node:
        return all(matches(item, node["items"], root) for item in value)
    return True


def test_schema_checker_rejects_what_the_schema_forbids() -> None:
    messages = schema("gen-ai-output-messages.json")
    good = [
        {"role": "assistant", "parts": [{"type": "text", "content": "hi"}], "finish_reason": "stop"}
    ]
    assert matches(good, messages, messages)
    assert not matches([{"role": "assistant", "parts": []}], messages, messages)  # no finish_reason
    assert not matches([{"role": "user", "parts": [{"content": "x"}]}], messages, messages)
    assert not matches({"role": "user"}, messages, messages)


# --- semconv conformance ------------------------------------------------------------------


def test_every_span_has_the_kind_and_required_attributes_of_its_span_type() -> None:
    for name, _, view in all_semconv_spans():
        definition = span_definition(view)
        assert view.kind_name.lower() == definition["kind"], (name, view.name)
        for key, spec in definition["attributes"].items():
            if spec["requirement"]["level"] == "required":
                assert key in view.attributes, (name, view.name, key)


def test_every_attribute_belongs_to_the_span_type_with_the_registry_type() -> None:
    python_types: dict[str, type] = {
        "string": str,
        "int": int,
        "double": float,
        "boolean": bool,
        "string[]": list,
        "enum": str,
        "any": str,  # structured content is recorded as a JSON string on spans
    }
    for name, _, view in all_semconv_spans():
        allowed = span_definition(view)["attributes"]
        for key, value in view.attributes.items():
            assert key in allowed, f"{name}: {view.name} has {key}, not in its span type"
            kind = registry_type(key)
            assert isinstance(value, python_types[kind]), (name, key, value)
            if kind == "int":
                assert not isinstance(value, bool)
            if isinstance(value, list):
                assert kind == "string[]" and all(isinstance(item, str) for item in value)
            enum = allowed[key].get("enum_values")
            if enum and key.startswith("gen_ai."):
                assert value in enum, (name, key, value)


def test_span_names_follow_the_naming_rules() -> None:
    keyed = {
        "chat": "gen_ai.request.model",
        "generate_content": "gen_ai.request.model",
        "embeddings": "gen_ai.request.model",
        "invoke_agent": "gen_ai.agent.name",
        "execute_tool": "gen_ai.tool.name",
        "retrieval": "gen_ai.data_source.id",
        "invoke_workflow": "gen_ai.workflow.name",
    }
    for _, _, view in all_semconv_spans():
        op = view.attributes["gen_ai.operation.name"]
        assert view.name == f"{op} {view.attributes[keyed[op]]}"


def test_server_port_accompanies_server_address() -> None:
    for _, _, view in all_semconv_spans():
        assert ("server.address" in view.attributes) == ("server.port" in view.attributes)
        if "server.port" in view.attributes:
            assert 0 < view.attributes["server.port"] < 65536


def test_successful_model_calls_carry_the_recommended_response_and_usage() -> None:
    for name, _, view in all_semconv_spans():
        a = view.attributes
        if a["gen_ai.operation.name"] not in ("chat", "generate_content", "embeddings"):
            continue
        if view.status_code == 2:
            continue
        assert "gen_ai.response.model" in a
        assert a["gen_ai.usage.input_tokens"] > 0
        assert "server.address" in a
        if a["gen_ai.operation.name"] != "embeddings":
            assert a["gen_ai.response.id"]
            assert a["gen_ai.response.finish_reasons"]
            assert a["gen_ai.usage.output_tokens"] > 0
            for key in ("gen_ai.request.max_tokens", "gen_ai.request.temperature"):
                assert key in a, (name, key)


def test_errors_set_error_type_and_error_status_and_nothing_else_does() -> None:
    for _, _, view in all_semconv_spans():
        assert view.status_code != 1  # instrumentation never sets OK
        assert ("error.type" in view.attributes) == (view.status_code == 2)
    (error,) = spans("error")
    assert error.attributes["error.type"] == "429"
    assert error.status_code == 2 and "Rate limit" in error.status_message
    # a rejected request has no response, so no response or usage attributes
    assert not any(k.startswith(("gen_ai.usage.", "gen_ai.response.")) for k in error.attributes)


def test_content_attributes_only_with_content_and_valid_against_the_schemas() -> None:
    seen = set()
    for name, content, view in all_semconv_spans():
        for key in set(CONTENT_KEYS) | OPT_IN_TEXT:
            if not content:
                assert key not in view.attributes, (name, view.name, key)
            elif key in view.attributes and key in CONTENT_KEYS:
                value = json.loads(view.attributes[key])
                root = schema(CONTENT_KEYS[key])
                assert matches(value, root, root), (name, view.name, key, value)
                seen.add(key)
    assert seen == set(CONTENT_KEYS)  # the scenarios exercise every content attribute


def test_system_instructions_are_separate_only_for_apis_that_take_them_apart() -> None:
    # OpenAI chat completions keep the system prompt in the history; Anthropic and Gemini
    # take it as a separate field (semconv note on gen_ai.system_instructions).
    for _, content, view in all_semconv_spans():
        a = view.attributes
        if not content or a["gen_ai.operation.name"] not in ("chat", "generate_content"):
            continue
        roles = [m["role"] for m in json.loads(a["gen_ai.input.messages"])]
        if a["gen_ai.provider.name"] == "openai":
            assert "gen_ai.system_instructions" not in a and roles[0] == "system"
        else:
            assert "gen_ai.system_instructions" in a and "system" not in roles


def test_models_and_providers_are_real_and_priced() -> None:
    pricing = pytest.importorskip("otelcli.genai.pricing.table")
    table = pricing.load_builtin_table()
    priced = 0
    for name, _, view in all_semconv_spans():
        a = view.attributes
        if "gen_ai.usage.input_tokens" not in a or "gen_ai.provider.name" not in a:
            continue
        model = a.get("gen_ai.response.model") or a["gen_ai.request.model"]
        assert table.resolve(model, a["gen_ai.provider.name"]) is not None, (name, model)
        priced += 1
    assert priced >= 10


# --- token arithmetic and tree shape --------------------------------------------------------


def usage(view: SpanView, key: str) -> int:
    value = view.attributes.get(f"gen_ai.usage.{key}", 0)
    assert isinstance(value, int)
    return value


def test_input_tokens_include_cache_and_output_includes_reasoning() -> None:
    for seed in range(20):
        for name in SCENARIOS:
            for view in spans(name, seed=seed):
                cached = usage(view, "cache_read.input_tokens") + usage(
                    view, "cache_creation.input_tokens"
                )
                assert usage(view, "input_tokens") >= cached
                assert usage(view, "output_tokens") >= usage(view, "reasoning.output_tokens")
    stream = spans("stream")[0]
    assert usage(stream, "cache_read.input_tokens") > 0
    gemini = spans("gemini")[0]
    assert usage(gemini, "reasoning.output_tokens") > 0


def test_agent_tree_order_timing_and_aggregate_usage() -> None:
    for seed in range(10):
        root, first, tool, second = spans("agent", seed=seed, content=True)
        assert root.parent_span_id == ""
        assert {first.parent_span_id, tool.parent_span_id, second.parent_span_id} == {root.span_id}
        assert len({root.trace_id, first.trace_id, tool.trace_id, second.trace_id}) == 1
        assert [s.attributes["gen_ai.operation.name"] for s in (root, first, tool, second)] == [
            "invoke_agent",
            "chat",
            "execute_tool",
            "chat",
        ]
        assert root.kind_name == "INTERNAL" and tool.kind_name == "INTERNAL"
        assert root.start_ns <= first.start_ns < first.end_ns <= tool.start_ns
        assert tool.end_ns <= second.start_ns < second.end_ns <= root.end_ns
        for key in ("input_tokens", "output_tokens", "cache_read.input_tokens"):
            assert usage(root, key) == usage(first, key) + usage(second, key)
        # the second call re-sends the first call's prompt and the tool exchange
        assert usage(second, "input_tokens") > usage(first, "input_tokens") + usage(
            first, "output_tokens"
        )
        assert first.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]
        # the tool call id ties the model's request, the tool span and the tool result together
        call_id = tool.attributes["gen_ai.tool.call.id"]
        (requested,) = json.loads(first.attributes["gen_ai.output.messages"])[0]["parts"]
        assert requested["type"] == "tool_call" and requested["id"] == call_id
        assert requested["name"] == tool.attributes["gen_ai.tool.name"]
        replies = [
            p
            for m in json.loads(second.attributes["gen_ai.input.messages"])
            for p in m["parts"]
            if p["type"] == "tool_call_response"
        ]
        assert [r["id"] for r in replies] == [call_id]
        assert replies[0]["response"] == json.loads(tool.attributes["gen_ai.tool.call.result"])


def test_rag_tree_has_embeddings_inside_retrieval_before_chat() -> None:
    workflow, retrieval, embeddings, chat = spans("rag")
    assert retrieval.parent_span_id == workflow.span_id == chat.parent_span_id
    assert embeddings.parent_span_id == retrieval.span_id
    assert retrieval.start_ns <= embeddings.start_ns <= embeddings.end_ns <= retrieval.end_ns
    assert retrieval.end_ns <= chat.start_ns
    assert embeddings.attributes["gen_ai.embeddings.dimension.count"] > 0


def test_stream_records_time_to_first_chunk_within_the_span() -> None:
    for seed in range(10):
        (view,) = spans("stream", seed=seed)
        assert view.attributes["gen_ai.request.stream"] is True
        ttfc = view.attributes["gen_ai.response.time_to_first_chunk"]
        assert isinstance(ttfc, float) and 0 < ttfc < view.duration_ns / 1e9
    (plain,) = spans("chat")
    assert "gen_ai.request.stream" not in plain.attributes
    assert "gen_ai.response.time_to_first_chunk" not in plain.attributes


def test_traces_end_at_now_and_spans_are_well_formed() -> None:
    for name in SCENARIOS:
        views = spans(name)
        assert max(v.end_ns for v in views) == NOW
        ids = {v.span_id for v in views}
        assert len(ids) == len(views)
        for v in views:
            assert v.start_ns <= v.end_ns
            assert re.fullmatch("[0-9a-f]{32}", v.trace_id) and v.trace_id != "0" * 32
            assert re.fullmatch("[0-9a-f]{16}", v.span_id) and v.span_id != "0" * 16
            assert v.parent_span_id == "" or v.parent_span_id in ids


# --- determinism, resource, errors ----------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_trace() -> None:
    for name in SCENARIOS:
        a = build_scenario(name, seed=42, now_ns=NOW).SerializeToString()
        assert a == build_scenario(name, seed=42, now_ns=NOW).SerializeToString()
        assert a != build_scenario(name, seed=43, now_ns=NOW).SerializeToString()
    unseeded = {spans("chat", seed=None)[0].trace_id for _ in range(5)}
    assert len(unseeded) == 5


def test_content_flag_changes_only_content() -> None:
    for name in SCENARIOS:
        with_content = spans(name, content=True)
        without = spans(name, content=False)
        for a, b in zip(with_content, without, strict=True):
            assert (a.trace_id, a.span_id, a.start_ns, a.end_ns) == (
                b.trace_id,
                b.span_id,
                b.start_ns,
                b.end_ns,
            )
            stripped = {
                k: v
                for k, v in a.attributes.items()
                if k not in CONTENT_KEYS and k not in OPT_IN_TEXT
            }
            assert stripped == b.attributes


def test_resource_service_and_scope() -> None:
    request = build_scenario(
        "chat",
        seed=1,
        service="checkout",
        resource_attrs={"deployment.environment.name": "ci", "service.name": "ignored"},
    )
    (view,) = iter_spans(request)
    assert view.resource_attributes == {
        "deployment.environment.name": "ci",
        "service.name": "checkout",
    }
    assert view.scope_name == "otelcli"


def test_unknown_names_are_usage_errors_with_hints() -> None:
    with pytest.raises(UsageError) as info:
        build_scenario("chatty")
    assert info.value.hint and "agent" in info.value.hint
    with pytest.raises(UsageError) as info:
        build_scenario("chat", dialect="langchain")
    assert info.value.hint and "openinference" in info.value.hint
    with pytest.raises(UsageError):
        scenario_template("nope")


def test_registries_describe_each_entry() -> None:
    assert {"chat", "agent", "rag", "embeddings", "stream", "error"} <= set(SCENARIOS)
    assert set(DIALECTS) == {"semconv", "openinference", "openllmetry", "vercel", "openlit"}
    assert all(SCENARIOS.values()) and all(DIALECTS.values())


# --- pre-encoded templates ------------------------------------------------------------------


def comparable(view: SpanView, base: int) -> tuple[Any, ...]:
    events = [
        (e.name, e.time_unix_nano - base, sorted((kv.key, str(kv.value)) for kv in e.attributes))
        for e in view.span.events
    ]
    return (
        view.name,
        view.kind,
        view.start_ns - base,
        view.end_ns - base,
        sorted(view.attributes.items(), key=lambda kv: kv[0]),
        view.status_code,
        view.status_message,
        events,
    )


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("name", ["agent", "rag", "stream", "error"])
def test_template_copies_equal_the_scenario_with_fresh_ids(name: str, dialect: str) -> None:
    template = scenario_template(name, dialect, seed=5, content=True, service="load")
    data = template.batch(3, now_ns=NOW)
    request = ExportTraceServiceRequest.FromString(data)
    # the hand-assembled bytes are canonical protobuf
    assert request.SerializeToString() == data
    views = list(iter_spans(request))
    per_copy = template.spans_per_copy
    assert len(views) == 3 * per_copy
    reference = list(
        iter_spans(
            build_scenario(name, dialect=dialect, seed=5, content=True, service="load", now_ns=NOW)
        )
    )
    assert len(reference) == per_copy
    ref_base = min(v.start_ns for v in reference)
    traces = set()
    for copy in range(3):
        chunk = views[copy * per_copy : (copy + 1) * per_copy]
        base = min(v.start_ns for v in chunk)
        assert max(v.end_ns for v in chunk) == NOW
        assert [comparable(v, base) for v in chunk] == [comparable(v, ref_base) for v in reference]
        assert len({v.trace_id for v in chunk}) == 1
        traces.add(chunk[0].trace_id)
        # the parent links have the same shape as the reference, on the new ids
        position = {v.span_id: i for i, v in enumerate(chunk)}
        ref_position = {v.span_id: i for i, v in enumerate(reference)}
        assert [position.get(v.parent_span_id) for v in chunk] == [
            ref_position.get(v.parent_span_id) for v in reference
        ]
        assert views[0].resource_attributes["service.name"] == "load"
    assert len(traces) == 3
    assert len({v.span_id for v in views}) == len(views)


def test_template_batches_are_fresh_and_deterministic_with_a_seed() -> None:
    a = scenario_template("agent", seed=9)
    b = scenario_template("agent", seed=9)
    first = a.batch(4, now_ns=NOW)
    assert first == b.batch(4, now_ns=NOW)
    second = a.batch(4, now_ns=NOW)
    assert second != first  # the next batch gets new ids
    ids_1 = {v.span_id for v in iter_spans(ExportTraceServiceRequest.FromString(first))}
    ids_2 = {v.span_id for v in iter_spans(ExportTraceServiceRequest.FromString(second))}
    assert not ids_1 & ids_2
    # without a seed, two templates never repeat each other
    c, d = scenario_template("chat"), scenario_template("chat")
    assert c.batch(2, now_ns=NOW) != d.batch(2, now_ns=NOW)


def test_template_timestamps_follow_now_and_batch_sizes_vary() -> None:
    template = scenario_template("chat", seed=1)
    for copies in (1, 2, 7, 300):
        request = ExportTraceServiceRequest.FromString(template.batch(copies, now_ns=NOW + copies))
        views = list(iter_spans(request))
        assert len(views) == copies
        assert {v.end_ns for v in views} == {NOW + copies}
    with pytest.raises(UsageError):
        template.batch(0)


def test_template_batches_from_several_threads_stay_intact() -> None:
    from concurrent.futures import ThreadPoolExecutor

    template = scenario_template("agent", content=True)
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda n: template.batch(n, now_ns=NOW), [5, 50, 7, 30] * 8))
    span_ids: set[str] = set()
    for data in batches:
        request = ExportTraceServiceRequest.FromString(data)
        assert request.SerializeToString() == data
        views = list(iter_spans(request))
        assert len(views) % template.spans_per_copy == 0
        span_ids.update(v.span_id for v in views)
    assert len(span_ids) == sum(4 * n for n in [5, 50, 7, 30] * 8)
