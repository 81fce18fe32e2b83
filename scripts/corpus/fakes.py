"""Loopback fakes of the OpenAI, Anthropic and Gemini APIs that log the ground truth.

One server on 127.0.0.1 answers all three under a prefix each:

- `/openai/v1/chat/completions` (plain, tool call, tool answer, reasoning model, streamed with
  or without `stream_options.include_usage`), `/openai/v1/embeddings`, `/openai/v1/responses`
  (function call, its output, reasoning, a streamed response with its events)
- `/anthropic/v1/messages` (plain, tool_use, tool answer with cache read, extended thinking,
  streamed SSE events); the tool call writes the prompt cache, with the 5m / 1h split
- `/gemini/v1beta/models/<model>:generateContent` and `:streamGenerateContent?alt=sse`

A request whose body contains `[429]`, `[500]` or `[529]` is answered with that error, in the
provider's own error shape. Every answer appends one record to `server.truth`: provider,
endpoint, model requested and returned, response id, streamed or not, status, and the usage
exactly as sent (for a stream: the final, cumulative usage).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1_767_225_600
ERROR_MARKERS = (429, 500, 529)

OPENAI_MODELS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "o4-mini": "o4-mini-2025-04-16",
    "text-embedding-3-small": "text-embedding-3-small",
}
ANTHROPIC_MODELS = {"claude-sonnet-4-5": "claude-sonnet-4-5-20250929"}
GEMINI_MODELS = {"gemini-2.5-flash": "gemini-2.5-flash"}


@dataclass
class Truth:
    """What the fakes answered, in order, for one run."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{prefix}{self.counter:02d}"

    def add(self, **record: Any) -> None:
        with self.lock:
            self.calls.append({"seq": len(self.calls) + 1, **record})

    def reset(self) -> None:
        with self.lock:
            self.calls = []
            self.counter = 0


# -- OpenAI -----------------------------------------------------------------------------------


