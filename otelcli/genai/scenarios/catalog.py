"""The scenarios `otelcli send` knows, built from one random.Random so a seed gives the same
facts in every dialect and with or without content capture."""

from __future__ import annotations

import random

from otelcli.errors import UsageError
from otelcli.genai.scenarios.model import (
    ANTHROPIC,
    GEMINI,
    OPENAI,
    RESPONSE_MODELS,
    AgentRun,
    ErrorInfo,
    ModelCall,
    Retrieval,
    Scenario,
    Step,
    ToolExecution,
    Usage,
    Workflow,
    message,
    text,
)
from otelcli.genai.scenarios.names import DIALECTS as DIALECTS
from otelcli.genai.scenarios.names import SCENARIOS as SCENARIOS
from otelcli.otlp.values import AttrValue

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _ms(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 1_000_000


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
