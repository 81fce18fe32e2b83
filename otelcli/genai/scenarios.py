"""Synthetic GenAI traces for `otelcli send`: scenario registry, builders and OTLP assembly.

A scenario is first built as a dialect-neutral list of steps (model calls, tool runs, agent
runs, ...) holding the facts: models, token counts, timings, messages. A renderer then turns
the steps into spans of one instrumentation dialect: the OTel GenAI semantic conventions
here, the other dialects in `dialect_render`. All randomness comes from one
`random.Random(seed)`, drawn before rendering, so a seed gives the same facts in every
dialect and with or without content capture.

For load generation `scenario_template` serialises a scenario once and afterwards only
patches trace ids, span ids and timestamps into the bytes.
"""

from __future__ import annotations

import json
import random
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ScopeSpans, Span, Status

from otelcli import __version__
from otelcli.errors import UsageError
from otelcli.otlp.values import AttrValue, fill_any_value

Message = dict[str, Any]  # one message as the gen_ai.*.messages JSON schemas describe it

SCENARIOS: dict[str, str] = {
    "chat": "one chat completion (OpenAI gpt-4o-mini)",
    "agent": "an agent run: invoke_agent -> chat -> execute_tool -> chat (OpenAI gpt-4o)",
    "rag": "a RAG answer: workflow -> retrieval (-> embeddings) -> chat (Anthropic Claude)",
    "embeddings": "one embeddings call for three documents (OpenAI text-embedding-3-small)",
    "stream": "a streamed chat with time to first chunk and prompt caching (Anthropic)",
    "gemini": "one generate_content call with reasoning tokens (Google gemini-2.5-flash)",
    "error": "a chat call rejected with HTTP 429 rate limit: error.type and ERROR status",
}

DEFAULT_SCENARIO = "agent"  # what `otelcli send` sends without --scenario: a small tree

DIALECTS: dict[str, str] = {
    "semconv": "OpenTelemetry GenAI semantic conventions (gen_ai.*)",
    "openinference": "OpenInference (Arize Phoenix): openinference.span.kind, llm.*",
    "openllmetry": "OpenLLMetry (Traceloop): traceloop.span.kind, gen_ai.prompt.N.*, llm.usage.*",
    "vercel": "Vercel AI SDK: ai.* spans, outer ai.generateText + inner doGenerate",
    "openlit": "OpenLIT: gen_ai.* with its own token, timing and content variants",
}

KIND_INTERNAL = Span.SpanKind.SPAN_KIND_INTERNAL
KIND_CLIENT = Span.SpanKind.SPAN_KIND_CLIENT
STATUS_ERROR = Status.StatusCode.STATUS_CODE_ERROR


# --- the dialect-neutral model ----------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    name: str  # gen_ai.provider.name
    address: str
    port: int = 443


OPENAI = Provider("openai", "api.openai.com")
ANTHROPIC = Provider("anthropic", "api.anthropic.com")
GEMINI = Provider("gcp.gemini", "generativelanguage.googleapis.com")

# What the provider answers in the response's model field for the requested alias.
RESPONSE_MODELS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "text-embedding-3-small": "text-embedding-3-small",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "gemini-2.5-flash": "gemini-2.5-flash",
}


@dataclass
class Usage:
    """Token counts as semconv wants them: input includes cache, output includes reasoning."""

    input_tokens: int
    output_tokens: int | None = None
    cache_read: int | None = None
    cache_creation: int | None = None
    reasoning: int | None = None


@dataclass
class ErrorInfo:
    type: str  # error.type
    message: str  # span status description


@dataclass
class ModelCall:
    """chat / generate_content / embeddings: one request to a model provider."""

    operation: str
    provider: Provider
    request_model: str
    params: dict[str, AttrValue]  # gen_ai.request.<key> -> value
    usage: Usage | None
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: list[str] = field(default_factory=list)  # as the provider reports them
    system_instructions: list[dict[str, Any]] | None = None  # parts, if the API takes them apart
    input_messages: list[Message] = field(default_factory=list)
    output_messages: list[Message] = field(default_factory=list)
    tool_definitions: list[dict[str, Any]] | None = None
    embedding_inputs: list[str] | None = None
    stream: bool = False
    time_to_first_chunk: float | None = None  # seconds
    extra: dict[str, AttrValue] = field(default_factory=dict)  # semconv keys with no dialect twin


@dataclass
class ToolExecution:
    name: str
    call_id: str
    description: str
    type: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    agent_name: str | None = None
    parameters_schema: dict[str, Any] | None = None


@dataclass
class AgentRun:
    name: str
    description: str
    request_model: str
    provider: Provider
    params: dict[str, AttrValue]
    usage: Usage
    conversation_id: str | None
    finish_reasons: list[str]
    system_instructions: list[dict[str, Any]] | None
    input_messages: list[Message]
    output_messages: list[Message]
    tool_definitions: list[dict[str, Any]] | None


