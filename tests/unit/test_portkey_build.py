"""Requests -> OTLP trees: ids, parents, orphans, cycles, duplicates, timing, attributes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelcli.otlp.spans import SpanView, iter_spans
from otelcli.portkey.build import BuildOptions, BuildResult, build
from otelcli.portkey.inputs import Request, Response, parse_text, read_inputs

DATA = Path(__file__).parents[1] / "data" / "portkey"
SCHEMAS = Path(__file__).parents[2] / "../shared/reference/semconv/genai/model/gen-ai"
SECRETS = ("sk-proj-", "sk-ant-", "pk-live-", "pk-DUMP", "pk-JSONL", "CURLSECRET", "LOGSECRET")


def convert(*names: str, **options: Any) -> BuildResult:
    return build(read_inputs([str(DATA / n) for n in names]), BuildOptions(**options))


def spans_of(result: BuildResult) -> list[SpanView]:
    return [span for batch in result.batches for span in iter_spans(batch)]


def by_portkey_span(result: BuildResult) -> dict[str, SpanView]:
    return {str(s.attributes.get("portkey.span_id")): s for s in spans_of(result)}


def llm_request(**headers: str) -> Request:
    return Request(
        source="test",
        headers=headers,
        method="POST",
        url="https://api.portkey.ai/v1/chat/completions",
        body={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )


# --- trees -----------------------------------------------------------------------------------


def test_har_trace_matches_portkey_ids_and_links_parents() -> None:
    result = convert("agent-run.har")
    spans = by_portkey_span(result)
    assert set(spans) == {"11", "12", "13", "14"}
    assert {s.trace_id for s in spans.values()} == {"98b1690510df1bf21fe13018a2641b19"}
    assert spans["11"].span_id == "4fc82b26aecb47d2"
    assert spans["11"].parent_span_id == ""
    assert spans["12"].parent_span_id == spans["11"].span_id
    assert spans["13"].parent_span_id == spans["12"].span_id
    # Span 14 names parent 10, which the capture does not hold: a reported root.
    assert spans["14"].parent_span_id == ""
    assert spans["14"].attributes["portkey.parent_span_id"] == "10"
    summary = result.summary
    assert [n.source.rsplit(" ", 1)[1] for n in summary.orphans] == ["5"]
    assert len(summary.skipped) == 1 and "entry 1" in summary.skipped[0].source
    assert summary.records_read == summary.spans_made + len(summary.skipped) == 5
    assert summary.traces == 1


def test_spans_come_parents_first() -> None:
    result = convert("support-bot.jsonl")
    seen: set[str] = set()
    for span in spans_of(result):
        if span.parent_span_id:
            assert span.parent_span_id in seen
        seen.add(span.span_id)


def test_cycles_are_broken_and_reported() -> None:
    result = convert("support-bot.jsonl")
    spans = by_portkey_span(result)
    a, b = spans["loop-a"], spans["loop-b"]
    assert a.parent_span_id == "" and b.parent_span_id == a.span_id  # cut at the earliest
    (note,) = result.summary.cycles_broken
    assert "loop-a" in note.message and "loop-b" in note.message
    assert note.source.endswith(":7")


def test_self_parent_is_a_cycle() -> None:
    result = build(
        [
            llm_request(
                **{
                    "x-portkey-trace-id": "t",
                    "x-portkey-span-id": "s",
                    "x-portkey-parent-span-id": "s",
                }
            )
        ]
    )
    (span,) = spans_of(result)
    assert span.parent_span_id == ""
    assert len(result.summary.cycles_broken) == 1


def test_duplicate_span_ids_keep_both_spans() -> None:
    result = convert("support-bot.jsonl")
    answers = [s for s in spans_of(result) if s.attributes.get("portkey.span_id") == "answer"]
    assert len(answers) == 2
    assert answers[0].span_id != answers[1].span_id
    assert answers[0].parent_span_id == answers[1].parent_span_id  # both under triage
    (note,) = result.summary.duplicates
    assert "'answer'" in note.message and note.source.endswith(":6")
    assert len({(s.trace_id, s.span_id) for s in spans_of(result)}) == len(spans_of(result))


def test_portkey_logs_with_uuid_trace_and_decimal_span_ids() -> None:
    result = convert("portkey-logs.json")
    spans = by_portkey_span(result)
    root = spans["12801218372391038154"]
    child = spans["3929182738211234567"]
    checker = spans["9876543210"]
    assert root.trace_id == "e6c22c4400085539968b6fb6ecf5ebed"
    assert child.parent_span_id == root.span_id == "1280121837239103"
    assert checker.parent_span_id == child.span_id
    assert checker.span_id == hashlib.sha256(b"9876543210").hexdigest()[:16]
    # The root is the SDK's framework span, not an LLM call.
    assert root.kind == Span.SPAN_KIND_INTERNAL and root.name == "Crew.kickoff"
    assert "gen_ai.operation.name" not in root.attributes
    assert root.attributes["portkey.metadata.source"] == "crewai"
    assert root.start_ns == 1_741_340_000_000_000_000
    assert root.duration_ns == 5_400_000_000


# --- W3C trace context -------------------------------------------------------------------------


def test_traceparent_supplies_trace_and_remote_parent() -> None:
    result = convert("support-desk.http")
    span = next(s for s in spans_of(result) if s.trace_id.startswith("4bf92f35"))
    assert span.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent_span_id == "00f067aa0ba902b7"  # the caller's span, kept as the link
    assert span.attributes["portkey.span_name"] == "POST /v1/chat/completions"
    assert result.summary.remote_parents == 1 and not result.summary.orphans
    # Baggage becomes metadata.
    assert span.attributes["portkey.metadata.tenant"] == "acme corp"


def test_explicit_portkey_headers_win_over_traceparent() -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    result = build(
        [
            llm_request(
                **{
                    "traceparent": traceparent,
                    "x-portkey-trace-id": "1729",
                    "x-portkey-span-name": "Mine",
                }
            )
        ],
        BuildOptions(span_names="portkey"),
    )
    (span,) = spans_of(result)
    assert span.trace_id == "98b1690510df1bf21fe13018a2641b19"
    assert span.name == "Mine"
    # As in the gateway, the parent still comes from the traceparent; it is not in this trace.
    assert span.attributes["portkey.parent_span_id"] == "00f067aa0ba902b7"
    assert span.parent_span_id == "" and len(result.summary.orphans) == 1


def test_explicit_metadata_wins_over_baggage() -> None:
    request = llm_request(
        baggage="team=from-baggage,region=eu",
        **{"x-portkey-trace-id": "t", "x-portkey-metadata": json.dumps({"team": "explicit"})},
    )
    (span,) = spans_of(build([request]))
    assert span.attributes["portkey.metadata.team"] == "explicit"
    assert span.attributes["portkey.metadata.region"] == "eu"


def test_trace_id_echoed_by_the_gateway_is_used_when_the_request_had_none() -> None:
    request = Request(
        source="r",
        headers={"x-portkey-span-name": "x"},
        url="https://api.portkey.ai/v1/chat/completions",
        body={"model": "gpt-4o"},
        response=Response(status=200, headers={"x-portkey-trace-id": "generated-by-portkey"}),
    )
    (span,) = spans_of(build([request]))
    assert span.trace_id == hashlib.sha256(b"generatedbyportkey").hexdigest()[:32]


# --- attributes ----------------------------------------------------------------------------------


def test_llm_spans_follow_the_genai_conventions() -> None:
    result = convert("agent-run.har", "support-bot.jsonl", "portkey-logs.json", "support-desk.http")
    llm = [s for s in spans_of(result) if "gen_ai.operation.name" in s.attributes]
    assert len(llm) >= 14
    for span in llm:
        attrs = span.attributes
        assert attrs["gen_ai.provider.name"]
        assert span.kind == Span.SPAN_KIND_CLIENT
        assert span.name == f"{attrs['gen_ai.operation.name']} {attrs['gen_ai.request.model']}"
        assert span.status_code != Status.STATUS_CODE_OK  # OK is for the application to set
        assert ("error.type" in attrs) == (span.status_code == Status.STATUS_CODE_ERROR)
        for key in attrs:
            assert key == key.lower() and " " not in key and not key.endswith(".")


def test_usage_counts_are_inclusive() -> None:
    spans = by_portkey_span(convert("agent-run.har"))
    planner, summary, embed = spans["11"].attributes, spans["12"].attributes, spans["13"].attributes
    assert planner["gen_ai.usage.input_tokens"] == 1412
    assert planner["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert planner["gen_ai.response.finish_reasons"] == ["tool_calls"]
    # Anthropic reports cache reads outside input_tokens; semconv counts them inside.
    assert summary["gen_ai.usage.input_tokens"] == 310 + 2048
    assert summary["gen_ai.usage.cache_read.input_tokens"] == 2048
    assert summary["gen_ai.usage.output_tokens"] == 12  # from the stream's final delta
    assert summary["gen_ai.request.stream"] is True
    assert summary["gen_ai.response.time_to_first_chunk"] == pytest.approx(0.6409)
    assert summary["gen_ai.provider.name"] == "anthropic"  # from the @anthropic-prod slug
    assert embed["gen_ai.operation.name"] == "embeddings"
    assert embed["gen_ai.embeddings.dimension.count"] == 512
    assert embed["portkey.cache_status"] == "HIT"


def test_metadata_reserved_keys_and_user_fallback() -> None:
    planner = by_portkey_span(convert("agent-run.har"))["11"].attributes
    assert planner["user.id"] == "user-4821"
    assert planner["deployment.environment.name"] == "staging"
    assert planner["portkey.metadata.team"] == "research"
    assert planner["portkey.metadata.run_id"] == "r-77"
    request = llm_request(**{"x-portkey-trace-id": "t"})
    body = {**request.body, "user": "body-user"}
    (span,) = spans_of(build([replace(request, body=body)]))
    assert span.attributes["user.id"] == "body-user"


def test_http_errors_set_status_and_error_type() -> None:
    writer = by_portkey_span(convert("agent-run.har"))["14"]
    assert writer.status_code == Status.STATUS_CODE_ERROR
    assert writer.attributes["error.type"] == "429"
    assert writer.attributes["portkey.retry_count"] == 3
    assert writer.status_message == "HTTP 429 rate_limit_exceeded"
    assert "org-XYZ" not in writer.status_message  # no provider free text


@pytest.mark.parametrize(
    ("headers", "url", "model", "expected"),
    [
        ({"x-portkey-provider": "azure-openai"}, None, "gpt-4o", "azure.ai.openai"),
        ({"x-portkey-provider": "@vertex-ai-prod"}, None, "gemini-2.0-flash", "gcp.vertex_ai"),
        ({"x-portkey-provider": "together-ai"}, None, "llama", "together_ai"),
        ({"x-portkey-config": '{"targets": [{"provider": "bedrock"}]}'}, None, "m", "aws.bedrock"),
        ({"x-portkey-mode": "proxy anthropic"}, None, "claude", "anthropic"),
        ({}, "https://api.mistral.ai/v1/chat/completions", "x", "mistral_ai"),
        ({}, "https://gw.internal/v1/chat/completions", "@openai-eu/gpt-4o", "openai"),
        ({}, "https://gw.internal/v1/chat/completions", "claude-3-5-sonnet", "anthropic"),
    ],
)
def test_provider_resolution(
    headers: dict[str, str], url: str | None, model: str, expected: str
) -> None:
    request = Request(
        source="p",
        headers={"x-portkey-trace-id": "t", **headers},
        url=url or "https://api.portkey.ai/v1/chat/completions",
        body={"model": model, "messages": []},
    )
    (span,) = spans_of(build([request]))
    assert span.attributes["gen_ai.provider.name"] == expected


def test_catalog_model_slug_is_split() -> None:
    request = llm_request(**{"x-portkey-trace-id": "t"})
    (span,) = spans_of(build([replace(request, body={"model": "@openai-prod/gpt-4o"})]))
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"
    assert span.attributes["portkey.model"] == "@openai-prod/gpt-4o"
    assert span.name == "chat gpt-4o"


def test_portkey_span_names_on_request() -> None:
    names = {s.name for s in spans_of(convert("agent-run.har", span_names="portkey"))}
    assert names == {"Planner", "Summarise", "Embed summary", "Writer"}


# --- secrets -------------------------------------------------------------------------------------


def test_secrets_never_reach_the_spans() -> None:
    every = ["agent-run.har", "support-bot.jsonl", "portkey-logs.json", "support-desk.http"]
    result = convert(*every, "eval-run.curl", content=True)
    payload = b"".join(batch.SerializeToString() for batch in result.batches)
    for secret in SECRETS:
        assert secret.encode() not in payload
    summary_text = json.dumps(result.summary.to_dict())
    for secret in SECRETS:
        assert secret not in summary_text


# --- content ---------------------------------------------------------------------------------


def test_content_only_when_asked() -> None:
    plain = by_portkey_span(convert("agent-run.har"))["11"].attributes
    assert not any(k.startswith(("gen_ai.input", "gen_ai.output")) for k in plain)
    full = by_portkey_span(convert("agent-run.har", content=True))
    planner = full["11"].attributes
    messages = json.loads(planner["gen_ai.input.messages"])
    assert messages[0] == {
        "role": "system",
        "parts": [{"type": "text", "content": "You are a research planner."}],
    }
    (output,) = json.loads(planner["gen_ai.output.messages"])
    assert output["finish_reason"] == "tool_call"
    (call,) = output["parts"]
    assert call == {
        "type": "tool_call",
        "id": "call_Qm2",
        "name": "web_search",
        "arguments": {"q": "ACME 2024 annual revenue"},
    }
    tools = json.loads(planner["gen_ai.tool.definitions"])
    assert tools[0]["name"] == "web_search" and tools[0]["type"] == "function"
    summary = full["12"].attributes
    assert json.loads(summary["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Summarise search results faithfully."}
    ]
    (streamed,) = json.loads(summary["gen_ai.output.messages"])
    assert streamed["parts"] == [{"type": "text", "content": "ACME's FY2024 revenue was $4.2B."}]
    assert "gen_ai.input.messages" not in full["13"].attributes  # embeddings carry no messages


def _check_against_schema(value: Any, schema_file: str) -> None:
    """The required fields and part types of the GenAI content JSON schemas."""
    schema = json.loads((SCHEMAS / schema_file).read_text())
    defs = schema.get("$defs", {})
    parts_by_type = {
        d["properties"]["type"]["const"]: d
        for d in defs.values()
        if "const" in d.get("properties", {}).get("type", {})
    }
    item_schema = defs.get("OutputMessage") or defs.get("ChatMessage") or {}
    assert isinstance(value, list)
    for item in value:
        if "parts" in item or "role" in item:
            for key in item_schema.get("required", []):
                assert key in item, (key, item)
            parts = item["parts"]
        else:
            parts = [item]
        for part in parts:
            definition = parts_by_type.get(part["type"])
            for key in (definition or {}).get("required", ["type"]):
                assert key in part, (key, part)
            if part["type"] in ("text", "reasoning"):
                assert isinstance(part["content"], str)


def test_content_matches_the_genai_json_schemas() -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("shared reference schemas not available")
    result = convert("agent-run.har", "portkey-logs.json", "support-desk.http", content=True)
    files = {
        "gen_ai.input.messages": "gen-ai-input-messages.json",
        "gen_ai.output.messages": "gen-ai-output-messages.json",
        "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    }
    checked = 0
    for span in spans_of(result):
        for key, schema_file in files.items():
            if key in span.attributes:
                _check_against_schema(json.loads(span.attributes[key]), schema_file)
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize(
    ("body", "response", "expected"),
    [
        (  # Responses API with a function call and reasoning summary
            {
                "model": "o4-mini",
                "input": [{"role": "user", "content": "weather?"}],
                "reasoning": {"effort": "low"},
            },
            {
                "id": "resp_1",
                "model": "o4-mini-2025-04-16",
                "output": [
                    {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": "need tool"}],
                    },
                    {
                        "type": "function_call",
                        "call_id": "c1",
                        "name": "weather",
                        "arguments": "{}",
                    },
                ],
                "usage": {
                    "input_tokens": 20,
                    "output_tokens": 50,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 32},
                },
            },
            {
                "gen_ai.request.reasoning.level": "low",
                "gen_ai.usage.reasoning.output_tokens": 32,
                "gen_ai.usage.output_tokens": 50,
                "gen_ai.response.id": "resp_1",
            },
        ),
        (  # Gemini generateContent with thinking tokens
            {
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "generationConfig": {"topK": 40, "temperature": 1},
            },
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": "hello"}]},
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 3,
                    "candidatesTokenCount": 2,
                    "thoughtsTokenCount": 5,
                },
                "modelVersion": "gemini-2.5-flash",
            },
            {
                "gen_ai.request.top_k": 40,
                "gen_ai.request.temperature": 1.0,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.usage.reasoning.output_tokens": 5,
                "gen_ai.response.finish_reasons": ["STOP"],
            },
        ),
    ],
)
def test_other_body_shapes(
    body: dict[str, Any], response: dict[str, Any], expected: dict[str, Any]
) -> None:
    url = (
        "https://api.portkey.ai/v1/responses"
        if "input" in body
        else "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    request = Request(
        source="b",
        headers={"x-portkey-trace-id": "t"},
        url=url,
        body=body,
        response=Response(status=200, body=response),
    )
    (span,) = spans_of(build([request], BuildOptions(content=True)))
    for key, value in expected.items():
        assert span.attributes[key] == value
    assert json.loads(span.attributes["gen_ai.output.messages"])[0]["parts"]


# --- timing and determinism -----------------------------------------------------------------------


def test_untimed_requests_are_placed_deterministically() -> None:
    first = convert("eval-run.curl")
    second = convert("eval-run.curl")
    assert [b.SerializeToString() for b in first.batches] == [
        b.SerializeToString() for b in second.batches
    ]
    starts = sorted(s.start_ns for s in spans_of(first))
    assert starts == [starts[0] + i * 1_000_000 for i in range(3)]
    assert first.summary.estimated_timing == 3
    moved = convert("eval-run.curl", untimed_base_ns=1_800_000_000_000_000_000)
    assert min(s.start_ns for s in spans_of(moved)) == 1_800_000_000_000_000_000


def test_untimed_records_follow_the_earliest_known_time() -> None:
    text = "\n".join(
        [
            json.dumps(
                {
                    "timestamp": "2025-01-01T00:00:10Z",
                    "headers": {"x-portkey-trace-id": "t", "x-portkey-span-id": "a"},
                }
            ),
            json.dumps({"headers": {"x-portkey-trace-id": "t", "x-portkey-span-id": "b"}}),
        ]
    )
    spans = by_portkey_span(build(parse_text(text, "mixed.jsonl")))
    assert spans["b"].start_ns == spans["a"].start_ns == 1_735_689_610_000_000_000


def test_batches_keep_traces_whole() -> None:
    text = "\n".join(
        json.dumps({"headers": {"x-portkey-trace-id": f"t{i // 3}", "x-portkey-span-id": f"s{i}"}})
        for i in range(12)
    )
    result = build(parse_text(text, "many.jsonl"), BuildOptions(batch_size=5))
    assert len(result.batches) == 4  # traces of 3: one per batch of at most 5
    for batch in result.batches:
        assert len({s.trace_id for s in iter_spans(batch)}) == 1
    assert result.summary.spans_made == 12 and result.summary.traces == 4


def test_resource_and_scope() -> None:
    result = convert("agent-run.har", service_name="agents")
    (batch,) = result.batches
    (resource_spans,) = batch.resource_spans
    assert next(iter_spans(batch)).service_name == "agents"
    assert resource_spans.scope_spans[0].scope.name == "otelcli.portkey"


def test_roundtrip_through_a_capture_file(tmp_path: Path) -> None:
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.writer import open_writer

    result = convert("agent-run.har", "support-bot.jsonl")
    for name in ("run.pb", "run.jsonl"):
        path = tmp_path / name
        with open_writer(str(path)) as writer:
            for batch in result.batches:
                writer.write(batch)
        back = [
            s.span.SerializeToString() for b in read_batches([str(path)]) for s in iter_spans(b)
        ]
        assert back == [s.span.SerializeToString() for s in spans_of(result)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdef"), st.one_of(st.none(), st.sampled_from("abcdefxyz"))),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["t1", "t2"]),
)
def test_any_parent_graph_becomes_a_forest(links: list[tuple[str, str | None]], trace: str) -> None:
    """Whatever the ids say (reuse, self-parents, cycles, missing parents), every record
    becomes exactly one span and every trace is a forest."""
    requests = []
    for index, (span_id, parent) in enumerate(links):
        headers = {"x-portkey-trace-id": trace if index % 2 else "t1", "x-portkey-span-id": span_id}
        if parent:
            headers["x-portkey-parent-span-id"] = parent
        requests.append(replace(llm_request(**headers), source=f"r{index}"))
    result = build(requests)
    spans = spans_of(result)
    assert len(spans) == len(links) == result.summary.spans_made
    by_trace: dict[str, dict[str, str]] = {}
    for span in spans:
        ids = by_trace.setdefault(span.trace_id, {})
        assert span.span_id not in ids  # ids unique within a trace
        ids[span.span_id] = span.parent_span_id
    for parents in by_trace.values():
        for start in parents:
            node, steps = start, 0
            while parents[node]:
                assert parents[node] in parents  # no dangling links
                node, steps = parents[node], steps + 1
                assert steps <= len(parents)  # no cycles
