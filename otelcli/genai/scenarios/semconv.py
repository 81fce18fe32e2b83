"""Scenario steps as spans of the OpenTelemetry GenAI semantic conventions."""

from __future__ import annotations

from otelcli.genai.scenarios.model import (
    KIND_CLIENT,
    KIND_INTERNAL,
    STATUS_ERROR,
    AgentRun,
    ModelCall,
    Retrieval,
    Scenario,
    ToolExecution,
    Usage,
    Workflow,
    to_json,
)
from otelcli.otlp.build import RenderedSpan
from otelcli.otlp.values import AttrValue


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
