"""LLM request/response bodies -> OpenTelemetry GenAI attributes.

Understands the body shapes that pass through Portkey's gateway: OpenAI chat completions,
completions, embeddings and Responses, Anthropic messages, and Gemini generateContent, plus
their server-sent-event streams. Message content follows the GenAI JSON schemas
(role + parts) and is only produced when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

Attrs = dict[str, Any]

# Provider finish reasons -> the FinishReason values of the output-messages schema.
_FINISH = {
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "content_filter": "content_filter",
}


_TEXT_TYPES = (None, "text", "input_text", "output_text")


def operation_of(path: str, body: Any) -> tuple[str | None, str | None]:
    """(gen_ai.operation.name, openai.api.type) from the URL path, else from the body shape."""
    path = path.rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat", "chat_completions"
    if path.endswith("/completions"):
        return "text_completion", None
    if path.endswith("/embeddings"):
        return "embeddings", None
    if path.endswith("/responses"):
        return "chat", "responses"
    if path.endswith("/messages"):
        return "chat", None
    if path.endswith((":generateContent", ":streamGenerateContent")):
        return "generate_content", None
    if not isinstance(body, Mapping):
        return None, None
    if "messages" in body:
        return "chat", None
    if "contents" in body:
        return "generate_content", None
    if "prompt" in body and "model" in body:
        return "text_completion", None
    if "input" in body and "model" in body:
        if "embed" in str(body.get("model", "")).lower() or "encoding_format" in body:
            return "embeddings", None
        return "chat", "responses"
    return None, None


def request_model(body: Any) -> str | None:
    model = body.get("model") if isinstance(body, Mapping) else None
    return model if isinstance(model, str) and model else None


def request_attributes(operation: str, body: Any) -> Attrs:
    """gen_ai.request.* from a request body (only what was actually sent)."""
    if not isinstance(body, Mapping):
        return {}
    attrs: Attrs = {}
    config = body.get("generationConfig")
    params: Mapping[str, Any] = config if isinstance(config, Mapping) else body
    _set_number(attrs, "gen_ai.request.temperature", params.get("temperature"), float)
    _set_number(attrs, "gen_ai.request.top_p", _first(params, "top_p", "topP"), float)
    _set_number(attrs, "gen_ai.request.top_k", _first(params, "top_k", "topK"), int)
    max_tokens = _first(
        params, "max_tokens", "max_completion_tokens", "max_output_tokens", "maxOutputTokens"
    )
    _set_number(attrs, "gen_ai.request.max_tokens", max_tokens, int)
    _set_number(attrs, "gen_ai.request.frequency_penalty", body.get("frequency_penalty"), float)
    _set_number(attrs, "gen_ai.request.presence_penalty", body.get("presence_penalty"), float)
    _set_number(attrs, "gen_ai.request.seed", params.get("seed"), int)
    choices = _first(params, "n", "candidateCount")
    if isinstance(choices, int) and not isinstance(choices, bool) and choices != 1:
        attrs["gen_ai.request.choice.count"] = choices
    stop = _first(params, "stop", "stop_sequences", "stopSequences")
    if isinstance(stop, str):
        attrs["gen_ai.request.stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop and all(isinstance(s, str) for s in stop):
        attrs["gen_ai.request.stop_sequences"] = list(stop)
    if body.get("stream") is True:
        attrs["gen_ai.request.stream"] = True
    output_type = _output_type(body)
    if output_type:
        attrs["gen_ai.output.type"] = output_type
    reasoning = body.get("reasoning")
    effort = body.get("reasoning_effort") or (
        reasoning.get("effort") if isinstance(reasoning, Mapping) else None
    )
    if isinstance(effort, str):
        attrs["gen_ai.request.reasoning.level"] = effort
    if isinstance(body.get("previous_response_id"), str):
        attrs["gen_ai.request.previous_response.id"] = body["previous_response_id"]
    if isinstance(body.get("service_tier"), str):
        attrs["openai.request.service_tier"] = body["service_tier"]
    if operation == "embeddings":
        if isinstance(body.get("encoding_format"), str):
            attrs["gen_ai.request.encoding_formats"] = [body["encoding_format"]]
        _set_number(attrs, "gen_ai.embeddings.dimension.count", body.get("dimensions"), int)
    return attrs


def response_attributes(body: Any) -> Attrs:
    """gen_ai.response.* and gen_ai.usage.* from a (possibly aggregated) response body."""
    if not isinstance(body, Mapping):
        return {}
    attrs: Attrs = {}
    response_id = body.get("id") or body.get("responseId")
    if isinstance(response_id, str):
        attrs["gen_ai.response.id"] = response_id
    model = body.get("model") or body.get("modelVersion")
    if isinstance(model, str):
        attrs["gen_ai.response.model"] = model
    reasons = finish_reasons(body)
    if reasons:
        attrs["gen_ai.response.finish_reasons"] = reasons
    if isinstance(body.get("system_fingerprint"), str):
        attrs["openai.response.system_fingerprint"] = body["system_fingerprint"]
    if isinstance(body.get("service_tier"), str):
        attrs["openai.response.service_tier"] = body["service_tier"]
    attrs.update(usage_attributes(body))
    return attrs


def finish_reasons(body: Mapping[str, Any]) -> list[str]:
    """The provider's finish reasons, one per choice/candidate, as the provider spelled them."""
    reasons: list[str] = []
    for choice in _list(body.get("choices")):
        if isinstance(choice, Mapping) and isinstance(choice.get("finish_reason"), str):
            reasons.append(choice["finish_reason"])
    for candidate in _list(body.get("candidates")):
        if isinstance(candidate, Mapping) and isinstance(candidate.get("finishReason"), str):
            reasons.append(candidate["finishReason"])
    if isinstance(body.get("stop_reason"), str):
        reasons.append(body["stop_reason"])
    details = body.get("incomplete_details")
    if isinstance(details, Mapping) and isinstance(details.get("reason"), str):
        reasons.append(details["reason"])
    return reasons