def openai_usage(prompt: int, cached: int, completion: int, reasoning: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _openai_answer(body: Mapping[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The message, finish reason and usage for a non-streamed chat completion."""
    messages = body.get("messages") or []
    model = str(body.get("model"))
    message: dict[str, Any]
    if model.startswith("o"):
        message = {"role": "assistant", "content": "Yes: 17 is prime.", "refusal": None}
        return message, "stop", openai_usage(40, 0, 90, reasoning=64)
    if messages and messages[-1].get("role") == "tool":
        message = {
            "role": "assistant",
            "content": "It is 18 °C and cloudy in Paris.",
            "refusal": None,
        }
        return message, "stop", openai_usage(1290, 1152, 12)
    if body.get("tools"):
        call = {
            "id": "call_corpus_weather",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
        return message, "tool_calls", openai_usage(1250, 1024, 18)
    message = {"role": "assistant", "content": "Hello!", "refusal": None}
    return message, "stop", openai_usage(20, 0, 2)


STREAM_USAGE = openai_usage(64, 0, 5)


def openai_stream(body: Mapping[str, Any], ident: str, model: str) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_corpus01",
            "service_tier": "default",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }

    yield chunk({"role": "assistant", "content": "", "refusal": None}, None)
    for piece in ("Bring ", "an ", "umbrella."):
        yield chunk({"content": piece}, None)
    yield chunk({}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        final = chunk({}, None)
        final["choices"] = []
        final["usage"] = STREAM_USAGE
        yield final


def responses_usage(
    tokens_in: int, cached: int, tokens_out: int, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "input_tokens": tokens_in,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": tokens_out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": tokens_in + tokens_out,
    }


RESPONSES_STREAM_USAGE = responses_usage(64, 0, 5)


def _responses_answer(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The output items and usage of a non-streamed Responses API call."""
    items = body.get("input")
    last = items[-1] if isinstance(items, list) and items else {}
    if str(body.get("model")).startswith("o"):
        reasoning = {"type": "reasoning", "id": "rs_corpus_01", "summary": []}
        return [reasoning, _output_message("Yes: 17 is prime.")], responses_usage(
            40, 0, 90, reasoning=64
        )
    if isinstance(last, dict) and last.get("type") == "function_call_output":
        return [_output_message("It is 18 °C and cloudy in Paris.")], responses_usage(
            1290, 1152, 12
        )
    if body.get("tools"):
        call = {
            "type": "function_call",
            "id": "fc_corpus_01",
            "call_id": "call_corpus_weather",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
            "status": "completed",
        }
        return [call], responses_usage(1250, 1024, 18)
    return [_output_message("Hello!")], responses_usage(20, 0, 2)


def _output_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_corpus_out",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def responses_object(
    ident: str,
    model: str,
    body: Mapping[str, Any],
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    status: str = "completed",
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": model,
        "output": output,
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": {},
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "user": None,
    }


def responses_stream(ident: str, model: str, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    pieces = ("Bring ", "an ", "umbrella.")
    item = {
        "type": "message",
        "id": "msg_corpus_out",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    where = {"item_id": "msg_corpus_out", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": responses_object(ident, model, body, [], None, "in_progress"),
        },
        {
            "type": "response.in_progress",
            "response": responses_object(ident, model, body, [], None, "in_progress"),
        },
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", **where, "part": part},
        *(
            {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []}
            for piece in pieces
        ),
        {"type": "response.output_text.done", **where, "text": "".join(pieces), "logprobs": []},
        {"type": "response.content_part.done", **where, "part": {**part, "text": "".join(pieces)}},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": _output_message("".join(pieces)),
        },
        {
            "type": "response.completed",
            "response": responses_object(
                ident, model, body, [_output_message("".join(pieces))], RESPONSES_STREAM_USAGE
            ),
        },
    ]
    for number, event in enumerate(events):
        yield {**event, "sequence_number": number}


def openai_error(status: int) -> dict[str, Any]:
    kinds = {429: ("rate_limit_exceeded", "requests"), 500: ("server_error", "server_error")}
    code, kind = kinds.get(status, ("server_error", "server_error"))
    return {
        "error": {
            "message": f"corpus fake error {status}",
            "type": kind,
            "param": None,
            "code": code,
        }
    }


# -- Anthropic --------------------------------------------------------------------------------


def anthropic_usage(
    fresh: int,
    output: int,
    *,
    read: int = 0,
    write_5m: int = 0,
    write_1h: int = 0,
    thinking: int | None = None,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": fresh,
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_read_input_tokens": read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": write_5m,
            "ephemeral_1h_input_tokens": write_1h,
        },
        "output_tokens": output,
        "service_tier": "standard",
    }
    if thinking is not None:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    return usage


def _has_tool_result(messages: list[Any]) -> bool:
    if not messages or messages[-1].get("role") != "user":
        return False
    content = messages[-1].get("content")
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "tool_result" for part in content
    )