@dataclass
class Retrieval:
    data_source_id: str
    query: str
    top_k: int
    documents: list[dict[str, Any]]  # {"id", "score", "content"}
    address: str
    port: int


@dataclass
class Workflow:
    name: str
    input_messages: list[Message]
    output_messages: list[Message]


Operation = ModelCall | ToolExecution | AgentRun | Retrieval | Workflow


@dataclass
class Step:
    op: Operation
    parent: int | None  # index of the parent step
    start_ns: int  # offset from the start of the trace
    end_ns: int
    error: ErrorInfo | None = None


@dataclass
class Scenario:
    name: str
    app: str  # the application's own name for the flow (Vercel functionId, Traceloop entity)
    steps: list[Step]


@dataclass
class RenderedEvent:
    name: str
    time_ns: int  # offset from the start of the trace
    attributes: dict[str, AttrValue]


@dataclass
class RenderedSpan:
    name: str
    kind: int
    parent: int | None  # index into the rendered list
    start_ns: int
    end_ns: int
    attributes: dict[str, AttrValue]
    status_code: int = 0
    status_message: str = ""
    events: list[RenderedEvent] = field(default_factory=list)


# --- small helpers ----------------------------------------------------------------------

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _ms(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 1_000_000


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def message(role: str, *parts: dict[str, Any], finish_reason: str | None = None) -> Message:
    out: Message = {"role": role, "parts": list(parts)}
    if finish_reason is not None:
        out["finish_reason"] = finish_reason
    return out


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def message_text(msg: Message) -> str:
    """The text parts of a message joined, for dialects that store one content string."""
    return "".join(p["content"] for p in msg["parts"] if p.get("type") == "text")


def raw_usage(provider: Provider, usage: Usage) -> tuple[int, int | None]:
    """(input, output) as the provider's API reports them, before semconv's normalisation.

    Anthropic's input_tokens leave out cache reads and writes; Gemini's candidate count
    leaves out thinking tokens; OpenAI's counts already include both.
    """
    inp, out = usage.input_tokens, usage.output_tokens
    if provider.name == "anthropic":
        inp -= (usage.cache_read or 0) + (usage.cache_creation or 0)
    if provider.name == "gcp.gemini" and out is not None:
        out -= usage.reasoning or 0
    return inp, out


# --- scenario builders ------------------------------------------------------------------

CHAT_SYSTEM = "You are a concise assistant for a travel booking site. Answer in two sentences."
CHAT_QUESTION = "What is the cabin baggage allowance on an economy ticket to Lisbon?"
CHAT_ANSWER = (
    "Economy tickets to Lisbon include one cabin bag up to 8 kg plus a small personal item. "
    "A checked bag can be added during booking or later under Manage booking."
)


def _openai_chat_extra(rng: random.Random) -> dict[str, AttrValue]:
    return {
        "openai.api.type": "chat_completions",
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_" + _hex(rng, 10),
    }


def _chat(rng: random.Random) -> Scenario:
    model = "gpt-4o-mini"
    call = ModelCall(
        operation="chat",
        provider=OPENAI,
        request_model=model,
        params={
            "temperature": 0.3,
            "top_p": 1.0,
            "max_tokens": 512,
            "frequency_penalty": 0.0,
            "presence_penalty": 0.0,
            "stop_sequences": ["\n\nUser:"],
        },
        usage=Usage(rng.randint(60, 180), rng.randint(40, 220), cache_read=0),
        response_model=RESPONSE_MODELS[model],
        response_id="chatcmpl-" + _token(rng, 29),
        finish_reasons=["stop"],
        input_messages=[message("system", text(CHAT_SYSTEM)), message("user", text(CHAT_QUESTION))],
        output_messages=[message("assistant", text(CHAT_ANSWER), finish_reason="stop")],
        extra=_openai_chat_extra(rng),
    )
    return Scenario("chat", "travel-faq", [Step(call, None, 0, _ms(rng, 600, 2400))])


AGENT_NAME = "support-agent"
AGENT_DESCRIPTION = "Answers order-status questions for the web shop"
AGENT_SYSTEM = (
    "You are the web shop's support agent. Use the tools to look up orders; never guess a "
    "delivery date. Keep answers short and friendly."
)
AGENT_TOOL_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string", "description": "Order number, e.g. ORD-10023"}},
    "required": ["order_id"],
}