def usage_attributes(body: Mapping[str, Any]) -> Attrs:
    """Token usage with semconv's inclusive counting (cache reads inside input tokens)."""
    usage = body.get("usage")
    attrs: Attrs = {}
    if isinstance(usage, Mapping):
        if "prompt_tokens" in usage or "completion_tokens" in usage:  # OpenAI chat/embeddings
            _set_count(attrs, "gen_ai.usage.input_tokens", usage.get("prompt_tokens"))
            _set_count(attrs, "gen_ai.usage.output_tokens", usage.get("completion_tokens"))
            _set_count(
                attrs,
                "gen_ai.usage.cache_read.input_tokens",
                _dig(usage, "prompt_tokens_details", "cached_tokens"),
            )
            _set_count(
                attrs,
                "gen_ai.usage.reasoning.output_tokens",
                _dig(usage, "completion_tokens_details", "reasoning_tokens"),
            )
        elif "cache_read_input_tokens" in usage or "cache_creation_input_tokens" in usage:
            # Anthropic counts cache reads and writes outside input_tokens.
            read = _count(usage.get("cache_read_input_tokens")) or 0
            written = _count(usage.get("cache_creation_input_tokens")) or 0
            base = _count(usage.get("input_tokens"))
            if base is not None:
                attrs["gen_ai.usage.input_tokens"] = base + read + written
            _set_count(attrs, "gen_ai.usage.output_tokens", usage.get("output_tokens"))
            _set_count(attrs, "gen_ai.usage.cache_read.input_tokens", read)
            _set_count(attrs, "gen_ai.usage.cache_creation.input_tokens", written)
        else:  # Responses API, Anthropic without cache fields
            _set_count(attrs, "gen_ai.usage.input_tokens", usage.get("input_tokens"))
            _set_count(attrs, "gen_ai.usage.output_tokens", usage.get("output_tokens"))
            _set_count(
                attrs,
                "gen_ai.usage.cache_read.input_tokens",
                _dig(usage, "input_tokens_details", "cached_tokens"),
            )
            _set_count(
                attrs,
                "gen_ai.usage.reasoning.output_tokens",
                _dig(usage, "output_tokens_details", "reasoning_tokens"),
            )
    gemini = body.get("usageMetadata")
    if isinstance(gemini, Mapping):
        thoughts = _count(gemini.get("thoughtsTokenCount")) or 0
        candidates = _count(gemini.get("candidatesTokenCount"))
        _set_count(attrs, "gen_ai.usage.input_tokens", gemini.get("promptTokenCount"))
        if candidates is not None:
            attrs["gen_ai.usage.output_tokens"] = candidates + thoughts
        _set_count(
            attrs, "gen_ai.usage.cache_read.input_tokens", gemini.get("cachedContentTokenCount")
        )
        if thoughts:
            attrs["gen_ai.usage.reasoning.output_tokens"] = thoughts
    return attrs


