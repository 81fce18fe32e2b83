"""Render a scenario's steps in the attribute dialect of another instrumentation library.

Each renderer works from the dialect-neutral facts of `model.Scenario`, so every dialect
carries the same models, token counts and timings as the semconv rendering. The renderers
hold the span structure; every attribute key and dialect value comes from data/dialects.json,
the table the normaliser reads these dialects with: keys by reverse lookup of its renames,
span-kind markers by reverse lookup of its operation rules, and the rest (key templates,
value tables, keys the renames do not have) from each dialect's `send` section. Where a
dialect has no key for a fact, the fact is left out rather than invented.
Content (prompts, completions, tool arguments) appears only when `content` is true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from otelcli.genai.dialects.normalize import load_dialects
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


# --- the dialects' write facts -----------------------------------------------------------


class _Facts:
    """How one dialect is written, from its entry in data/dialects.json."""

    def __init__(self, name: str) -> None:
        self.table = load_dialects()
        self.dialect = self.table.for_send(name)
        self.send: Mapping[str, Any] = self.dialect.send

    def key(self, fact: str, variant: str | None = None) -> str:
        """The dialect's key for a semconv key (or a plain fact of its send `keys`)."""
        key = self.table.write_key(self.dialect, fact, variant)
        if key is None:
            raise KeyError(f"{self.dialect.id} has no key for {fact}")
        return key

    def optional_key(self, fact: str) -> str | None:
        return self.table.write_key(self.dialect, fact)

    @property
    def marker_key(self) -> str:
        """The attribute holding the dialect's span-kind marker (openinference.span.kind, ...)."""
        rule = self.dialect.operation
        assert rule is not None and rule.attribute is not None
        return rule.attribute

    def marker(self, operation: str, *, fallback: bool = False) -> tuple[str, str]:
        """(attribute, value) marking a span of the semconv operation in the dialect."""
        rule = self.dialect.operation_fallback if fallback else self.dialect.operation
        assert rule is not None and rule.attribute is not None
        value = self.table.operation_value(rule, operation)
        if value is None:
            raise KeyError(f"{self.dialect.id} has no {rule.attribute} for {operation}")
        return rule.attribute, value

    def facts(self, name: str) -> Mapping[str, Any]:
        """A table or a set of key templates from the send section."""
        value: Mapping[str, Any] = self.send.get(name, {})
        return value

    def in_units(self, key: str, value: float) -> float:
        """A value in the units the dialect writes `key` in (the inverse of its reading scale)."""
        rename = self.dialect.renames.get(key)
        if rename is None or rename.scale is None:
            return value
        return value * (1 / rename.scale)


@cache
def _facts(name: str) -> _Facts:
    return _Facts(name)


def _operation(op: Operation) -> str:
    """The semconv operation of a step."""
    if isinstance(op, ModelCall):
        return op.operation
    if isinstance(op, ToolExecution):
        return "execute_tool"
    if isinstance(op, AgentRun):
        return "invoke_agent"
    if isinstance(op, Retrieval):
        return "retrieval"
    return "invoke_workflow"


def _provider_values(d: _Facts, provider: Provider) -> Attrs:
    """The dialect's provider attributes, each naming the provider its own way."""
    tables = d.facts("provider_values")
    return {key: table.get(provider.name, provider.name) for key, table in tables.items()}


def _request_params(d: _Facts, params: Mapping[str, AttrValue]) -> Attrs:
    """The request parameters the dialect has keys for; others are left out."""
    out: Attrs = {}
    for name, value in params.items():
        key = d.optional_key(f"gen_ai.request.{name}")
        if key is not None:
            out[key] = value
    return out


