"""One run, inside its virtualenv: set up the OTel SDK, instrument, run the scenarios.

Only the standard library is imported at module level: the libraries differ per
virtualenv. The parent sets CORPUS_FAKE_BASE (the fake providers) and
OTEL_EXPORTER_OTLP_ENDPOINT (the sink); the SDK's OTLP/HTTP exporters read the latter.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from collections.abc import Callable
from typing import Any

from corpus.runs import Run

OPENAI_KEY = "sk-corpus-fake"
CHAT_MODEL = "gpt-4o-mini"
REASONING_MODEL = "o4-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
CLAUDE = "claude-sonnet-4-5"
GEMINI = "gemini-2.5-flash"
SYSTEM = "You are a weather assistant."
QUESTION = "What is the weather in Paris?"
TOOL_RESULT = {"city": "Paris", "temperature_c": 18, "sky": "cloudy"}
WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": WEATHER_PARAMETERS,
    },
}


def base(provider: str) -> str:
    root = os.environ["CORPUS_FAKE_BASE"]
    return {
        "openai": f"{root}/openai/v1",
        "anthropic": f"{root}/anthropic",
        "gemini": f"{root}/gemini",
    }[provider]


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return json.dumps({**TOOL_RESULT, "city": city})


# -- the SDK ----------------------------------------------------------------------------------


def setup_sdk(service: str) -> Callable[[], None]:
    """Global tracer, meter and logger providers exporting OTLP/HTTP; returns the shutdown."""
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    _logs.set_logger_provider(logger_provider)
    try:  # the Events API, where this SDK still has it (older instrumentations use it)
        from opentelemetry._events import set_event_logger_provider
        from opentelemetry.sdk._events import EventLoggerProvider

        set_event_logger_provider(EventLoggerProvider(logger_provider))
    except ImportError:
        pass

    def shutdown() -> None:
        tracer_provider.shutdown()
        meter_provider.shutdown()
        logger_provider.shutdown()

    return shutdown


def shutdown_globals() -> None:
    """Flush and shut down whatever providers a framework registered itself."""
    from opentelemetry import _logs, metrics, trace

    for provider in (
        trace.get_tracer_provider(),
        metrics.get_meter_provider(),
        _logs.get_logger_provider(),
    ):
        for method in ("force_flush", "shutdown"):
            call = getattr(provider, method, None)
            if call is not None:
                call()


def app_tracer() -> Any:
    from opentelemetry import trace

    return trace.get_tracer("corpus.app")


# -- OpenAI -----------------------------------------------------------------------------------


def scenario_openai(client: Any = None) -> None:
    """Tool round (cache reads), reasoning model, streams with and without usage, embeddings,
    a 429 and a 500."""
    import openai

    client = client or openai.OpenAI(base_url=base("openai"), api_key=OPENAI_KEY, max_retries=0)
    with app_tracer().start_as_current_span("weather-assistant"):
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": QUESTION},
        ]
        first = client.chat.completions.create(
            model=CHAT_MODEL,
            messages=messages,
            tools=[WEATHER_TOOL],
            temperature=0.2,
            max_tokens=200,
        )
        reply = first.choices[0].message
        call = (reply.tool_calls or [])[0]
        messages.append(reply.model_dump(exclude_none=True))
        messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(TOOL_RESULT)}
        )
        client.chat.completions.create(
            model=CHAT_MODEL,
            messages=messages,
            tools=[WEATHER_TOOL],
            temperature=0.2,
            max_tokens=200,
        )
        client.chat.completions.create(
            model=REASONING_MODEL,
            reasoning_effort="low",
            messages=[{"role": "user", "content": "Is 17 prime?"}],
        )
        for include_usage in (True, False):
            extra: dict[str, Any] = (
                {"stream_options": {"include_usage": True}} if include_usage else {}
            )
            stream = client.chat.completions.create(
                model=CHAT_MODEL,
                stream=True,
                messages=[{"role": "user", "content": "Do I need an umbrella?"}],
                **extra,
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            if not text:
                raise RuntimeError("the streamed completion was empty")
        client.embeddings.create(
            model=EMBEDDING_MODEL, input=["weather in Paris", "umbrella advice"]
        )
        for status in (429, 500):
            try:
                client.chat.completions.create(
                    model=CHAT_MODEL, messages=[{"role": "user", "content": f"Hi [{status}]"}]
                )
            except openai.APIStatusError as exc:
                if exc.status_code != status:
                    raise
            else:
                raise RuntimeError(f"the fake did not answer {status}")


def scenario_openai_responses() -> None:
    """The Responses API: tool round (cache reads), reasoning model, a stream, a 429."""
    import openai

    client: Any = openai.OpenAI(base_url=base("openai"), api_key=OPENAI_KEY, max_retries=0)
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": WEATHER_PARAMETERS,
    }
    with app_tracer().start_as_current_span("weather-assistant"):
        items: list[Any] = [{"role": "user", "content": QUESTION}]
        first = client.responses.create(
            model=CHAT_MODEL,
            instructions=SYSTEM,
            input=items,
            tools=[tool],
            temperature=0.2,
            max_output_tokens=200,
        )
        call = next(item for item in first.output if item.type == "function_call")
        items += [item.model_dump(exclude_none=True) for item in first.output]
        items.append(
            {
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": json.dumps(TOOL_RESULT),
            }
        )
        client.responses.create(
            model=CHAT_MODEL,
            instructions=SYSTEM,
            input=items,
            tools=[tool],
            temperature=0.2,
            max_output_tokens=200,
        )
        client.responses.create(
            model=REASONING_MODEL, input="Is 17 prime?", reasoning={"effort": "low"}
        )
        text = "".join(
            event.delta
            for event in client.responses.create(
                model=CHAT_MODEL, input="Do I need an umbrella?", stream=True
            )
            if event.type == "response.output_text.delta"
        )
        if not text:
            raise RuntimeError("the streamed response was empty")
        try:
            client.responses.create(model=CHAT_MODEL, input="Hi [429]")
        except openai.APIStatusError as exc:
            if exc.status_code != 429:
                raise
        else:
            raise RuntimeError("the fake did not answer 429")


# -- Anthropic --------------------------------------------------------------------------------

CLAUDE_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": WEATHER_PARAMETERS,
}


def scenario_anthropic() -> None:
    """Tool round (cache write, then read), extended thinking, create(stream=True) and
    messages.stream(), a 529 and a 429."""
    import anthropic

    client = anthropic.Anthropic(base_url=base("anthropic"), api_key="sk-ant-corpus", max_retries=0)
    with app_tracer().start_as_current_span("weather-assistant-anthropic"):
        system = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
        messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
        first = client.messages.create(
            model=CLAUDE,
            max_tokens=200,
            system=system,
            messages=messages,
            tools=[CLAUDE_TOOL],
        )
        use = next(block for block in first.content if block.type == "tool_use")
        messages.append({"role": "assistant", "content": [b.model_dump() for b in first.content]})
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": json.dumps(TOOL_RESULT),
                    }
                ],
            }
        )
        client.messages.create(
            model=CLAUDE,
            max_tokens=200,
            system=system,
            messages=messages,
            tools=[CLAUDE_TOOL],
        )
        client.messages.create(
            model=CLAUDE,
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": "Is 17 prime?"}],
        )
        umbrella = [{"role": "user", "content": "Do I need an umbrella?"}]
        text = ""
        for event in client.messages.create(
            model=CLAUDE, max_tokens=100, messages=umbrella, stream=True
        ):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
        if not text:
            raise RuntimeError("the streamed message was empty")
        with client.messages.stream(model=CLAUDE, max_tokens=100, messages=umbrella) as stream:
            if not stream.get_final_text():
                raise RuntimeError("the streamed message was empty")
        for status in (529, 429):
            try:
                client.messages.create(
                    model=CLAUDE,
                    max_tokens=50,
                    messages=[{"role": "user", "content": f"Hi [{status}]"}],
                )
            except anthropic.APIStatusError as exc:
                if exc.status_code != status:
                    raise
            else:
                raise RuntimeError(f"the fake did not answer {status}")


# -- Gemini -----------------------------------------------------------------------------------


def scenario_gemini() -> None:
    """Tool round (cached content, thoughts), a stream, a 429."""
    from google import genai
    from google.genai import errors, types

    client = genai.Client(
        api_key="corpus-fake", http_options=types.HttpOptions(base_url=base("gemini"))
    )
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="Current weather for a city.",
                parameters_json_schema=WEATHER_PARAMETERS,
            )
        ]
    )
    config = types.GenerateContentConfig(
        tools=[tool],
        system_instruction=SYSTEM,
        temperature=0.2,
        max_output_tokens=200,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    with app_tracer().start_as_current_span("weather-assistant-gemini"):
        contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=QUESTION)])]
        first = client.models.generate_content(model=GEMINI, contents=contents, config=config)
        call = first.function_calls[0] if first.function_calls else None
        if call is None:
            raise RuntimeError("no function call")
        contents.append(first.candidates[0].content)
        contents.append(
            types.Content(
                role="user",
                parts=[types.Part.from_function_response(name="get_weather", response=TOOL_RESULT)],
            )
        )
        client.models.generate_content(model=GEMINI, contents=contents, config=config)
        text = "".join(
            chunk.text or ""
            for chunk in client.models.generate_content_stream(
                model=GEMINI, contents="Do I need an umbrella?"
            )
        )
        if not text:
            raise RuntimeError("the streamed answer was empty")
        try:
            client.models.generate_content(model=GEMINI, contents="Hi [429]")
        except errors.APIError as exc:
            if exc.code != 429:
                raise


# -- frameworks -------------------------------------------------------------------------------


def scenario_litellm(provider: str = "openai", parent: bool = True) -> None:
    """litellm.completion: tool round, a stream with usage, an error; its "otel" callback.

    `provider` "anthropic" goes through LiteLLM's Anthropic adapter (cached system block, a
    529); `parent` False runs the calls without an app span around them."""
    import contextlib
    import time

    import litellm

    litellm.callbacks = ["otel"]
    system: Any = SYSTEM
    if provider == "anthropic":
        common: dict[str, Any] = {
            "api_base": f"{base('anthropic')}/v1/messages",
            "api_key": "sk-ant-corpus",
            "num_retries": 0,
        }
        model, status = f"anthropic/{CLAUDE}", 529
        system = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    else:
        common = {"api_base": base("openai"), "api_key": OPENAI_KEY, "num_retries": 0}
        model, status = f"openai/{CHAT_MODEL}", 429
    span = app_tracer().start_as_current_span("weather-assistant")
    with span if parent else contextlib.nullcontext():
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": QUESTION},
        ]
        settings = {"tools": [WEATHER_TOOL], "temperature": 0.2, "max_tokens": 200, **common}
        first = litellm.completion(model=model, messages=messages, **settings)
        reply = first.choices[0].message
        call = reply.tool_calls[0]
        messages.append(reply.model_dump(exclude_none=True))
        messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(TOOL_RESULT)}
        )
        litellm.completion(model=model, messages=messages, **settings)
        stream = litellm.completion(
            model=model,
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=100,
            messages=[{"role": "user", "content": "Do I need an umbrella?"}],
            **common,
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        if not text:
            raise RuntimeError("the streamed completion was empty")
        try:
            litellm.completion(
                model=model, messages=[{"role": "user", "content": f"Hi [{status}]"}], **common
            )
        except Exception as exc:  # litellm maps the status to its own exception classes
            if f"error {status}" not in str(exc):  # the fake's message survives the mapping
                raise
        else:
            raise RuntimeError(f"the fake did not answer {status}")
    time.sleep(1)  # litellm's callbacks run on a worker thread


def scenario_langchain() -> None:
    """ChatOpenAI with a bound tool: the round, a stream with usage, a 429."""
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    weather = tool(get_weather)
    chat = ChatOpenAI(
        model=CHAT_MODEL,
        base_url=base("openai"),
        api_key=OPENAI_KEY,
        max_retries=0,
        temperature=0.2,
        max_tokens=200,
        stream_usage=True,
    )
    with app_tracer().start_as_current_span("weather-assistant"):
        messages: list[Any] = [SystemMessage(SYSTEM), HumanMessage(QUESTION)]
        reply = chat.bind_tools([weather]).invoke(messages)
        messages.append(reply)
        call = reply.tool_calls[0]
        messages.append(ToolMessage(json.dumps(TOOL_RESULT), tool_call_id=call["id"]))
        chat.bind_tools([weather]).invoke(messages)
        text = "".join(str(chunk.content) for chunk in chat.stream("Do I need an umbrella?"))
        if not text:
            raise RuntimeError("the streamed completion was empty")
        try:
            chat.invoke("Hi [429]")
        except Exception as exc:  # openai.RateLimitError, through langchain
            if "429" not in str(exc):
                raise


def scenario_pydantic_ai() -> None:
    """An Agent with a tool (two model requests), a streamed run, a 429."""
    import logfire
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    logfire.configure(send_to_logfire=False, service_name="corpus-pydantic-ai", console=False)
    logfire.instrument_pydantic_ai()
    model = OpenAIChatModel(
        CHAT_MODEL, provider=OpenAIProvider(base_url=base("openai"), api_key=OPENAI_KEY)
    )
    agent = Agent(
        model,
        system_prompt=SYSTEM,
        tools=[get_weather],
        model_settings={"temperature": 0.2, "max_tokens": 200},
    )
    with app_tracer().start_as_current_span("weather-assistant"):
        agent.run_sync(QUESTION)

        async def streamed() -> str:
            plain = Agent(model)
            async with plain.run_stream("Do I need an umbrella?") as result:
                return "".join([piece async for piece in result.stream_text(delta=True)])

        if not asyncio.run(streamed()):
            raise RuntimeError("the streamed run was empty")
        try:
            Agent(model).run_sync("Hi [429]")
        except ModelHTTPError:
            pass
    logfire.force_flush()


def scenario_openlit() -> None:
    import openlit

    openlit.init(
        otlp_endpoint=os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"],
        application_name="corpus-openlit",
        environment="corpus",
    )
    scenario_openai()
    scenario_anthropic()


SCENARIOS: dict[str, Callable[[], None]] = {
    "openai": scenario_openai,
    "openai-responses": scenario_openai_responses,
    "anthropic": scenario_anthropic,
    "gemini": scenario_gemini,
    "litellm": scenario_litellm,
    "litellm-noparent": lambda: scenario_litellm(parent=False),
    "litellm-anthropic": lambda: scenario_litellm("anthropic"),
    "langchain": scenario_langchain,
    "pydantic-ai": scenario_pydantic_ai,
    "openlit": scenario_openlit,
}
# Frameworks that set up the OTel SDK themselves.
SELF_CONFIGURED = {"openlit", "pydantic-ai"}


def run(spec: Run) -> None:
    own_sdk = not SELF_CONFIGURED.intersection(spec.scenarios)
    shutdown = setup_sdk(f"corpus-{spec.name}") if own_sdk else shutdown_globals
    for target in spec.instrumentors:
        module, _, name = target.partition(":")
        getattr(importlib.import_module(module), name)(**spec.options).instrument()
    try:
        for scenario in spec.scenarios:
            SCENARIOS[scenario]()
    finally:
        shutdown()
