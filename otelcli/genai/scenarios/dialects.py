"""Render a scenario's steps in the attribute dialect of another instrumentation library.

Each renderer works from the dialect-neutral facts of `model.Scenario`, so every dialect
carries the same models, token counts and timings as the semconv rendering. Every attribute
key used here is one the dialect is known to emit (the same mapping facts behind
data/dialects.json); where a dialect has no key for a fact, the fact is left out rather
than invented.
Content (prompts, completions, tool arguments) appears only when `content` is true.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from otelcli.genai.scenarios.model import (
    KIND_CLIENT,
    KIND_INTERNAL,
    STATUS_ERROR,
    AgentRun,
    Message,
    ModelCall,
    Operation,
    Provider,
    Retrieval,
    Scenario,
    Step,
    ToolExecution,
    Usage,
    Workflow,
    message_text,
    raw_usage,
    to_json,
)
from otelcli.genai.scenarios.semconv import render_semconv
from otelcli.otlp.build import RenderedEvent, RenderedSpan
from otelcli.otlp.values import AttrValue

Attrs = dict[str, AttrValue]


def render(scenario: Scenario, dialect: str, *, content: bool) -> list[RenderedSpan]:
    renderer = _RENDERERS.get(dialect)
    if renderer is None:
        raise ValueError(f"no renderer for dialect {dialect!r}")
    return renderer(scenario, content)


def _error_status(span: RenderedSpan, step: Step) -> RenderedSpan:
    if step.error is not None:
        span.status_code = STATUS_ERROR
        span.status_message = step.error.message
    return span


def _one_span_per_step(
    scenario: Scenario,
    content: bool,
    describe: Callable[[Operation, Scenario, bool], tuple[str, int, Attrs]],
) -> list[RenderedSpan]:
    out = []
    for step in scenario.steps:
        name, kind, attrs = describe(step.op, scenario, content)
        span = RenderedSpan(name, kind, step.parent, step.start_ns, step.end_ns, attrs)
        out.append(_error_status(span, step))
    return out


def _chat_history(
    system: list[dict[str, Any]] | None, messages: Sequence[Message]
) -> list[Message]:
    """Separate system instructions become a leading system message, as flat dialects have it."""
    if not system:
        return list(messages)
    return [{"role": "system", "parts": list(system)}, *messages]


def _tool_calls(msg: Message) -> list[dict[str, Any]]:
    return [p for p in msg["parts"] if p.get("type") == "tool_call"]


def _tool_response(msg: Message) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = msg["parts"]
    for part in parts:
        if part.get("type") == "tool_call_response":
            return part
    return None


def _content_text(msg: Message) -> str | None:
    """A flat message's content: its text, or the JSON of a tool result."""
    response = _tool_response(msg)
    if response is not None:
        return to_json(response["response"])
    joined = message_text(msg)
    return joined if joined else None


def _last_text(messages: Sequence[Message]) -> str:
    return message_text(messages[-1]) if messages else ""


# --- OpenInference ----------------------------------------------------------------------

# llm.system names the model vendor, llm.provider the hosting service.
_OI_SYSTEM = {"openai": "openai", "anthropic": "anthropic", "gcp.gemini": "vertexai"}
_OI_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "gcp.gemini": "google"}


def _oi_messages(prefix: str, messages: Sequence[Message]) -> Attrs:
    out: Attrs = {}
    for i, msg in enumerate(messages):
        base = f"{prefix}.{i}.message"
        out[f"{base}.role"] = msg["role"]
        body = _content_text(msg)
        if body is not None:
            out[f"{base}.content"] = body
        response = _tool_response(msg)
        if response is not None and response.get("id"):
            out[f"{base}.tool_call_id"] = response["id"]
        for k, call in enumerate(_tool_calls(msg)):
            call_base = f"{base}.tool_calls.{k}.tool_call"
            if call.get("id"):
                out[f"{call_base}.id"] = call["id"]
            out[f"{call_base}.function.name"] = call["name"]
            out[f"{call_base}.function.arguments"] = to_json(call.get("arguments") or {})
    return out