def _agent(rng: random.Random) -> Scenario:
    model = "gpt-4o"
    order_id = f"ORD-{rng.randint(10000, 99999)}"
    question = f"Where is my order {order_id}? It was supposed to arrive yesterday."
    call_id = "call_" + _token(rng, 24)
    tool = ToolExecution(
        name="lookup_order",
        call_id=call_id,
        description="Look up the status and delivery estimate of an order",
        type="function",
        arguments={"order_id": order_id},
        result={"order_id": order_id, "status": "in_transit", "carrier": "UPS", "eta": "tomorrow"},
        agent_name=AGENT_NAME,
        parameters_schema=AGENT_TOOL_SCHEMA,
    )
    tools = [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": AGENT_TOOL_SCHEMA,
        }
    ]
    answer = (
        f"Your order {order_id} is on its way with UPS and should arrive tomorrow. "
        "Sorry for the delay!"
    )
    system = message("system", text(AGENT_SYSTEM))
    user = message("user", text(question))
    tool_call = {"type": "tool_call", "id": call_id, "name": tool.name, "arguments": tool.arguments}
    assistant_call = message("assistant", tool_call)
    tool_reply = message(
        "tool", {"type": "tool_call_response", "id": call_id, "response": tool.result}
    )
    params: dict[str, AttrValue] = {"temperature": 0.2, "max_tokens": 1024}

    # A long system prompt: the second call reuses the first call's prefix from the cache,
    # which OpenAI reports in steps of 128 tokens above 1024.
    input1 = rng.randint(1150, 1400)
    output1 = rng.randint(18, 30)
    input2 = input1 + output1 + rng.randint(40, 90)
    cached2 = 1024 + 128 * ((input1 - 1024) // 128)
    output2 = rng.randint(30, 90)
    first = ModelCall(
        operation="chat",
        provider=OPENAI,
        request_model=model,
        params=dict(params),
        usage=Usage(input1, output1, cache_read=0),
        response_model=RESPONSE_MODELS[model],
        response_id="chatcmpl-" + _token(rng, 29),
        finish_reasons=["tool_calls"],
        input_messages=[system, user],
        output_messages=[{**assistant_call, "finish_reason": "tool_call"}],
        tool_definitions=tools,
        extra=_openai_chat_extra(rng),
    )
    second = ModelCall(
        operation="chat",
        provider=OPENAI,
        request_model=model,
        params=dict(params),
        usage=Usage(input2, output2, cache_read=cached2),
        response_model=RESPONSE_MODELS[model],
        response_id="chatcmpl-" + _token(rng, 29),
        finish_reasons=["stop"],
        input_messages=[system, user, assistant_call, tool_reply],
        output_messages=[message("assistant", text(answer), finish_reason="stop")],
        tool_definitions=tools,
        extra=_openai_chat_extra(rng),
    )
    run = AgentRun(
        name=AGENT_NAME,
        description=AGENT_DESCRIPTION,
        request_model=model,
        provider=OPENAI,
        params=dict(params),
        usage=Usage(input1 + input2, output1 + output2, cache_read=cached2),
        conversation_id="conv_" + _hex(rng, 32),
        finish_reasons=["stop"],
        system_instructions=[text(AGENT_SYSTEM)],
        input_messages=[user],
        output_messages=[message("assistant", text(answer), finish_reason="stop")],
        tool_definitions=tools,
    )
    t1 = _ms(rng, 3, 12)
    e1 = t1 + _ms(rng, 500, 1500)
    t2 = e1 + _ms(rng, 1, 4)
    e2 = t2 + _ms(rng, 80, 400)
    t3 = e2 + _ms(rng, 1, 4)
    e3 = t3 + _ms(rng, 700, 2500)
    end = e3 + _ms(rng, 2, 8)
    return Scenario(
        "agent",
        AGENT_NAME,
        [
            Step(run, None, 0, end),
            Step(first, 0, t1, e1),
            Step(tool, 0, t2, e2),
            Step(second, 0, t3, e3),
        ],
    )


RAG_SYSTEM = "Answer only from the provided help-centre articles and cite their ids."
RAG_QUESTION = "How do I change the e-mail address on my account?"
RAG_ARTICLES = [
    ("kb-1042", "Changing your e-mail: open Settings > Account, choose Edit next to E-mail ..."),
    ("kb-0877", "Verifying a new e-mail address: we send a six-digit code that expires ..."),
    ("kb-1311", "Account security: after an e-mail change we sign out other sessions ..."),
    ("kb-0205", "Updating profile details such as name, phone number and avatar ..."),
]
RAG_ANSWER = (
    "Open Settings > Account and choose Edit next to E-mail [kb-1042]. Enter the new address "
    "and confirm it with the six-digit code we send you [kb-0877]."
)


def _embedding_call(inputs: list[str], tokens: int) -> ModelCall:
    model = "text-embedding-3-small"
    return ModelCall(
        operation="embeddings",
        provider=OPENAI,
        request_model=model,
        params={"encoding_formats": ["float"]},
        usage=Usage(tokens),
        response_model=RESPONSE_MODELS[model],
        embedding_inputs=inputs,
        extra={"gen_ai.embeddings.dimension.count": 1536},
    )


def _rag(rng: random.Random) -> Scenario:
    embed = _embedding_call([RAG_QUESTION], rng.randint(9, 16))
    scores = sorted((round(rng.uniform(0.55, 0.92), 4) for _ in RAG_ARTICLES), reverse=True)
    docs = [
        {"id": doc_id, "score": score, "content": body}
        for (doc_id, body), score in zip(RAG_ARTICLES, scores, strict=True)
    ]
    retrieval = Retrieval(
        data_source_id="help-centre",
        query=RAG_QUESTION,
        top_k=len(docs),
        documents=docs,
        address="vectors.internal",
        port=6333,
    )
    context = "\n\n".join(f"[{d['id']}] {d['content']}" for d in docs)
    prompt = f"Articles:\n{context}\n\nQuestion: {RAG_QUESTION}"
    model = "claude-sonnet-4-5"
    chat = ModelCall(
        operation="chat",
        provider=ANTHROPIC,
        request_model=model,
        params={"temperature": 0.0, "max_tokens": 800},
        usage=Usage(rng.randint(900, 1600), rng.randint(120, 380), cache_read=0, cache_creation=0),
        response_model=RESPONSE_MODELS[model],
        response_id="msg_01" + _token(rng, 22),
        finish_reasons=["end_turn"],
        system_instructions=[text(RAG_SYSTEM)],
        input_messages=[message("user", text(prompt))],
        output_messages=[message("assistant", text(RAG_ANSWER), finish_reason="stop")],
    )
    workflow = Workflow(
        name="help-centre-answer",
        input_messages=[message("user", text(RAG_QUESTION))],
        output_messages=[message("assistant", text(RAG_ANSWER), finish_reason="stop")],
    )
    r0 = _ms(rng, 1, 5)
    e0 = r0 + _ms(rng, 2, 4)
    e1 = e0 + _ms(rng, 60, 250)
    r_end = e1 + _ms(rng, 15, 60)
    c0 = r_end + _ms(rng, 1, 5)
    c1 = c0 + _ms(rng, 1500, 4500)
    end = c1 + _ms(rng, 1, 5)
    return Scenario(
        "rag",
        workflow.name,
        [
            Step(workflow, None, 0, end),
            Step(retrieval, 0, r0, r_end),
            Step(embed, 1, e0, e1),
            Step(chat, 0, c0, c1),
        ],
    )


EMBED_DOCS = [
    "Refunds are issued to the original payment method within 5 business days.",
    "Orders over 50 EUR ship free within the EU.",
    "Gift cards never expire and can be combined with discount codes.",
]


def _embeddings(rng: random.Random) -> Scenario:
    call = _embedding_call(list(EMBED_DOCS), rng.randint(40, 90))
    return Scenario("embeddings", "kb-indexer", [Step(call, None, 0, _ms(rng, 80, 400))])


STREAM_SYSTEM = (
    "You are a release-notes writer. Follow the style guide below exactly. ... "
    "(a long, cached style guide follows)"
)
STREAM_QUESTION = "Write release notes for version 4.2 from these merged pull requests: ..."
STREAM_ANSWER = "## 4.2\n\n- Faster search on large projects\n- Dark mode for the editor\n- ..."


def _stream(rng: random.Random) -> Scenario:
    model = "claude-sonnet-4-5"
    cache_read = rng.randint(2000, 4200)
    cache_creation = rng.randint(0, 300)
    fresh = rng.randint(40, 200)
    output = rng.randint(200, 700)
    ttfc_ms = rng.randint(350, 1200)
    # about 60 output tokens per second after the first chunk
    duration = (ttfc_ms + output * 1000 // 60 + rng.randint(20, 200)) * 1_000_000
    call = ModelCall(
        operation="chat",
        provider=ANTHROPIC,
        request_model=model,
        params={"temperature": 0.7, "max_tokens": 1024, "top_k": 40},
        usage=Usage(
            fresh + cache_read + cache_creation,
            output,
            cache_read=cache_read,
            cache_creation=cache_creation,
        ),
        response_model=RESPONSE_MODELS[model],
        response_id="msg_01" + _token(rng, 22),
        finish_reasons=["end_turn"],
        system_instructions=[text(STREAM_SYSTEM)],
        input_messages=[message("user", text(STREAM_QUESTION))],
        output_messages=[message("assistant", text(STREAM_ANSWER), finish_reason="stop")],
        stream=True,
        time_to_first_chunk=ttfc_ms / 1000,
    )
    return Scenario("stream", "release-notes", [Step(call, None, 0, duration)])


GEMINI_SYSTEM = "You explain technical topics to beginners, using one everyday analogy."
GEMINI_QUESTION = "Why does HTTPS need certificates?"
GEMINI_ANSWER = (
    "A certificate is like an ID card checked by a trusted notary: it proves the site you "
    "reached really belongs to the name in the address bar before any secrets are shared."
)


def _gemini(rng: random.Random) -> Scenario:
    model = "gemini-2.5-flash"
    visible = rng.randint(80, 300)
    thinking = rng.randint(100, 600)
    call = ModelCall(
        operation="generate_content",
        provider=GEMINI,
        request_model=model,
        params={"temperature": 1.0, "top_p": 0.95, "top_k": 40, "max_tokens": 2048},
        usage=Usage(rng.randint(30, 120), visible + thinking, reasoning=thinking),
        response_model=RESPONSE_MODELS[model],
        response_id=_token(rng, 22),
        finish_reasons=["stop"],
        system_instructions=[text(GEMINI_SYSTEM)],
        input_messages=[message("user", text(GEMINI_QUESTION))],
        output_messages=[message("assistant", text(GEMINI_ANSWER), finish_reason="stop")],
    )
    return Scenario("gemini", "explainer", [Step(call, None, 0, _ms(rng, 1500, 6000))])


def _error(rng: random.Random) -> Scenario:
    model = "gpt-4o"
    wait = round(rng.uniform(0.5, 9.5), 2)
    call = ModelCall(
        operation="chat",
        provider=OPENAI,
        request_model=model,
        params={"temperature": 0.3, "max_tokens": 512},
        usage=None,  # a rejected request reports no usage and no response
        input_messages=[message("system", text(CHAT_SYSTEM)), message("user", text(CHAT_QUESTION))],
        extra={"openai.api.type": "chat_completions"},
    )
    error = ErrorInfo(
        type="429",
        message=(
            f"Rate limit reached for {model} on tokens per min (TPM): Limit 30000, "
            f"Used {rng.randint(29000, 29990)}, Requested {rng.randint(600, 1800)}. "
            f"Please try again in {wait}s."
        ),
    )
    return Scenario("error", "travel-faq", [Step(call, None, 0, _ms(rng, 90, 400), error=error)])


_BUILDERS = {
    "chat": _chat,
    "agent": _agent,
    "rag": _rag,
    "embeddings": _embeddings,
    "stream": _stream,
    "gemini": _gemini,
    "error": _error,
}


def check_names(name: str, dialect: str) -> None:
    if name not in _BUILDERS:
        raise UsageError(
            f"unknown scenario {name!r}", hint="choose one of: " + ", ".join(SCENARIOS)
        )
    if dialect not in DIALECTS:
        raise UsageError(
            f"unknown dialect {dialect!r}", hint="choose one of: " + ", ".join(DIALECTS)
        )


def make_scenario(name: str, rng: random.Random) -> Scenario:
    """The dialect-neutral facts of one run of the scenario."""
    check_names(name, "semconv")
    return _BUILDERS[name](rng)


# --- semconv rendering ------------------------------------------------------------------


def _usage_attributes(usage: Usage) -> dict[str, AttrValue]:
    out: dict[str, AttrValue] = {"gen_ai.usage.input_tokens": usage.input_tokens}
    if usage.output_tokens is not None:
        out["gen_ai.usage.output_tokens"] = usage.output_tokens
    if usage.cache_read is not None:
        out["gen_ai.usage.cache_read.input_tokens"] = usage.cache_read
    if usage.cache_creation is not None:
        out["gen_ai.usage.cache_creation.input_tokens"] = usage.cache_creation
    if usage.reasoning is not None:
        out["gen_ai.usage.reasoning.output_tokens"] = usage.reasoning
    return out


def _model_call_span(call: ModelCall, content: bool) -> tuple[str, int, dict[str, AttrValue]]:
    a: dict[str, AttrValue] = {
        "gen_ai.operation.name": call.operation,
        "gen_ai.provider.name": call.provider.name,
        "gen_ai.request.model": call.request_model,
    }
    for key, value in call.params.items():
        a[f"gen_ai.request.{key}"] = value
    if call.stream:
        a["gen_ai.request.stream"] = True
    a["server.address"] = call.provider.address
    a["server.port"] = call.provider.port
    if call.response_id is not None:
        a["gen_ai.response.id"] = call.response_id
    if call.response_model is not None:
        a["gen_ai.response.model"] = call.response_model
    if call.finish_reasons:
        a["gen_ai.response.finish_reasons"] = list(call.finish_reasons)
    if call.usage is not None:
        a.update(_usage_attributes(call.usage))
    if call.time_to_first_chunk is not None:
        a["gen_ai.response.time_to_first_chunk"] = call.time_to_first_chunk
    a.update(call.extra)
    if content and call.operation != "embeddings":
        a.update(_content_attributes(call))
    return f"{call.operation} {call.request_model}", KIND_CLIENT, a


def _content_attributes(source: ModelCall | AgentRun) -> dict[str, AttrValue]:
    """The opt-in message attributes, as JSON strings, for what the call or run has."""
    pairs = (
        ("gen_ai.system_instructions", source.system_instructions),
        ("gen_ai.input.messages", source.input_messages),
        ("gen_ai.output.messages", source.output_messages),
        ("gen_ai.tool.definitions", source.tool_definitions),
    )
    return {key: to_json(value) for key, value in pairs if value}


def _agent_span(run: AgentRun, content: bool) -> tuple[str, int, dict[str, AttrValue]]:
    # In-process agent: INTERNAL kind, whose table has no provider or server attributes.
    a: dict[str, AttrValue] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": run.name,
        "gen_ai.agent.description": run.description,
    }
    if run.conversation_id:
        a["gen_ai.conversation.id"] = run.conversation_id
    a["gen_ai.request.model"] = run.request_model
    for key, value in run.params.items():
        a[f"gen_ai.request.{key}"] = value
    a["gen_ai.response.finish_reasons"] = list(run.finish_reasons)
    a.update(_usage_attributes(run.usage))
    if content:
        a.update(_content_attributes(run))
    return f"invoke_agent {run.name}", KIND_INTERNAL, a


def _tool_span(tool: ToolExecution, content: bool) -> tuple[str, int, dict[str, AttrValue]]:
    a: dict[str, AttrValue] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.call.id": tool.call_id,
        "gen_ai.tool.description": tool.description,
        "gen_ai.tool.type": tool.type,
    }
    if tool.agent_name:
        a["gen_ai.agent.name"] = tool.agent_name
    if content:
        a["gen_ai.tool.call.arguments"] = to_json(tool.arguments)
        a["gen_ai.tool.call.result"] = to_json(tool.result)
    return f"execute_tool {tool.name}", KIND_INTERNAL, a