def _anthropic_answer(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    messages = body.get("messages") or []
    content: list[dict[str, Any]]
    if body.get("thinking"):
        content = [
            {
                "type": "thinking",
                "thinking": "17 has no divisor but 1 and itself.",
                "signature": "c2lnLWNvcnB1cw==",
            },
            {"type": "text", "text": "Yes: 17 is prime."},
        ]
        return content, "end_turn", anthropic_usage(35, 120, thinking=80)
    if _has_tool_result(messages):
        content = [{"type": "text", "text": "It is 18 °C and cloudy in Paris."}]
        return content, "end_turn", anthropic_usage(40, 15, read=1500)
    if body.get("tools"):
        content = [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_corpus_weather",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ]
        return content, "tool_use", anthropic_usage(30, 22, write_5m=1200, write_1h=300)
    return [{"type": "text", "text": "Hello!"}], "end_turn", anthropic_usage(12, 3)


ANTHROPIC_STREAM_USAGE = anthropic_usage(12, 9, read=1500)


def anthropic_stream(ident: str, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    start_usage = {**ANTHROPIC_STREAM_USAGE, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    yield "message_start", {"type": "message_start", "message": message}
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    yield "ping", {"type": "ping"}
    for piece in ("Bring ", "an ", "umbrella."):
        yield (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    # The API's message_delta usage is cumulative: it repeats the input counts.
    delta_usage = {
        k: ANTHROPIC_STREAM_USAGE[k]
        for k in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
        )
    }
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": delta_usage,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def anthropic_error(status: int) -> dict[str, Any]:
    kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": f"corpus fake error {status}"},
        "request_id": "req_corpus_error",
    }


# -- Gemini -----------------------------------------------------------------------------------


def gemini_usage(prompt: int, cached: int, candidates: int, thoughts: int = 0) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _gemini_answer(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    contents = body.get("contents") or []
    answered = any(
        "functionResponse" in part for item in contents for part in (item.get("parts") or [])
    )
    if answered:
        return [{"text": "It is 18 °C and cloudy in Paris."}], gemini_usage(1340, 1280, 14)
    if body.get("tools"):
        call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
        return [call], gemini_usage(1300, 1024, 10, thoughts=48)
    return [{"text": "Hello!"}], gemini_usage(8, 0, 2)


GEMINI_STREAM_USAGE = gemini_usage(30, 0, 6, thoughts=20)


def gemini_response(
    parts: list[dict[str, Any]], usage: dict[str, Any], model: str, ident: str
) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": ident,
    }


def gemini_error(status: int) -> dict[str, Any]:
    kind = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 529: "UNAVAILABLE"}.get(status, "INTERNAL")
    return {"error": {"code": status, "message": f"corpus fake error {status}", "status": kind}}


# -- the server -------------------------------------------------------------------------------


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, with a content-length or chunked (as node's http client sends it)."""
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        parts: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("content-length") or 0))


_GEMINI_PATH = re.compile(r"/gemini/[^/]+/models/([^:/]+):(generateContent|streamGenerateContent)")


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        raw = read_body(self) or b"{}"
        body = json.loads(raw)
        text = raw.decode("utf-8", "replace")
        status = next((code for code in ERROR_MARKERS if f"[{code}]" in text), 200)
        path = self.path.split("?")[0]
        truth = self.server.truth
        if path.startswith("/openai/"):
            self._openai(path, body, status, truth)
        elif path.startswith("/anthropic/") and path.endswith("/messages"):
            self._anthropic(body, status, truth)
        elif match := _GEMINI_PATH.match(path):
            self._gemini(match.group(1), match.group(2) != "generateContent", body, status, truth)
        else:
            self._json({"error": {"message": f"no route {self.path}"}}, 404)

    # OpenAI
    def _openai(self, path: str, body: dict[str, Any], status: int, truth: Truth) -> None:
        requested = str(body.get("model"))
        model = OPENAI_MODELS.get(requested, requested)
        stream = bool(body.get("stream"))
        endpoint = path.rsplit("/v1/", 1)[-1].replace("/", ".")  # chat.completions, ...
        record = {
            "provider": "openai",
            "endpoint": endpoint,
            "model_requested": requested,
            "stream": stream,
            "status": status,
        }
        if status != 200:
            truth.add(**record, model_returned=None, response_id=None, usage=None)
            self._json(openai_error(status), status)
            return
        if endpoint == "embeddings":
            texts = body.get("input")
            count = len(texts) if isinstance(texts, list) else 1
            usage = {"prompt_tokens": 4 * count, "total_tokens": 4 * count}
            truth.add(**record, model_returned=model, response_id=None, usage=usage)
            self._json(_embeddings(body, count, model, usage))
            return
        if endpoint == "responses":
            self._responses(body, record, model, truth)
            return
        ident = truth.next_id("chatcmpl-corpus-")
        if stream:
            chunks = list(openai_stream(body, ident, model))
            usage_sent = chunks[-1]["usage"]
            truth.add(**record, model_returned=model, response_id=ident, usage=usage_sent)
            self._sse(b"data: " + json.dumps(item).encode() for item in chunks)
            return
        message, finish, usage = _openai_answer(body)
        truth.add(**record, model_returned=model, response_id=ident, usage=usage)
        self._json(
            {
                "id": ident,
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "system_fingerprint": "fp_corpus01",
                "service_tier": "default",
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
                "usage": usage,
            }
        )

    def _responses(
        self, body: dict[str, Any], record: dict[str, Any], model: str, truth: Truth
    ) -> None:
        ident = truth.next_id("resp_corpus_")
        if record["stream"]:
            truth.add(
                **record, model_returned=model, response_id=ident, usage=RESPONSES_STREAM_USAGE
            )
            events = responses_stream(ident, model, body)
            self._sse(
                (f"event: {event['type']}\ndata: {json.dumps(event)}".encode() for event in events),
                done=False,
            )
            return
        output, usage = _responses_answer(body)
        truth.add(**record, model_returned=model, response_id=ident, usage=usage)
        self._json(responses_object(ident, model, body, output, usage))

    # Anthropic
    def _anthropic(self, body: dict[str, Any], status: int, truth: Truth) -> None:
        requested = str(body.get("model"))
        model = ANTHROPIC_MODELS.get(requested, requested)
        stream = bool(body.get("stream"))
        record = {
            "provider": "anthropic",
            "endpoint": "messages",
            "model_requested": requested,
            "stream": stream,
            "status": status,
        }
        if status != 200:
            truth.add(**record, model_returned=None, response_id=None, usage=None)
            self._json(anthropic_error(status), status)
            return
        ident = truth.next_id("msg_corpus_")
        if stream:
            truth.add(
                **record, model_returned=model, response_id=ident, usage=ANTHROPIC_STREAM_USAGE
            )
            self._sse(
                f"event: {name}\ndata: {json.dumps(data)}".encode()
                for name, data in anthropic_stream(ident, model)
            )
            return
        content, stop, usage = _anthropic_answer(body)
        truth.add(**record, model_returned=model, response_id=ident, usage=usage)
        self._json(
            {
                "id": ident,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
        )

    # Gemini
    def _gemini(
        self, requested: str, stream: bool, body: dict[str, Any], status: int, truth: Truth
    ) -> None:
        model = GEMINI_MODELS.get(requested, requested)
        endpoint = "streamGenerateContent" if stream else "generateContent"
        record = {
            "provider": "gemini",
            "endpoint": endpoint,
            "model_requested": requested,
            "stream": stream,
            "status": status,
        }
        if status != 200:
            truth.add(**record, model_returned=None, response_id=None, usage=None)
            self._json(gemini_error(status), status)
            return
        ident = truth.next_id("gemini-corpus-")
        if stream:
            truth.add(**record, model_returned=model, response_id=ident, usage=GEMINI_STREAM_USAGE)
            partial = {"promptTokenCount": 30, "totalTokenCount": 30}
            pieces = ["Bring ", "an ", "umbrella."]
            chunks = [
                gemini_response(
                    [{"text": piece}], GEMINI_STREAM_USAGE if i == 2 else partial, model, ident
                )
                for i, piece in enumerate(pieces)
            ]
            for item in chunks[:-1]:
                del item["candidates"][0]["finishReason"]
            self._sse((b"data: " + json.dumps(item).encode() for item in chunks), done=False)
            return
        parts, usage = _gemini_answer(body)
        truth.add(**record, model_returned=model, response_id=ident, usage=usage)
        self._json(gemini_response(parts, usage, model, ident))

    # transport
    def _json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "req_corpus")
        self.send_header("request-id", "req_corpus")
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: Iterator[bytes], done: bool = True) -> None:
        # HTTP/1.0 without a length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("request-id", "req_corpus")
        self.end_headers()
        for event in events:
            self.wfile.write(event + b"\n\n")
        if done and self.path.startswith("/openai/"):
            self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


def _embeddings(
    body: Mapping[str, Any], count: int, model: str, usage: dict[str, Any]
) -> dict[str, Any]:
    import base64
    import struct

    vector = [0.0125, -0.5, 0.25, 0.75]
    encoded: Any = vector
    if body.get("encoding_format") == "base64":
        encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return {
        "object": "list",
        "model": model,
        "usage": usage,
        "data": [{"object": "embedding", "index": i, "embedding": encoded} for i in range(count)],
    }


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.truth = Truth()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def fake_providers() -> Iterator[FakeServer]:
    server = FakeServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