def _oi_io(value: AttrValue, mime: str, prefix: str = "input") -> Attrs:
    return {f"{prefix}.value": value, f"{prefix}.mime_type": mime}


def _oi_tokens(usage: Usage) -> Attrs:
    out: Attrs = {"llm.token_count.prompt": usage.input_tokens}
    if usage.output_tokens is not None:
        out["llm.token_count.completion"] = usage.output_tokens
    out["llm.token_count.total"] = usage.input_tokens + (usage.output_tokens or 0)
    if usage.cache_read is not None:
        out["llm.token_count.prompt_details.cache_read"] = usage.cache_read
    if usage.cache_creation is not None:
        out["llm.token_count.prompt_details.cache_write"] = usage.cache_creation
    if usage.reasoning is not None:
        out["llm.token_count.completion_details.reasoning"] = usage.reasoning
    return out


def _oi_vendor(provider: Provider) -> Attrs:
    return {
        "llm.system": _OI_SYSTEM.get(provider.name, provider.name),
        "llm.provider": _OI_PROVIDER.get(provider.name, provider.name),
    }


def _oi_model_call(call: ModelCall, content: bool) -> Attrs:
    params: dict[str, Any] = {"model": call.request_model, **call.params}
    if call.stream:
        params["stream"] = True
    if call.operation == "embeddings":
        a: Attrs = {
            "openinference.span.kind": "EMBEDDING",
            "embedding.model_name": call.request_model,
            **_oi_vendor(call.provider),
            "llm.invocation_parameters": to_json(params),
        }
        if call.usage is not None:
            a["llm.token_count.prompt"] = call.usage.input_tokens
            a["llm.token_count.total"] = call.usage.input_tokens
        if content and call.embedding_inputs:
            a.update(_oi_io(to_json(call.embedding_inputs), "application/json"))
        return a
    a = {
        "openinference.span.kind": "LLM",
        "llm.model_name": call.response_model or call.request_model,
        **_oi_vendor(call.provider),
        "llm.invocation_parameters": to_json(params),
    }
    if call.usage is not None:
        a.update(_oi_tokens(call.usage))
    if content:
        history = _chat_history(call.system_instructions, call.input_messages)
        a.update(_oi_messages("llm.input_messages", history))
        a.update(_oi_messages("llm.output_messages", call.output_messages))
        for i, tool in enumerate(call.tool_definitions or []):
            schema = {
                "type": "function",
                "function": {k: v for k, v in tool.items() if k != "type"},
            }
            a[f"llm.tools.{i}.tool.json_schema"] = to_json(schema)
        flat = [{"role": m["role"], "content": _content_text(m)} for m in history]
        a.update(
            _oi_io(to_json({"model": call.request_model, "messages": flat}), "application/json")
        )
        if call.output_messages:
            a.update(_oi_io(_last_text(call.output_messages), "text/plain", "output"))
    return a


def _oi_describe(op: Operation, scenario: Scenario, content: bool) -> tuple[str, int, Attrs]:
    if isinstance(op, ModelCall):
        return f"{op.operation} {op.request_model}", KIND_INTERNAL, _oi_model_call(op, content)
    if isinstance(op, ToolExecution):
        a: Attrs = {
            "openinference.span.kind": "TOOL",
            "tool.name": op.name,
            "tool.description": op.description,
            "tool_call.id": op.call_id,
        }
        if op.parameters_schema is not None:
            a["tool.parameters"] = to_json(op.parameters_schema)
        if content:
            a.update(_oi_io(to_json(op.arguments), "application/json"))
            a.update(_oi_io(to_json(op.result), "application/json", "output"))
        return op.name, KIND_INTERNAL, a
    if isinstance(op, AgentRun):
        a = {"openinference.span.kind": "AGENT"}
        if op.conversation_id:
            a["session.id"] = op.conversation_id
        if content:
            a.update(_oi_io(_last_text(op.input_messages), "text/plain"))
            a.update(_oi_io(_last_text(op.output_messages), "text/plain", "output"))
        return op.name, KIND_INTERNAL, a
    if isinstance(op, Retrieval):
        a = {"openinference.span.kind": "RETRIEVER"}
        if content:
            a.update(_oi_io(op.query, "text/plain"))
            a.update(_oi_io(to_json(op.documents), "application/json", "output"))
        return f"retrieval {op.data_source_id}", KIND_INTERNAL, a
    a = {"openinference.span.kind": "CHAIN"}
    if content:
        a.update(_oi_io(_last_text(op.input_messages), "text/plain"))
        a.update(_oi_io(_last_text(op.output_messages), "text/plain", "output"))
    return op.name, KIND_INTERNAL, a