def _flat_usage(d: _Facts, usage: Usage) -> Attrs:
    """Token counts of a dialect with one key per count, and their total."""
    out: Attrs = {d.key("gen_ai.usage.input_tokens"): usage.input_tokens}
    if usage.output_tokens is not None:
        out[d.key("gen_ai.usage.output_tokens")] = usage.output_tokens
    out[d.key("gen_ai.usage.total_tokens")] = usage.input_tokens + (usage.output_tokens or 0)
    if usage.cache_read is not None:
        out[d.key("gen_ai.usage.cache_read.input_tokens")] = usage.cache_read
    if usage.cache_creation is not None:
        out[d.key("gen_ai.usage.cache_creation.input_tokens")] = usage.cache_creation
    reasoning = d.optional_key("gen_ai.usage.reasoning.output_tokens")
    if usage.reasoning is not None and reasoning is not None:
        out[reasoning] = usage.reasoning
    return out


def _flat_messages(
    templates: Mapping[str, str], messages: Sequence[Message], reasons: Sequence[str] = ()
) -> Attrs:
    """Messages flattened into indexed keys; a field without a template is left out."""
    out: Attrs = {}

    def put(field: str, value: AttrValue, i: int, j: int = 0) -> None:
        template = templates.get(field)
        if template is not None:
            out[template.format(i=i, j=j)] = value

    for i, msg in enumerate(messages):
        put("role", msg["role"], i)
        body = _content_text(msg)
        if body is not None:
            put("content", body, i)
        if i < len(reasons):
            put("finish_reason", reasons[i], i)
        response = _tool_response(msg)
        if response is not None and response.get("id"):
            put("tool_call_id", response["id"], i)
        for j, call in enumerate(_tool_calls(msg)):
            if call.get("id"):
                put("tool_call.id", call["id"], i, j)
            put("tool_call.name", call["name"], i, j)
            put("tool_call.arguments", to_json(call.get("arguments") or {}), i, j)
    return out


# --- OpenInference ----------------------------------------------------------------------


def _oi_io(d: _Facts, value: AttrValue, mime: str, side: str = "input") -> Attrs:
    return {d.key(f"{side}_value"): value, d.key(f"{side}_mime_type"): mime}


def _oi_model_call(d: _Facts, call: ModelCall, content: bool) -> Attrs:
    params: dict[str, Any] = {"model": call.request_model, **call.params}
    if call.stream:
        params["stream"] = True
    kind_key, kind = d.marker(call.operation)
    if call.operation == "embeddings":
        a: Attrs = {
            kind_key: kind,
            d.key("gen_ai.request.model", "embedding"): call.request_model,
            **_provider_values(d, call.provider),
            d.key("invocation_parameters"): to_json(params),
        }
        if call.usage is not None:
            a[d.key("gen_ai.usage.input_tokens")] = call.usage.input_tokens
            a[d.key("gen_ai.usage.total_tokens")] = call.usage.input_tokens
        if content and call.embedding_inputs:
            a.update(_oi_io(d, to_json(call.embedding_inputs), "application/json"))
        return a
    a = {
        kind_key: kind,
        # OpenInference's one model name: the response model where known
        d.key("gen_ai.response.model"): call.response_model or call.request_model,
        **_provider_values(d, call.provider),
        d.key("invocation_parameters"): to_json(params),
    }
    if call.usage is not None:
        a.update(_flat_usage(d, call.usage))
    if content:
        history = _chat_history(call.system_instructions, call.input_messages)
        a.update(_flat_messages(d.facts("input_message"), history))
        a.update(_flat_messages(d.facts("output_message"), call.output_messages))
        json_schema = d.facts("tool_definition")["json_schema"]
        for i, tool in enumerate(call.tool_definitions or []):
            schema = {
                "type": "function",
                "function": {k: v for k, v in tool.items() if k != "type"},
            }
            a[json_schema.format(i=i)] = to_json(schema)
        flat = [{"role": m["role"], "content": _content_text(m)} for m in history]
        a.update(
            _oi_io(d, to_json({"model": call.request_model, "messages": flat}), "application/json")
        )
        if call.output_messages:
            a.update(_oi_io(d, _last_text(call.output_messages), "text/plain", "output"))
    return a