def _retrieval_span(r: Retrieval, content: bool) -> tuple[str, int, dict[str, AttrValue]]:
    a: dict[str, AttrValue] = {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": r.data_source_id,
        "gen_ai.retrieval.top_k": r.top_k,
        "server.address": r.address,
        "server.port": r.port,
    }
    if content:
        a["gen_ai.retrieval.query.text"] = r.query
        a["gen_ai.retrieval.documents"] = to_json(
            [{"id": d["id"], "score": d["score"]} for d in r.documents]
        )
    return f"retrieval {r.data_source_id}", KIND_CLIENT, a


def _workflow_span(w: Workflow, content: bool) -> tuple[str, int, dict[str, AttrValue]]:
    a: dict[str, AttrValue] = {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": w.name,
    }
    if content:
        a["gen_ai.input.messages"] = to_json(w.input_messages)
        a["gen_ai.output.messages"] = to_json(w.output_messages)
    return f"invoke_workflow {w.name}", KIND_INTERNAL, a


def render_semconv(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    out = []
    for step in scenario.steps:
        op = step.op
        if isinstance(op, ModelCall):
            name, kind, attrs = _model_call_span(op, content)
        elif isinstance(op, AgentRun):
            name, kind, attrs = _agent_span(op, content)
        elif isinstance(op, ToolExecution):
            name, kind, attrs = _tool_span(op, content)
        elif isinstance(op, Retrieval):
            name, kind, attrs = _retrieval_span(op, content)
        else:
            name, kind, attrs = _workflow_span(op, content)
        span = RenderedSpan(name, kind, step.parent, step.start_ns, step.end_ns, attrs)
        if step.error is not None:
            attrs["error.type"] = step.error.type
            span.status_code = STATUS_ERROR
            span.status_message = step.error.message
        out.append(span)
    return out


SCOPES: dict[str, tuple[str, str]] = {
    # Where a backend keys dialect detection on the scope name, use the library's own name.
    "semconv": ("otelcli", __version__),
    "openinference": ("openinference.instrumentation", ""),
    "openllmetry": ("traceloop.tracer", ""),
    "vercel": ("ai", ""),
    "openlit": ("openlit.otel.tracing", ""),
}


def render_spans(scenario: Scenario, dialect: str, *, content: bool) -> list[RenderedSpan]:
    check_names(scenario.name, dialect)
    if dialect == "semconv":
        return render_semconv(scenario, content)
    # dialect_render imports the model defined in this module, so import it late.
    from otelcli.genai import dialect_render

    return dialect_render.render(scenario, dialect, content=content)


# --- OTLP assembly ----------------------------------------------------------------------


def new_request(
    service: str,
    resource_attrs: Mapping[str, AttrValue] | None,
    scope_name: str,
    scope_version: str = "",
) -> tuple[ExportTraceServiceRequest, ScopeSpans]:
    """An empty request with one resource and one scope; returns it and its ScopeSpans."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attributes = dict(resource_attrs or {})
    # the explicit service name wins, as OTEL_SERVICE_NAME does over OTEL_RESOURCE_ATTRIBUTES
    attributes["service.name"] = service
    for key, value in attributes.items():
        fill_any_value(resource_spans.resource.attributes.add(key=key).value, value)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope_name
    if scope_version:
        scope_spans.scope.version = scope_version
    return request, scope_spans


def fill_span(
    target: Span,
    rendered: RenderedSpan,
    *,
    trace_id: bytes,
    span_id: bytes,
    parent_id: bytes,
    base_ns: int,
) -> None:
    target.trace_id = trace_id
    target.span_id = span_id
    if parent_id:
        target.parent_span_id = parent_id
    target.name = rendered.name
    target.kind = rendered.kind  # type: ignore[assignment]
    target.start_time_unix_nano = base_ns + rendered.start_ns
    target.end_time_unix_nano = base_ns + rendered.end_ns
    for key, value in rendered.attributes.items():
        fill_any_value(target.attributes.add(key=key).value, value)
    for event in rendered.events:
        ev = target.events.add(name=event.name, time_unix_nano=base_ns + event.time_ns)
        for key, value in event.attributes.items():
            fill_any_value(ev.attributes.add(key=key).value, value)
    if rendered.status_code:
        target.status.code = rendered.status_code  # type: ignore[assignment]
        if rendered.status_message:
            target.status.message = rendered.status_message


def _new_rng(seed: int | None) -> random.Random:
    return random.Random(seed) if seed is not None else random.Random()


def _random_id(rng: random.Random, size: int) -> bytes:
    while True:  # an all-zero id is invalid in OTLP and W3C trace context
        value = rng.randbytes(size)
        if any(value):
            return value


def build_scenario(
    name: str,
    *,
    dialect: str = "semconv",
    seed: int | None = None,
    content: bool = False,
    service: str = "otelcli-demo",
    now_ns: int | None = None,
    resource_attrs: Mapping[str, AttrValue] | None = None,
) -> ExportTraceServiceRequest:
    """One trace of the scenario as an OTLP request; the trace ends at `now_ns` (default: now)."""
    check_names(name, dialect)
    rng = _new_rng(seed)
    scenario = make_scenario(name, rng)
    rendered = render_spans(scenario, dialect, content=content)
    end_ns = time.time_ns() if now_ns is None else now_ns
    base_ns = end_ns - max(span.end_ns for span in rendered)
    trace_id = _random_id(rng, 16)
    span_ids = [_random_id(rng, 8) for _ in rendered]
    request, scope_spans = new_request(service, resource_attrs, *SCOPES[dialect])
    for index, span in enumerate(rendered):
        fill_span(
            scope_spans.spans.add(),
            span,
            trace_id=trace_id,
            span_id=span_ids[index],
            parent_id=span_ids[span.parent] if span.parent is not None else b"",
            base_ns=base_ns,
        )
    return request


# --- pre-encoded templates for load generation ------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field_header(number: int, length: int) -> bytes:
    return _varint(number << 3 | 2) + _varint(length)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _field_header(number, len(payload)) + payload


def _find_sentinels(
    data: bytes, markers: Mapping[bytes, tuple[str, int]], expected: Mapping[bytes, int]
) -> list[tuple[int, tuple[str, int]]] | None:
    """Sorted positions of every sentinel, or None if one also occurs by chance."""
    found: list[tuple[int, tuple[str, int]]] = []
    for value, marker in markers.items():
        positions = []
        start = 0
        while (position := data.find(value, start)) != -1:
            positions.append(position)
            start = position + 1
        if len(positions) != expected[value]:
            return None
        found.extend((position, marker) for position in positions)
    found.sort()
    for (pos_a, mark_a), (pos_b, _) in zip(found, found[1:], strict=False):
        if pos_a + (16 if mark_a[0] == "trace" else 8) > pos_b:
            return None
    return found


class ScenarioTemplate:
    """A scenario serialised once; each copy in a batch is a new trace with fresh ids.

    The spans are encoded with sentinel ids and timestamps whose byte offsets are recorded.
    A batch writes the timestamps into the copy once, repeats the copy, then fills in the
    ids with strided slice assignments (one C-level copy per id byte position, however
    many copies), so no Python code runs per copy or per span.
    """

    def __init__(
        self,
        rendered: Sequence[RenderedSpan],
        *,
        service: str,
        resource_attrs: Mapping[str, AttrValue] | None,
        scope: tuple[str, str],
        seed: int | None,
    ) -> None:
        self.spans_per_copy = len(rendered)
        self._rng = _new_rng(seed)
        self._trace_ns = max(span.end_ns for span in rendered)
        # every timestamp of a copy, as offsets from the trace start, in encoding order
        self._time_offsets: list[int] = []
        for span in rendered:
            self._time_offsets += [span.start_ns, span.end_ns]
            self._time_offsets += [event.time_ns for event in span.events]
        request, _ = new_request(service, resource_attrs, *scope)
        header = request.resource_spans[0]
        self._resource = _field(1, header.resource.SerializeToString())
        self._scope = _field(1, header.scope_spans[0].scope.SerializeToString())
        self._copy, self._id_slots, self._time_slots = self._encode_copy(rendered)
        self._scratch = bytearray()
        self._lock = threading.Lock()  # batch() may be called from several sender threads

    def _encode_copy(
        self, rendered: Sequence[RenderedSpan]
    ) -> tuple[bytes, list[tuple[int, int, int]], list[tuple[int, int]]]:
        """The copy's bytes, its id slots (offset, size, offset in the random pool) and its
        timestamp slots (offset, index into the time offsets)."""
        sentinel_rng = random.Random(0x5EED)
        n = len(rendered)
        while True:
            trace = sentinel_rng.randbytes(16)
            ids = [sentinel_rng.randbytes(8) for _ in range(n)]
            times = [sentinel_rng.randbytes(8) for _ in self._time_offsets]
            markers: dict[bytes, tuple[str, int]] = {trace: ("trace", 0)}
            markers.update({v: ("span", i) for i, v in enumerate(ids)})
            markers.update({v: ("time", i) for i, v in enumerate(times)})
            if len(markers) != 1 + n + len(times):
                continue
            # how often each sentinel must occur: the trace id in every span, a span id
            # once for itself and once per child, each timestamp once
            expected = {trace: n, **dict.fromkeys(ids, 1), **dict.fromkeys(times, 1)}
            for span in rendered:
                if span.parent is not None:
                    expected[ids[span.parent]] += 1
            records = []
            time_values = iter(struct.unpack(f"<{len(times)}Q", b"".join(times)))
            for index, span in enumerate(rendered):
                proto = Span()
                fill_span(
                    proto,
                    span,
                    trace_id=trace,
                    span_id=ids[index],
                    parent_id=ids[span.parent] if span.parent is not None else b"",
                    base_ns=0,
                )
                proto.start_time_unix_nano = next(time_values)
                proto.end_time_unix_nano = next(time_values)
                for event in proto.events:
                    event.time_unix_nano = next(time_values)
                records.append(_field(2, proto.SerializeToString()))
            copy = b"".join(records)
            found = _find_sentinels(copy, markers, expected)
            if found is not None:
                break
        # per copy the random pool holds the trace id (16 bytes), then 8 bytes per span
        id_slots = [
            (position, 16, 0) if kind == "trace" else (position, 8, 16 + 8 * index)
            for position, (kind, index) in found
            if kind != "time"
        ]
        time_slots = [(position, index) for position, (kind, index) in found if kind == "time"]
        return copy, id_slots, time_slots

    def _buffer(self, size: int) -> bytearray:
        """A scratch buffer kept between batches: fresh memory costs page faults."""
        if len(self._scratch) != size:
            self._scratch = bytearray(size)
        return self._scratch

    def _timed_copy(self, base_ns: int) -> bytes:
        copy = bytearray(self._copy)
        for position, index in self._time_slots:
            struct.pack_into("<Q", copy, position, base_ns + self._time_offsets[index])
        return bytes(copy)

    def batch(self, copies: int, *, now_ns: int | None = None) -> bytes:
        """Serialized ExportTraceServiceRequest holding `copies` traces that end at `now_ns`."""
        if copies < 1:
            raise UsageError(
                "a batch needs at least one trace", hint="use a batch size of 1 or more"
            )
        end_ns = time.time_ns() if now_ns is None else now_ns
        with self._lock:
            return self._batch(copies, end_ns)

    def _batch(self, copies: int, end_ns: int) -> bytes:
        copy = self._timed_copy(end_ns - self._trace_ns)
        size = len(copy)
        scope_spans_len = len(self._scope) + size * copies
        resource_spans_len = len(self._resource) + len(_field_header(2, scope_spans_len))
        resource_spans_len += scope_spans_len
        head = (
            _field_header(1, resource_spans_len)
            + self._resource
            + _field_header(2, scope_spans_len)
            + self._scope
        )
        out = self._buffer(len(head) + size * copies)
        view = memoryview(out)
        view[: len(head)] = head
        start = len(head)
        view[start : start + size] = copy
        done = 1
        while done < copies:  # double the filled part: log2(copies) memmoves
            more = min(done, copies - done)
            target = start + done * size
            view[target : target + more * size] = view[start : start + more * size]
            done += more
        view.release()
        stride = 16 + 8 * self.spans_per_copy
        pool = self._rng.randbytes(stride * copies)
        for position, width, source in self._id_slots:
            for byte in range(width):
                # byte `byte` of this id, in every copy at once
                out[start + position + byte :: size] = pool[source + byte :: stride]
        return bytes(out)


def scenario_template(
    name: str,
    dialect: str = "semconv",
    *,
    seed: int | None = None,
    content: bool = False,
    service: str = "otelcli-demo",
    resource_attrs: Mapping[str, AttrValue] | None = None,
) -> ScenarioTemplate:
    """A pre-encoded scenario for load generation: `template.batch(n)` gives n traces' bytes."""
    check_names(name, dialect)
    rng = _new_rng(seed)
    rendered = render_spans(make_scenario(name, rng), dialect, content=content)
    return ScenarioTemplate(
        rendered,
        service=service,
        resource_attrs=resource_attrs,
        scope=SCOPES[dialect],
        seed=None if seed is None else rng.getrandbits(64),
    )