# ---------------------------------------------------------------------------------------------
# streams


def aggregate_stream(text: str) -> dict[str, Any] | None:
    """A server-sent-event body folded into the equivalent non-streamed response body."""
    events = []
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload or payload == "[DONE]":
            continue
        try:
            events.append(orjson.loads(payload))
        except orjson.JSONDecodeError:
            continue
    events = [e for e in events if isinstance(e, dict)]
    if not events:
        return None
    for event in events:  # Responses API: the final event carries the whole response
        if event.get("type") == "response.completed" and isinstance(event.get("response"), dict):
            completed: dict[str, Any] = event["response"]
            return completed
    if any(str(e.get("type", "")).startswith("message_") for e in events):
        return _fold_anthropic(events)
    if any("candidates" in e or "usageMetadata" in e for e in events):
        return _fold_gemini(events)
    return _fold_openai(events)


def _fold_openai(events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    choices: dict[int, dict[str, Any]] = {}
    for event in events:
        for key in ("id", "model", "system_fingerprint", "service_tier"):
            if event.get(key):
                out[key] = event[key]
        if isinstance(event.get("usage"), dict):
            out["usage"] = event["usage"]
        for chunk in _list(event.get("choices")):
            if not isinstance(chunk, Mapping):
                continue
            choice = choices.setdefault(
                int(chunk.get("index", 0) or 0), {"message": {"role": "assistant", "content": ""}}
            )
            delta = chunk.get("delta") if isinstance(chunk.get("delta"), Mapping) else {}
            assert isinstance(delta, Mapping)
            if isinstance(delta.get("content"), str):
                choice["message"]["content"] += delta["content"]
            if isinstance(chunk.get("text"), str):  # legacy completions stream
                choice["text"] = choice.get("text", "") + chunk["text"]
            for call in _list(delta.get("tool_calls")):
                _merge_tool_call_delta(choice["message"], call)
            if chunk.get("finish_reason"):
                choice["finish_reason"] = chunk["finish_reason"]
    out["choices"] = [choices[i] for i in sorted(choices)]
    return out


def _merge_tool_call_delta(message: dict[str, Any], call: Any) -> None:
    if not isinstance(call, Mapping):
        return
    calls: list[dict[str, Any]] = message.setdefault("tool_calls", [])
    index = int(call.get("index", len(calls)) or 0)
    while len(calls) <= index:
        calls.append({"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    target = calls[index]
    if call.get("id"):
        target["id"] = call["id"]
    function = call.get("function")
    if isinstance(function, Mapping):
        target["function"]["name"] += function.get("name") or ""
        target["function"]["arguments"] += function.get("arguments") or ""


def _fold_anthropic(events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"content": []}
    usage: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    for event in events:
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = event["message"]
            out.update({k: message[k] for k in ("id", "model", "role") if k in message})
            usage.update(message.get("usage") or {})
        elif kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            blocks[int(event.get("index", len(blocks)))] = dict(event["content_block"])
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict):
            block = blocks.setdefault(int(event.get("index", 0)), {"type": "text", "text": ""})
            delta = event["delta"]
            if "text" in delta:
                block["text"] = block.get("text", "") + delta["text"]
            if "thinking" in delta:
                block["thinking"] = block.get("thinking", "") + delta["thinking"]
            if "partial_json" in delta:
                block["_json"] = block.get("_json", "") + delta["partial_json"]
        elif kind == "message_delta":
            delta = event.get("delta") if isinstance(event.get("delta"), dict) else {}
            assert isinstance(delta, dict)
            if delta.get("stop_reason"):
                out["stop_reason"] = delta["stop_reason"]
            usage.update(event.get("usage") or {})
    for index in sorted(blocks):
        block = blocks[index]
        if "_json" in block:
            block["input"] = _loads_or_text(block.pop("_json"))
        out["content"].append(block)
    if usage:
        out["usage"] = usage
    return out


def _fold_gemini(events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    texts: list[str] = []
    finish = None
    for event in events:
        for key in ("responseId", "modelVersion", "usageMetadata"):
            if key in event:
                out[key] = event[key]
        for candidate in _list(event.get("candidates")):
            if not isinstance(candidate, Mapping):
                continue
            finish = candidate.get("finishReason") or finish
            content = candidate.get("content")
            for part in _list(content.get("parts") if isinstance(content, Mapping) else None):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    candidate_out: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": "".join(texts)}]}
    }
    if finish:
        candidate_out["finishReason"] = finish
    out["candidates"] = [candidate_out]
    return out


# ---------------------------------------------------------------------------------------------
# message content (opt-in)


def content_attributes(operation: str, request_body: Any, response_body: Any) -> Attrs:
    """gen_ai.input.messages, .output.messages, .system_instructions, .tool.definitions as JSON."""
    attrs: Attrs = {}
    if isinstance(request_body, Mapping) and operation != "embeddings":
        system, messages = _input_messages(request_body)
        if messages:
            attrs["gen_ai.input.messages"] = _json(messages)
        if system:
            attrs["gen_ai.system_instructions"] = _json(system)
        tools = _tool_definitions(request_body.get("tools"))
        if tools:
            attrs["gen_ai.tool.definitions"] = _json(tools)
    if isinstance(response_body, Mapping) and operation != "embeddings":
        output = _output_messages(response_body)
        if output:
            attrs["gen_ai.output.messages"] = _json(output)
    return attrs


def _input_messages(body: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    system: list[Any] = []
    messages: list[Any] = []
    if isinstance(body.get("system"), (str, list)):  # Anthropic
        system = _parts(body["system"])
    if isinstance(body.get("instructions"), str):  # Responses API
        system = [{"type": "text", "content": body["instructions"]}]
    instruction = body.get("systemInstruction") or body.get("system_instruction")  # Gemini
    if isinstance(instruction, Mapping):
        system = _parts(instruction.get("parts"))
    for message in _list(body.get("messages")):
        if isinstance(message, Mapping):
            messages.append(_chat_message(message))
    for content in _list(body.get("contents")):
        if isinstance(content, Mapping):
            role = (
                "assistant" if content.get("role") == "model" else str(content.get("role", "user"))
            )
            messages.append({"role": role, "parts": _parts(content.get("parts"))})
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        messages.append({"role": "user", "parts": [{"type": "text", "content": prompt}]})
    elif isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        messages.extend({"role": "user", "parts": [{"type": "text", "content": p}]} for p in prompt)
    given = body.get("input")
    if isinstance(given, str) and "messages" not in body:
        messages.append({"role": "user", "parts": [{"type": "text", "content": given}]})
    elif isinstance(given, list):
        messages.extend(_responses_input(given))
    return system, messages


def _chat_message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = str(message.get("role") or "user")
    out: dict[str, Any] = {"role": role}
    if role == "tool":
        out["parts"] = [
            {
                "type": "tool_call_response",
                "id": message.get("tool_call_id"),
                "response": _text_of(message.get("content")),
            }
        ]
        return out
    parts = _parts(message.get("content"))
    for call in _list(message.get("tool_calls")):
        if isinstance(call, Mapping):
            function = call.get("function") if isinstance(call.get("function"), Mapping) else {}
            assert isinstance(function, Mapping)
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function.get("name", ""),
                    "arguments": _loads_or_text(function.get("arguments")),
                }
            )
    out["parts"] = parts
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    return out


def _responses_input(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "function_call":
            out.append(
                {
                    "role": "assistant",
                    "parts": [
                        {
                            "type": "tool_call",
                            "id": item.get("call_id"),
                            "name": item.get("name", ""),
                            "arguments": _loads_or_text(item.get("arguments")),
                        }
                    ],
                }
            )
        elif kind == "function_call_output":
            out.append(
                {
                    "role": "tool",
                    "parts": [
                        {
                            "type": "tool_call_response",
                            "id": item.get("call_id"),
                            "response": item.get("output"),
                        }
                    ],
                }
            )
        elif "role" in item:
            out.append(_chat_message(item))
    return out


def _parts(content: Any) -> list[dict[str, Any]]:
    """Content (text, or a list of typed blocks in any of the supported dialects) -> parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for block in _list(content):
        if isinstance(block, str):
            parts.append({"type": "text", "content": block})
            continue
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if isinstance(block.get("text"), str) and kind in _TEXT_TYPES:
            parts.append({"type": "text", "content": block["text"]})
        elif kind in ("image_url", "input_image"):
            image = block.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            parts.append(_uri_or_blob(str(url or ""), "image"))
        elif kind == "image" and isinstance(block.get("source"), Mapping):
            source = block["source"]
            if source.get("type") == "base64":
                parts.append(
                    {
                        "type": "blob",
                        "modality": "image",
                        "mime_type": source.get("media_type"),
                        "content": source.get("data", ""),
                    }
                )
            else:
                parts.append({"type": "uri", "modality": "image", "uri": source.get("url", "")})
        elif kind == "input_audio" and isinstance(block.get("input_audio"), Mapping):
            audio = block["input_audio"]
            parts.append(
                {
                    "type": "blob",
                    "modality": "audio",
                    "mime_type": f"audio/{audio.get('format', 'wav')}",
                    "content": audio.get("data", ""),
                }
            )
        elif kind == "tool_use":
            parts.append(
                {
                    "type": "tool_call",
                    "id": block.get("id"),
                    "name": block.get("name", ""),
                    "arguments": block.get("input"),
                }
            )
        elif kind == "tool_result":
            parts.append(
                {
                    "type": "tool_call_response",
                    "id": block.get("tool_use_id"),
                    "response": _text_of(block.get("content")),
                }
            )
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            parts.append({"type": "reasoning", "content": block["thinking"]})
        elif isinstance(block.get("functionCall"), Mapping):  # Gemini
            call = block["functionCall"]
            parts.append(
                {"type": "tool_call", "name": call.get("name", ""), "arguments": call.get("args")}
            )
        elif isinstance(block.get("functionResponse"), Mapping):
            reply = block["functionResponse"]
            parts.append({"type": "tool_call_response", "response": reply.get("response")})
        elif isinstance(block.get("text"), str):
            parts.append({"type": "text", "content": block["text"]})
        elif isinstance(kind, str):
            parts.append({"type": kind})  # a part type the schema leaves open
    return parts


def _uri_or_blob(url: str, modality: str) -> dict[str, Any]:
    if url.startswith("data:") and ";base64," in url:
        header, data = url[5:].split(";base64,", 1)
        return {"type": "blob", "modality": modality, "mime_type": header or None, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


def _output_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for choice in _list(body.get("choices")):
        if not isinstance(choice, Mapping):
            continue
        message = choice.get("message")
        if isinstance(message, Mapping):
            converted = _chat_message({**message, "role": message.get("role") or "assistant"})
        else:
            converted = {"role": "assistant", "parts": _parts(choice.get("text"))}
        converted["finish_reason"] = _finish(choice.get("finish_reason"))
        out.append(converted)
    if isinstance(body.get("content"), list):  # Anthropic
        out.append(
            {
                "role": "assistant",
                "parts": _parts(body["content"]),
                "finish_reason": _finish(body.get("stop_reason")),
            }
        )
    for candidate in _list(body.get("candidates")):
        if isinstance(candidate, Mapping):
            content = candidate.get("content")
            parts = _parts(content.get("parts")) if isinstance(content, Mapping) else []
            out.append(
                {
                    "role": "assistant",
                    "parts": parts,
                    "finish_reason": _finish(candidate.get("finishReason")),
                }
            )
    if isinstance(body.get("output"), list):  # Responses API
        items: list[dict[str, Any]] = []
        for item in body["output"]:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "message":
                items.extend(_parts(item.get("content")))
            elif item.get("type") == "function_call":
                items.append(
                    {
                        "type": "tool_call",
                        "id": item.get("call_id"),
                        "name": item.get("name", ""),
                        "arguments": _loads_or_text(item.get("arguments")),
                    }
                )
            elif item.get("type") == "reasoning":
                for summary in _list(item.get("summary")):
                    if isinstance(summary, Mapping) and isinstance(summary.get("text"), str):
                        items.append({"type": "reasoning", "content": summary["text"]})
        called = any(p["type"] == "tool_call" for p in items)
        finish = "tool_call" if called else ("length" if body.get("incomplete_details") else "stop")
        out.append({"role": "assistant", "parts": items, "finish_reason": finish})
    return out


def _tool_definitions(tools: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in _list(tools):
        if not isinstance(tool, Mapping):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), Mapping) else tool
        assert isinstance(function, Mapping)
        name = function.get("name")
        if not isinstance(name, str):
            kind = str(tool.get("type", "tool"))
            out.append({"type": kind, "name": kind})
            continue
        definition: dict[str, Any] = {"type": "function", "name": name}
        if isinstance(function.get("description"), str):
            definition["description"] = function["description"]
        schema = function.get("parameters", function.get("input_schema"))
        if isinstance(schema, Mapping):
            definition["parameters"] = schema
        out.append(definition)
    return out


# ---------------------------------------------------------------------------------------------
# helpers


def _finish(reason: Any) -> str:
    if not isinstance(reason, str) or not reason:
        return "stop"  # the schema requires one; a finished answer without a reason stopped
    return _FINISH.get(reason, reason)


def _output_type(body: Mapping[str, Any]) -> str | None:
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind in ("json_object", "json_schema"):
            return "json"
        if kind == "text":
            return "text"
    text = body.get("text")
    if isinstance(text, Mapping) and isinstance(text.get("format"), Mapping):
        kind = text["format"].get("type")
        return "json" if kind in ("json_object", "json_schema") else "text"
    return None


def _text_of(content: Any) -> Any:
    if isinstance(content, list):
        texts = [
            b.get("text")
            for b in content
            if isinstance(b, Mapping) and isinstance(b.get("text"), str)
        ]
        return "".join(t for t in texts if t) if texts else content
    return content


def _loads_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dig(mapping: Mapping[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _set_count(attrs: Attrs, key: str, value: Any) -> None:
    count = _count(value)
    if count is not None:
        attrs[key] = count


def _set_number(attrs: Attrs, key: str, value: Any, kind: type[int] | type[float]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if kind is int and isinstance(value, float) and not value.is_integer():
        return
    attrs[key] = kind(value)