def _oi_describe(op: Operation, scenario: Scenario, content: bool) -> tuple[str, int, Attrs]:
    d = _facts("openinference")
    if isinstance(op, ModelCall):
        return f"{op.operation} {op.request_model}", KIND_INTERNAL, _oi_model_call(d, op, content)
    kind_key, kind = d.marker(_operation(op))
    a: Attrs = {kind_key: kind}
    if isinstance(op, ToolExecution):
        a[d.key("gen_ai.tool.name")] = op.name
        a[d.key("gen_ai.tool.description")] = op.description
        a[d.key("gen_ai.tool.call.id")] = op.call_id
        if op.parameters_schema is not None:
            a[d.key("tool_parameters")] = to_json(op.parameters_schema)
        if content:
            a.update(_oi_io(d, to_json(op.arguments), "application/json"))
            a.update(_oi_io(d, to_json(op.result), "application/json", "output"))
        return op.name, KIND_INTERNAL, a
    if isinstance(op, AgentRun):
        if op.conversation_id:
            a[d.key("gen_ai.conversation.id")] = op.conversation_id
        if content:
            a.update(_oi_io(d, _last_text(op.input_messages), "text/plain"))
            a.update(_oi_io(d, _last_text(op.output_messages), "text/plain", "output"))
        return op.name, KIND_INTERNAL, a
    if isinstance(op, Retrieval):
        if content:
            a.update(_oi_io(d, op.query, "text/plain"))
            a.update(_oi_io(d, to_json(op.documents), "application/json", "output"))
        return f"retrieval {op.data_source_id}", KIND_INTERNAL, a
    if content:
        a.update(_oi_io(d, _last_text(op.input_messages), "text/plain"))
        a.update(_oi_io(d, _last_text(op.output_messages), "text/plain", "output"))
    return op.name, KIND_INTERNAL, a