def render_openinference(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    return _one_span_per_step(scenario, content, _oi_describe)


# --- OpenLLMetry (Traceloop) ------------------------------------------------------------

# The gen_ai.system values of OpenLLMetry before its semconv_ai 0.5 renames.
_OLL_SYSTEM = {"openai": "openai", "anthropic": "Anthropic", "gcp.gemini": "Google"}
_OLL_SPAN_NAMES = {
    ("openai", "chat"): "openai.chat",
    ("openai", "embeddings"): "openai.embeddings",
    ("anthropic", "chat"): "anthropic.chat",
    ("gcp.gemini", "generate_content"): "gemini.generate_content",
}
_OLL_REQUEST_TYPES = {"chat": "chat", "generate_content": "chat", "embeddings": "embedding"}
_OLL_PARAMS = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "llm.frequency_penalty",
    "presence_penalty": "llm.presence_penalty",
    "top_k": "llm.top_k",
    "stop_sequences": "llm.chat.stop_sequences",
}


def _oll_messages(prefix: str, messages: Sequence[Message], reasons: Sequence[str]) -> Attrs:
    out: Attrs = {}
    for i, msg in enumerate(messages):
        base = f"{prefix}.{i}"
        out[f"{base}.role"] = msg["role"]
        body = _content_text(msg)
        if body is not None:
            out[f"{base}.content"] = body
        if i < len(reasons):
            out[f"{base}.finish_reason"] = reasons[i]
        response = _tool_response(msg)
        if response is not None and response.get("id"):
            out[f"{base}.tool_call_id"] = response["id"]
        for j, call in enumerate(_tool_calls(msg)):
            if call.get("id"):
                out[f"{base}.tool_calls.{j}.id"] = call["id"]
            out[f"{base}.tool_calls.{j}.name"] = call["name"]
            out[f"{base}.tool_calls.{j}.arguments"] = to_json(call.get("arguments") or {})
    return out


def _oll_model_call(call: ModelCall, content: bool) -> tuple[str, int, Attrs]:
    name = _OLL_SPAN_NAMES.get(
        (call.provider.name, call.operation), f"{call.provider.name}.{call.operation}"
    )
    a: Attrs = {
        "llm.request.type": _OLL_REQUEST_TYPES.get(call.operation, call.operation),
        "gen_ai.system": _OLL_SYSTEM.get(call.provider.name, call.provider.name),
        "gen_ai.request.model": call.request_model,
    }
    for key, value in call.params.items():
        if key in _OLL_PARAMS:
            a[_OLL_PARAMS[key]] = value
    if call.response_model is not None:
        a["gen_ai.response.model"] = call.response_model
    usage = call.usage
    if usage is not None:
        a["gen_ai.usage.prompt_tokens"] = usage.input_tokens
        if usage.output_tokens is not None:
            a["gen_ai.usage.completion_tokens"] = usage.output_tokens
        a["llm.usage.total_tokens"] = usage.input_tokens + (usage.output_tokens or 0)
        if usage.cache_read is not None:
            a["gen_ai.usage.cache_read_input_tokens"] = usage.cache_read
        if usage.cache_creation is not None:
            a["gen_ai.usage.cache_creation_input_tokens"] = usage.cache_creation
    if content:
        if call.embedding_inputs:
            for i, item in enumerate(call.embedding_inputs):
                a[f"gen_ai.prompt.{i}.content"] = item
        history = _chat_history(call.system_instructions, call.input_messages)
        a.update(_oll_messages("gen_ai.prompt", history, ()))
        a.update(_oll_messages("gen_ai.completion", call.output_messages, call.finish_reasons))
        for i, tool in enumerate(call.tool_definitions or []):
            a[f"llm.request.functions.{i}.name"] = tool["name"]
            if tool.get("description"):
                a[f"llm.request.functions.{i}.description"] = tool["description"]
            if tool.get("parameters") is not None:
                a[f"llm.request.functions.{i}.parameters"] = to_json(tool["parameters"])
    return name, KIND_CLIENT, a


