"""The dialect-neutral facts of a synthetic GenAI run: providers, model calls, tools, agents.

A scenario is built as a list of steps holding the facts (models, token counts, timings,
messages); renderers (semconv.py, dialects.py) turn the steps into spans of one dialect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelcli.otlp.values import AttrValue

Message = dict[str, Any]  # one message as the gen_ai.*.messages JSON schemas describe it

KIND_INTERNAL = Span.SpanKind.SPAN_KIND_INTERNAL
KIND_CLIENT = Span.SpanKind.SPAN_KIND_CLIENT
STATUS_ERROR = Status.StatusCode.STATUS_CODE_ERROR


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