def render_openinference(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    return _one_span_per_step(scenario, content, _oi_describe)


# --- OpenLLMetry (Traceloop) ------------------------------------------------------------


def _oll_model_call(d: _Facts, call: ModelCall, content: bool) -> tuple[str, int, Attrs]:
    provider = call.provider.name
    names = d.facts("span_names").get(provider, {})
    name = names.get(call.operation, f"{provider}.{call.operation}")
    kind_key, kind = d.marker(call.operation)
    a: Attrs = {
        kind_key: kind,
        **_provider_values(d, call.provider),
        d.key("gen_ai.request.model"): call.request_model,
    }
    a.update(_request_params(d, call.params))
    if call.response_model is not None:
        a[d.key("gen_ai.response.model")] = call.response_model
    if call.usage is not None:
        a.update(_flat_usage(d, call.usage))
    if content:
        prompt = d.facts("input_message")
        if call.embedding_inputs:
            for i, item in enumerate(call.embedding_inputs):
                a[prompt["content"].format(i=i)] = item
        history = _chat_history(call.system_instructions, call.input_messages)
        a.update(_flat_messages(prompt, history))
        a.update(
            _flat_messages(d.facts("output_message"), call.output_messages, call.finish_reasons)
        )
        functions = d.facts("tool_definition")
        for i, tool in enumerate(call.tool_definitions or []):
            a[functions["name"].format(i=i)] = tool["name"]
            if tool.get("description"):
                a[functions["description"].format(i=i)] = tool["description"]
            if tool.get("parameters") is not None:
                a[functions["parameters"].format(i=i)] = to_json(tool["parameters"])
    return name, KIND_CLIENT, a


def _oll_entity(
    d: _Facts, operation: str, entity: str, workflow: str | None
) -> tuple[str, int, Attrs]:
    """A decorated function's span: named `<entity>.<kind>`, kind from traceloop.span.kind."""
    kind_key, kind = d.marker(operation, fallback=True)
    a: Attrs = {kind_key: kind, d.key("entity_name"): entity}
    if workflow is not None:
        a[d.key("workflow_name")] = workflow
    return f"{entity}.{kind}", KIND_INTERNAL, a


def _oll_io(d: _Facts, args: list[Any], result: Any, kwargs: dict[str, Any] | None = None) -> Attrs:
    # traceloop.entity.input/output hold every entity's input and output, tools' included
    entity_input = {"args": args, "kwargs": {} if kwargs is None else kwargs}
    return {
        d.key("gen_ai.tool.call.arguments"): to_json(entity_input),
        d.key("gen_ai.tool.call.result"): to_json(result),
    }


def render_openllmetry(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    d = _facts("openllmetry")
    workflows = [s.op.name for s in scenario.steps if isinstance(s.op, Workflow)]
    workflow = workflows[0] if workflows else None
    out = []
    for step in scenario.steps:
        op = step.op
        if isinstance(op, ModelCall):
            name, kind, a = _oll_model_call(d, op, content)
        elif isinstance(op, AgentRun):
            name, kind, a = _oll_entity(d, "invoke_agent", op.name, workflow)
            if content:
                a.update(
                    _oll_io(d, [_last_text(op.input_messages)], _last_text(op.output_messages))
                )
        elif isinstance(op, ToolExecution):
            name, kind, a = _oll_entity(d, "execute_tool", op.name, workflow)
            if content:
                a.update(_oll_io(d, [], op.result, op.arguments))
        elif isinstance(op, Retrieval):
            # a retrieval is one of the application's tasks
            name, kind, a = _oll_entity(d, "execute_task", d.send["retrieval_task"], workflow)
            if content:
                a.update(_oll_io(d, [op.query], op.documents))
        else:
            name, kind, a = _oll_entity(d, "invoke_workflow", op.name, op.name)
            if content:
                a.update(
                    _oll_io(d, [_last_text(op.input_messages)], _last_text(op.output_messages))
                )
        span = RenderedSpan(name, kind, step.parent, step.start_ns, step.end_ns, a)
        out.append(_error_status(span, step))
    return out


# --- Vercel AI SDK (ai.* spans) ---------------------------------------------------------


def _vercel_provider(d: _Facts, provider: Provider, operation: str) -> str:
    apis = d.facts("providers").get(provider.name, {})
    return str(apis.get(operation, f"{provider.name}.{operation}"))


def _vercel_base(d: _Facts, operation_id: str, function_id: str) -> Attrs:
    return {
        d.key("operation_name"): f"{operation_id} {function_id}",
        d.marker_key: operation_id,
        d.key("gen_ai.agent.name"): function_id,  # ai.telemetry.functionId
        d.key("resource_name"): function_id,
    }


def _vercel_usage(d: _Facts, usage: Usage, streamed: bool) -> Attrs:
    # generateText reports promptTokens/completionTokens; streamText (v5+) input/output/total.
    variant = "stream" if streamed else None
    out: Attrs = {
        d.key("gen_ai.usage.input_tokens", variant): usage.input_tokens,
        d.key("gen_ai.usage.output_tokens", variant): usage.output_tokens or 0,
    }
    if streamed:
        out[d.key("gen_ai.usage.total_tokens")] = usage.input_tokens + (usage.output_tokens or 0)
    if usage.cache_read is not None:
        out[d.key("gen_ai.usage.cache_read.input_tokens")] = usage.cache_read
    if usage.reasoning is not None:
        out[d.key("gen_ai.usage.reasoning.output_tokens")] = usage.reasoning
    return out


def _vercel_finish(d: _Facts, messages: Sequence[Message]) -> Attrs:
    if not messages or "finish_reason" not in messages[-1]:
        return {}
    reason = str(messages[-1]["finish_reason"])
    return {d.key("gen_ai.response.finish_reasons"): d.facts("finish_reasons").get(reason, reason)}


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


def _vercel_response_content(d: _Facts, messages: Sequence[Message]) -> Attrs:
    a: Attrs = {}
    answer = _last_text(messages)
    if answer:
        a[d.key("response_text")] = answer
    calls = _vercel_tool_calls(messages)
    if calls:
        a[d.key("response_tool_calls")] = to_json(calls)
    return a


def _vercel_model(d: _Facts, call: ModelCall | AgentRun, operation: str) -> Attrs:
    a: Attrs = {
        d.key("gen_ai.request.model"): call.request_model,
        d.key("gen_ai.provider.name"): _vercel_provider(d, call.provider, operation),
    }
    a.update(_request_params(d, call.params))
    return a


class _VercelBuilder:
    """Collects ai.* spans; a model call is an outer ai.generateText/ai.streamText span with
    an inner doGenerate/doStream span, unless an outer agent span already wraps it."""

    def __init__(self, scenario: Scenario, content: bool) -> None:
        self.scenario = scenario
        self.content = content
        self.d = _facts("vercel")
        calls = self.d.facts("model_calls")
        self.generate: str = calls["generate"]["outer"]
        self.stream: str = calls["stream"]["outer"]
        self.embed: str = calls["embed"]["outer"]
        self.inner_ids: dict[str, str] = {c["outer"]: c["inner"] for c in calls.values()}
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
        d, op, fid = self.d, step.op, self.scenario.app
        if isinstance(op, ModelCall):
            inside_agent = parent is not None and self.spans[parent].attributes.get(
                d.marker_key
            ) in (self.generate, self.stream)
            if inside_agent:
                assert parent is not None
                outer_op = str(self.spans[parent].attributes[d.marker_key])
                return self.inner(op, outer_op, parent, step.start_ns, step.end_ns)
            return self.model_call(op, parent, step)
        if isinstance(op, AgentRun):
            a = _vercel_base(d, self.generate, fid)
            a.update(_vercel_model(d, op, "chat"))
            a.update(_vercel_usage(d, op.usage, streamed=False))
            a.update(_vercel_finish(d, op.output_messages))
            if self.content:
                prompt = self.prompt(op.system_instructions, op.input_messages)
                a[d.key("prompt")] = to_json(prompt)
                a.update(_vercel_response_content(d, op.output_messages))
            return self.add(self.generate, parent, step.start_ns, step.end_ns, a)
        if isinstance(op, ToolExecution):
            _, tool_call = d.marker("execute_tool")
            a = _vercel_base(d, tool_call, fid)
            a[d.key("gen_ai.tool.name")] = op.name
            a[d.key("gen_ai.tool.call.id")] = op.call_id
            if self.content:
                a[d.key("gen_ai.tool.call.arguments")] = to_json(op.arguments)
                a[d.key("gen_ai.tool.call.result")] = to_json(op.result)
            return self.add(tool_call, parent, step.start_ns, step.end_ns, a)
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
        d, fid = self.d, self.scenario.app
        if call.operation == "embeddings":
            outer_op = self.embed
        else:
            outer_op = self.stream if call.stream else self.generate
        a = _vercel_base(d, outer_op, fid)
        a.update(_vercel_model(d, call, call.operation))
        if call.operation == "embeddings":
            if call.usage is not None:
                a[d.key("gen_ai.usage.input_tokens", "embed")] = call.usage.input_tokens
        else:
            if call.usage is not None:
                a.update(_vercel_usage(d, call.usage, streamed=call.stream))
            a.update(_vercel_finish(d, call.output_messages))
            if self.content:
                prompt = self.prompt(call.system_instructions, call.input_messages)
                a[d.key("prompt")] = to_json(prompt)
                a.update(_vercel_response_content(d, call.output_messages))
        outer = self.add(outer_op, parent, step.start_ns, step.end_ns, a)
        self.inner(call, outer_op, outer, step.start_ns, step.end_ns)
        return outer

    def inner(self, call: ModelCall, outer_op: str, parent: int, start: int, end: int) -> int:
        d = self.d
        op_id = self.inner_ids[outer_op]
        a = _vercel_base(d, op_id, self.scenario.app)
        a.update(_vercel_model(d, call, call.operation))
        margin = min(2_000_000, (end - start) // 10)
        if call.operation == "embeddings":
            if call.usage is not None:
                a[d.key("gen_ai.usage.input_tokens", "embed")] = call.usage.input_tokens
            return self.add(op_id, parent, start + margin, end - margin, a)
        # the doGenerate/doStream span also carries gen_ai.* keys
        step_key = d.facts("step_keys")
        a[step_key["gen_ai.provider.name"]] = _vercel_provider(d, call.provider, call.operation)
        a[step_key["gen_ai.request.model"]] = call.request_model
        if call.response_model is not None:
            a[step_key["gen_ai.response.model"]] = call.response_model
            a[d.key("gen_ai.response.model")] = call.response_model
        if call.usage is not None:
            a.update(_vercel_usage(d, call.usage, streamed=call.stream))
            a[step_key["gen_ai.usage.input_tokens"]] = call.usage.input_tokens
            a[step_key["gen_ai.usage.output_tokens"]] = call.usage.output_tokens or 0
        a.update(_vercel_finish(d, call.output_messages))
        if call.time_to_first_chunk is not None:
            ttfc = d.key("gen_ai.response.time_to_first_chunk")
            a[ttfc] = d.in_units(ttfc, call.time_to_first_chunk)
        if self.content:
            history = _chat_history(call.system_instructions, call.input_messages)
            a[d.key("prompt_messages")] = to_json([_vercel_sdk_message(m) for m in history])
            if call.tool_definitions:
                a[d.key("prompt_tools")] = [
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
                a[d.key("prompt_tool_choice")] = to_json({"type": "auto"})
            a.update(_vercel_response_content(d, call.output_messages))
        return self.add(op_id, parent, start + margin, end - margin, a)


def render_vercel(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    return _VercelBuilder(scenario, content).build()


# --- OpenLIT ----------------------------------------------------------------------------


def _transcript(messages: Sequence[Message]) -> str:
    return "\n".join(f"{m['role']}: {_content_text(m) or ''}" for m in messages)


def _openlit_io(op: Operation) -> tuple[list[Message], list[Message]] | None:
    if isinstance(op, ModelCall) and op.operation != "embeddings":
        return _chat_history(op.system_instructions, op.input_messages), op.output_messages
    if isinstance(op, AgentRun | Workflow):
        return list(op.input_messages), list(op.output_messages)
    return None


def _event(d: _Facts, which: str, time_ns: int, value: str) -> RenderedEvent:
    event = d.facts(which)
    return RenderedEvent(event["name"], time_ns, {event["attribute"]: value})


def render_openlit(scenario: Scenario, content: bool) -> list[RenderedSpan]:
    """OpenLIT names spans and operations as semconv does; it differs in token keys (raw
    provider counts, a total, its own key for reasoning), time to first token, and content,
    which it records as prompt and completion span events."""
    d = _facts("openlit")
    spans = render_semconv(scenario, content=False)
    for step, span in zip(scenario.steps, spans, strict=True):
        a, op = span.attributes, step.op
        if isinstance(op, ModelCall) and op.usage is not None:
            raw_in, raw_out = raw_usage(op.provider, op.usage)
            a[d.key("gen_ai.usage.input_tokens")] = raw_in
            if raw_out is not None:
                a[d.key("gen_ai.usage.output_tokens")] = raw_out
            a[d.key("gen_ai.usage.total_tokens")] = raw_in + (raw_out or 0)
        for semconv_key in list(a):  # the semconv keys OpenLIT writes under its own names
            key = d.optional_key(semconv_key)
            if key is not None and key != semconv_key:
                a[key] = a.pop(semconv_key)
        for key in d.send["omits"]:
            a.pop(key, None)
        if not content:
            continue
        if isinstance(op, ToolExecution):
            a[d.key("gen_ai.tool.call.arguments")] = to_json(op.arguments)
            a[d.key("gen_ai.tool.call.result")] = to_json(op.result)
        if isinstance(op, Retrieval):
            a[d.key("gen_ai.retrieval.query.text")] = op.query
        io = _openlit_io(op)
        if io is not None:
            prompt, completion = io
            span.events.append(_event(d, "prompt_event", step.start_ns, _transcript(prompt)))
            if completion:
                span.events.append(
                    _event(d, "completion_event", step.end_ns, _last_text(completion))
                )
    return spans


_RENDERERS: dict[str, Callable[[Scenario, bool], list[RenderedSpan]]] = {
    "openinference": render_openinference,
    "openllmetry": render_openllmetry,
    "vercel": render_vercel,
    "openlit": render_openlit,
}