def _oll_entity(kind: str, entity: str, workflow: str | None) -> Attrs:
    a: Attrs = {"traceloop.span.kind": kind, "traceloop.entity.name": entity}
    if workflow is not None:
        a["traceloop.workflow.name"] = workflow
    return a


def _oll_io(args: list[Any], result: Any) -> Attrs:
    return {
        "traceloop.entity.input": to_json({"args": args, "kwargs": {}}),
        "traceloop.entity.output": to_json(result),
    }


def render_openllmetry(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    workflows = [s.op.name for s in scenario.steps if isinstance(s.op, Workflow)]
    workflow = workflows[0] if workflows else None
    out = []
    for step in scenario.steps:
        op = step.op
        if isinstance(op, ModelCall):
            name, kind, a = _oll_model_call(op, content)
        elif isinstance(op, AgentRun):
            name, kind = f"{op.name}.agent", KIND_INTERNAL
            a = _oll_entity("agent", op.name, workflow)
            if content:
                a.update(_oll_io([_last_text(op.input_messages)], _last_text(op.output_messages)))
        elif isinstance(op, ToolExecution):
            name, kind = f"{op.name}.tool", KIND_INTERNAL
            a = _oll_entity("tool", op.name, workflow)
            if content:
                a.update(_oll_io([], op.result))
                a["traceloop.entity.input"] = to_json({"args": [], "kwargs": op.arguments})
        elif isinstance(op, Retrieval):
            name, kind = "retrieve_documents.task", KIND_INTERNAL
            a = _oll_entity("task", "retrieve_documents", workflow)
            if content:
                a.update(_oll_io([op.query], op.documents))
        else:
            name, kind = f"{op.name}.workflow", KIND_INTERNAL
            a = _oll_entity("workflow", op.name, op.name)
            if content:
                a.update(_oll_io([_last_text(op.input_messages)], _last_text(op.output_messages)))
        span = RenderedSpan(name, kind, step.parent, step.start_ns, step.end_ns, a)
        out.append(_error_status(span, step))
    return out


# --- Vercel AI SDK (ai.* spans) ---------------------------------------------------------

_VERCEL_PROVIDERS = {
    ("openai", "embeddings"): "openai.embedding",
    ("openai", "chat"): "openai.chat",
    ("anthropic", "chat"): "anthropic.messages",
    ("gcp.gemini", "generate_content"): "google.generative-ai",
}
_VERCEL_FINISH = {"stop": "stop", "tool_call": "tool-calls", "length": "length"}
_VERCEL_SETTINGS = {
    "max_tokens": "ai.settings.maxOutputTokens",
    "temperature": "ai.settings.temperature",
    "top_p": "ai.settings.topP",
    "top_k": "ai.settings.topK",
}


def _vercel_provider(provider: Provider, operation: str) -> str:
    return _VERCEL_PROVIDERS.get((provider.name, operation), f"{provider.name}.{operation}")


def _vercel_base(operation_id: str, function_id: str) -> Attrs:
    return {
        "operation.name": f"{operation_id} {function_id}",
        "ai.operationId": operation_id,
        "ai.telemetry.functionId": function_id,
        "resource.name": function_id,
    }


def _vercel_usage(usage: Usage, streamed: bool) -> Attrs:
    # generateText reports promptTokens/completionTokens; streamText (v5+) input/output/total.
    out: Attrs = {}
    if streamed:
        out["ai.usage.inputTokens"] = usage.input_tokens
        out["ai.usage.outputTokens"] = usage.output_tokens or 0
        out["ai.usage.totalTokens"] = usage.input_tokens + (usage.output_tokens or 0)
    else:
        out["ai.usage.promptTokens"] = usage.input_tokens
        out["ai.usage.completionTokens"] = usage.output_tokens or 0
    if usage.cache_read is not None:
        out["ai.usage.cachedInputTokens"] = usage.cache_read
    if usage.reasoning is not None:
        out["ai.usage.reasoningTokens"] = usage.reasoning
    return out


def _vercel_finish(messages: Sequence[Message]) -> str | None:
    if not messages or "finish_reason" not in messages[-1]:
        return None
    reason = str(messages[-1]["finish_reason"])
    return _VERCEL_FINISH.get(reason, reason)


def _vercel_sdk_message(msg: Message) -> dict[str, Any]:
    """One message in the AI SDK's own prompt format."""
    if msg["role"] == "system":
        return {"role": "system", "content": message_text(msg)}
    parts: list[dict[str, Any]] = []
    for part in msg["parts"]:
        if part.get("type") == "text":
            parts.append({"type": "text", "text": part["content"]})
        elif part.get("type") == "tool_call":
            parts.append(
                {
                    "type": "tool-call",
                    "toolCallId": part.get("id"),
                    "toolName": part["name"],
                    "input": part.get("arguments"),
                }
            )
        elif part.get("type") == "tool_call_response":
            parts.append(
                {
                    "type": "tool-result",
                    "toolCallId": part.get("id"),
                    "output": {"type": "json", "value": part["response"]},
                }
            )
    return {"role": msg["role"], "content": parts}


def _vercel_tool_calls(messages: Sequence[Message]) -> list[dict[str, Any]]:
    calls = [c for m in messages for c in _tool_calls(m)]
    return [
        {"toolCallId": c.get("id"), "toolName": c["name"], "input": c.get("arguments")}
        for c in calls
    ]


def _vercel_response_content(messages: Sequence[Message]) -> Attrs:
    a: Attrs = {}
    answer = _last_text(messages)
    if answer:
        a["ai.response.text"] = answer
    calls = _vercel_tool_calls(messages)
    if calls:
        a["ai.response.toolCalls"] = to_json(calls)
    return a


def _vercel_model(call: ModelCall | AgentRun, operation: str) -> Attrs:
    a: Attrs = {
        "ai.model.id": call.request_model,
        "ai.model.provider": _vercel_provider(call.provider, operation),
    }
    for key, value in call.params.items():
        if key in _VERCEL_SETTINGS:
            a[_VERCEL_SETTINGS[key]] = value
    return a


class _VercelBuilder:
    """Collects ai.* spans; a model call is an outer ai.generateText/ai.streamText span with
    an inner doGenerate/doStream span, unless an outer agent span already wraps it."""

    def __init__(self, scenario: Scenario, content: bool) -> None:
        self.scenario = scenario
        self.content = content
        self.spans: list[RenderedSpan] = []
        self.step_span: dict[int, int] = {}  # step index -> span its children hang under

    def add(self, name: str, parent: int | None, start: int, end: int, attrs: Attrs) -> int:
        self.spans.append(RenderedSpan(name, KIND_INTERNAL, parent, start, end, attrs))
        return len(self.spans) - 1

    def build(self) -> list[RenderedSpan]:
        for index, step in enumerate(self.scenario.steps):
            parent = None if step.parent is None else self.step_span[step.parent]
            first = len(self.spans)
            self.step_span[index] = self.render_step(step, parent)
            if step.error is not None:
                for span in self.spans[first:]:
                    _error_status(span, step)
        return self.spans

    def render_step(self, step: Step, parent: int | None) -> int:
        op, fid = step.op, self.scenario.app
        if isinstance(op, ModelCall):
            inside_agent = parent is not None and self.spans[parent].attributes.get(
                "ai.operationId"
            ) in ("ai.generateText", "ai.streamText")
            if inside_agent:
                assert parent is not None
                outer_op = str(self.spans[parent].attributes["ai.operationId"])
                return self.inner(op, outer_op, parent, step.start_ns, step.end_ns)
            return self.model_call(op, parent, step)
        if isinstance(op, AgentRun):
            a = _vercel_base("ai.generateText", fid)
            a.update(_vercel_model(op, "chat"))
            a.update(_vercel_usage(op.usage, streamed=False))
            finish = _vercel_finish(op.output_messages)
            if finish:
                a["ai.response.finishReason"] = finish
            if self.content:
                a["ai.prompt"] = to_json(self.prompt(op.system_instructions, op.input_messages))
                a.update(_vercel_response_content(op.output_messages))
            return self.add("ai.generateText", parent, step.start_ns, step.end_ns, a)
        if isinstance(op, ToolExecution):
            a = _vercel_base("ai.toolCall", fid)
            a["ai.toolCall.name"] = op.name
            a["ai.toolCall.id"] = op.call_id
            if self.content:
                a["ai.toolCall.args"] = to_json(op.arguments)
                a["ai.toolCall.result"] = to_json(op.result)
            return self.add("ai.toolCall", parent, step.start_ns, step.end_ns, a)
        # Retrieval and workflow steps are application code the AI SDK does not trace: plain
        # spans without attributes keep the tree intact.
        name = f"retrieve {op.data_source_id}" if isinstance(op, Retrieval) else op.name
        return self.add(name, parent, step.start_ns, step.end_ns, {})

    def prompt(self, system: list[dict[str, Any]] | None, messages: Sequence[Message]) -> Any:
        out: dict[str, Any] = {}
        if system:
            out["system"] = "".join(p.get("content", "") for p in system)
        out["messages"] = [_vercel_sdk_message(m) for m in messages]
        return out

    def model_call(self, call: ModelCall, parent: int | None, step: Step) -> int:
        fid = self.scenario.app
        if call.operation == "embeddings":
            outer_op = "ai.embed"
        else:
            outer_op = "ai.streamText" if call.stream else "ai.generateText"
        a = _vercel_base(outer_op, fid)
        a.update(_vercel_model(call, call.operation))
        if call.operation == "embeddings":
            if call.usage is not None:
                a["ai.usage.tokens"] = call.usage.input_tokens
        else:
            if call.usage is not None:
                a.update(_vercel_usage(call.usage, streamed=call.stream))
            finish = _vercel_finish(call.output_messages)
            if finish:
                a["ai.response.finishReason"] = finish
            if self.content:
                a["ai.prompt"] = to_json(self.prompt(call.system_instructions, call.input_messages))
                a.update(_vercel_response_content(call.output_messages))
        outer = self.add(outer_op, parent, step.start_ns, step.end_ns, a)
        self.inner(call, outer_op, outer, step.start_ns, step.end_ns)
        return outer

    def inner(self, call: ModelCall, outer_op: str, parent: int, start: int, end: int) -> int:
        suffix = {"ai.embed": "doEmbed", "ai.streamText": "doStream"}.get(outer_op, "doGenerate")
        op_id = f"{outer_op}.{suffix}"
        a = _vercel_base(op_id, self.scenario.app)
        a.update(_vercel_model(call, call.operation))
        margin = min(2_000_000, (end - start) // 10)
        if call.operation == "embeddings":
            if call.usage is not None:
                a["ai.usage.tokens"] = call.usage.input_tokens
            return self.add(op_id, parent, start + margin, end - margin, a)
        a["gen_ai.system"] = _vercel_provider(call.provider, call.operation)
        a["gen_ai.request.model"] = call.request_model
        if call.response_model is not None:
            a["gen_ai.response.model"] = call.response_model
            a["ai.response.model"] = call.response_model
        if call.usage is not None:
            a.update(_vercel_usage(call.usage, streamed=call.stream))
            a["gen_ai.usage.input_tokens"] = call.usage.input_tokens
            a["gen_ai.usage.output_tokens"] = call.usage.output_tokens or 0
        finish = _vercel_finish(call.output_messages)
        if finish:
            a["ai.response.finishReason"] = finish
        if call.time_to_first_chunk is not None:
            a["ai.response.msToFirstChunk"] = call.time_to_first_chunk * 1000.0
        if self.content:
            history = _chat_history(call.system_instructions, call.input_messages)
            a["ai.prompt.messages"] = to_json([_vercel_sdk_message(m) for m in history])
            if call.tool_definitions:
                a["ai.prompt.tools"] = [
                    to_json(
                        {
                            "type": "function",
                            "name": t["name"],
                            "description": t.get("description"),
                            "inputSchema": t.get("parameters"),
                        }
                    )
                    for t in call.tool_definitions
                ]
                a["ai.prompt.toolChoice"] = to_json({"type": "auto"})
            a.update(_vercel_response_content(call.output_messages))
        return self.add(op_id, parent, start + margin, end - margin, a)


def render_vercel(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    return _VercelBuilder(scenario, content).build()


# --- OpenLIT ----------------------------------------------------------------------------

_MESSAGE_ATTRIBUTES = (
    "gen_ai.system_instructions",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
)


def _transcript(messages: Sequence[Message]) -> str:
    return "\n".join(f"{m['role']}: {_content_text(m) or ''}" for m in messages)


def _openlit_io(op: Operation) -> tuple[list[Message], list[Message]] | None:
    if isinstance(op, ModelCall) and op.operation != "embeddings":
        return _chat_history(op.system_instructions, op.input_messages), op.output_messages
    if isinstance(op, AgentRun | Workflow):
        return list(op.input_messages), list(op.output_messages)
    return None


def render_openlit(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    """OpenLIT names spans and operations as semconv does; it differs in token keys (raw
    provider counts, a total, `reasoning_tokens`), time to first token, and content, which
    it records as `gen_ai.content.prompt` / `gen_ai.content.completion` span events."""
    spans = render_semconv(scenario, content=False)
    for step, span in zip(scenario.steps, spans, strict=True):
        a, op = span.attributes, step.op
        if isinstance(op, ModelCall) and op.usage is not None:
            raw_in, raw_out = raw_usage(op.provider, op.usage)
            a["gen_ai.usage.input_tokens"] = raw_in
            if raw_out is not None:
                a["gen_ai.usage.output_tokens"] = raw_out
            a["gen_ai.usage.total_tokens"] = raw_in + (raw_out or 0)
        if "gen_ai.usage.reasoning.output_tokens" in a:
            a["gen_ai.usage.reasoning_tokens"] = a.pop("gen_ai.usage.reasoning.output_tokens")
        if "gen_ai.response.time_to_first_chunk" in a:
            a["gen_ai.server.time_to_first_token"] = a.pop("gen_ai.response.time_to_first_chunk")
        for key in _MESSAGE_ATTRIBUTES:
            a.pop(key, None)
        if not content:
            continue
        if isinstance(op, ToolExecution):
            a["gen_ai.tool.call.arguments"] = to_json(op.arguments)
            a["gen_ai.tool.call.result"] = to_json(op.result)
        if isinstance(op, Retrieval):
            a["gen_ai.retrieval.query.text"] = op.query
        io = _openlit_io(op)
        if io is not None:
            prompt, completion = io
            span.events.append(
                RenderedEvent(
                    "gen_ai.content.prompt", step.start_ns, {"gen_ai.prompt": _transcript(prompt)}
                )
            )
            if completion:
                span.events.append(
                    RenderedEvent(
                        "gen_ai.content.completion",
                        step.end_ns,
                        {"gen_ai.completion": _last_text(completion)},
                    )
                )
    return spans


_RENDERERS: dict[str, Callable[[Scenario, bool], list[RenderedSpan]]] = {
    "openinference": render_openinference,
    "openllmetry": render_openllmetry,
    "vercel": render_vercel,
    "openlit": render_openlit,
}
