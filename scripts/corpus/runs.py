"""The recorded runs and the virtualenvs they run in.

Each virtualenv holds one library set (versions conflict between sets: two releases of one
instrumentation, openai 2 and 3). `build_corpus.py --setup` creates the missing ones under
CORPUS_VENVS (default /work/corpus-venvs) with `python3.11 -m venv` and one pip install.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

VENV_ROOT = Path(os.environ.get("CORPUS_VENVS", "/work/corpus-venvs"))
OTEL = ("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")


@dataclass(frozen=True)
class Venv:
    name: str
    requirements: tuple[str, ...]
    # the distributions whose versions each run's versions.txt lists
    versioned: tuple[str, ...]
    python: str = "python3.11"

    @property
    def path(self) -> Path:
        return VENV_ROOT / self.name

    @property
    def interpreter(self) -> Path:
        return self.path / "bin" / "python"


_CORE = (
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-instrumentation",
    "opentelemetry-semantic-conventions",
)

VENVS = {
    venv.name: venv
    for venv in (
        # openai-v2 2.4b0 imports opentelemetry.util.genai.instruments, which util-genai 1.2b0
        # removed, yet asks only for >=0.4b0: pip picks 1.3b0 and the import fails.
        Venv(
            "ov2-2.4b0",
            (
                "opentelemetry-instrumentation-openai-v2==2.4b0",
                "opentelemetry-util-genai==1.1b0",
                "openai<3",
                *OTEL,
            ),
            (
                "opentelemetry-instrumentation-openai-v2",
                "opentelemetry-util-genai",
                "openai",
                *_CORE,
            ),
        ),
        # 2.3b0 calls wrapt.wrap_function_wrapper(module=...), which wrapt 2 renamed.
        Venv(
            "ov2-2.3b0",
            ("opentelemetry-instrumentation-openai-v2==2.3b0", "wrapt<2", "openai<3", *OTEL),
            ("opentelemetry-instrumentation-openai-v2", "wrapt", "openai", *_CORE),
        ),
        Venv(
            "openinference",
            (
                "openinference-instrumentation-openai",
                "openinference-instrumentation-anthropic",
                "openai",
                "anthropic",
                *OTEL,
            ),
            (
                "openinference-instrumentation-openai",
                "openinference-instrumentation-anthropic",
                "openinference-instrumentation",
                "openinference-semantic-conventions",
                "openai",
                "anthropic",
                *_CORE,
            ),
        ),
        Venv(
            "traceloop",
            (
                "opentelemetry-instrumentation-openai",
                "opentelemetry-instrumentation-anthropic",
                "openai",
                "anthropic",
                *OTEL,
            ),
            (
                "opentelemetry-instrumentation-openai",
                "opentelemetry-instrumentation-anthropic",
                "opentelemetry-semantic-conventions-ai",
                "openai",
                "anthropic",
                *_CORE,
            ),
        ),
        Venv(
            "google-genai",
            ("google-genai<3", "opentelemetry-instrumentation-google-genai", *OTEL),
            (
                "google-genai",
                "opentelemetry-instrumentation-google-genai",
                "opentelemetry-util-genai",
                *_CORE,
            ),
        ),
        Venv("litellm", ("litellm", *OTEL), ("litellm", "openai", *_CORE)),
        Venv(
            "langchain",
            (
                "langchain-openai",
                "openinference-instrumentation-langchain",
                "opentelemetry-instrumentation-langchain",
                *OTEL,
            ),
            (
                "langchain-openai",
                "langchain-core",
                "openinference-instrumentation-langchain",
                "openinference-instrumentation",
                "opentelemetry-instrumentation-langchain",
                "openai",
                *_CORE,
            ),
        ),
        Venv(
            "openlit",
            ("openlit", "openai", "anthropic", *OTEL),
            ("openlit", "openai", "anthropic", *_CORE),
        ),
        Venv(
            "pydantic-ai",
            ("pydantic-ai-slim[openai]", "logfire", *OTEL),
            ("pydantic-ai-slim", "logfire", "openai", *_CORE),
        ),
    )
}


@dataclass(frozen=True)
class Run:
    name: str  # the folder under tests/data/corpus/runs/
    venv: str  # a key of VENVS, or "node" for the Vercel AI SDK recorder
    description: str
    # What the child does: "openai", "anthropic", "gemini" (the client scenarios) or a
    # framework ("litellm", "langchain", "pydantic-ai", "openlit", "vercel").
    scenarios: tuple[str, ...]
    # "module:Class" of each instrumentor to call .instrument() on, in order
    instrumentors: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # keyword arguments for each instrumentor's constructor
    options: Mapping[str, bool] = field(default_factory=dict)


OV2 = "opentelemetry.instrumentation.openai_v2:OpenAIInstrumentor"
OI_OPENAI = "openinference.instrumentation.openai:OpenAIInstrumentor"
OI_ANTHROPIC = "openinference.instrumentation.anthropic:AnthropicInstrumentor"
OI_LANGCHAIN = "openinference.instrumentation.langchain:LangChainInstrumentor"
TL_LANGCHAIN = "opentelemetry.instrumentation.langchain:LangchainInstrumentor"
TL_OPENAI = "opentelemetry.instrumentation.openai:OpenAIInstrumentor"
TL_ANTHROPIC = "opentelemetry.instrumentation.anthropic:AnthropicInstrumentor"
GOOGLE_GENAI = "opentelemetry.instrumentation.google_genai:GoogleGenAiSdkInstrumentor"

LATEST = {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}
# util-genai (openai-v2 2.4b0's chat spans): spans and the log events, with content
LATEST_CONTENT = {
    **LATEST,
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT",
    "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT": "true",
}
LEGACY_CONTENT = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
SDK_OFF = {"ANTHROPIC_OPEN_TELEMETRY": "false"}  # the anthropic SDK's own spans off


def _ov2(version: str) -> tuple[Run, ...]:
    venv = f"ov2-{version}"
    return (
        Run(f"openai-v2-{version}-default", venv, "no settings", ("openai",), (OV2,)),
        Run(
            f"openai-v2-{version}-default-content",
            venv,
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, no opt-in",
            ("openai",),
            (OV2,),
            LEGACY_CONTENT,
        ),
        Run(
            f"openai-v2-{version}-latest",
            venv,
            "OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental, no content",
            ("openai",),
            (OV2,),
            LATEST,
        ),
        Run(
            f"openai-v2-{version}-latest-content",
            venv,
            "opt-in, CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT, EMIT_EVENT=true",
            ("openai",),
            (OV2,),
            LATEST_CONTENT,
        ),
    )


RUNS: tuple[Run, ...] = (
    *_ov2("2.4b0"),
    *_ov2("2.3b0"),
    Run(
        "openai-v2-2.4b0-responses",
        "ov2-2.4b0",
        "the Responses API; opt-in, CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT, EMIT_EVENT=true",
        ("openai-responses",),
        (OV2,),
        LATEST_CONTENT,
    ),
    Run(
        "openinference-openai-responses",
        "openinference",
        "the Responses API; OPENINFERENCE_ENABLE_GENAI_SEMCONV=true",
        ("openai-responses",),
        (OI_OPENAI,),
        {"OPENINFERENCE_ENABLE_GENAI_SEMCONV": "true"},
    ),
    Run(
        "traceloop-openai-responses",
        "traceloop",
        "the Responses API, defaults",
        ("openai-responses",),
        (TL_OPENAI,),
    ),
    Run(
        "anthropic-sdk",
        "openinference",
        "the anthropic SDK's own spans, defaults (no content)",
        ("anthropic",),
    ),
    Run(
        "anthropic-sdk-content",
        "openinference",
        "the anthropic SDK's own spans, ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content",
        ("anthropic",),
        (),
        {"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content"},
    ),
    Run(
        "openinference-openai",
        "openinference",
        "defaults (OpenInference attributes, content)",
        ("openai",),
        (OI_OPENAI,),
    ),
    Run(
        "openinference-openai-genai",
        "openinference",
        "OPENINFERENCE_ENABLE_GENAI_SEMCONV=true",
        ("openai",),
        (OI_OPENAI,),
        {"OPENINFERENCE_ENABLE_GENAI_SEMCONV": "true"},
    ),
    Run(
        "openinference-anthropic",
        "openinference",
        "defaults; the SDK's own spans off",
        ("anthropic",),
        (OI_ANTHROPIC,),
        SDK_OFF,
    ),
    Run(
        "openinference-anthropic-genai",
        "openinference",
        "OPENINFERENCE_ENABLE_GENAI_SEMCONV=true; the SDK's own spans off",
        ("anthropic",),
        (OI_ANTHROPIC,),
        {**SDK_OFF, "OPENINFERENCE_ENABLE_GENAI_SEMCONV": "true"},
    ),
    Run("traceloop-openai", "traceloop", "defaults (content traced)", ("openai",), (TL_OPENAI,)),
    Run(
        "traceloop-anthropic",
        "traceloop",
        "defaults (content traced); the SDK's own spans off",
        ("anthropic",),
        (TL_ANTHROPIC,),
        SDK_OFF,
    ),
    Run(
        "traceloop-openai-events",
        "traceloop",
        "OpenAIInstrumentor(use_attributes=False): content as log events",
        ("openai",),
        (TL_OPENAI,),
        {},
        {"use_attributes": False},
    ),
    Run(
        "traceloop-anthropic-events",
        "traceloop",
        "AnthropicInstrumentor(use_attributes=False): content as log events; SDK spans off",
        ("anthropic",),
        (TL_ANTHROPIC,),
        SDK_OFF,
        {"use_attributes": False},
    ),
    Run(
        "double-anthropic-sdk-openinference",
        "openinference",
        "the anthropic SDK's own spans and OpenInference's anthropic instrumentation",
        ("anthropic",),
        (OI_ANTHROPIC,),
    ),
    Run(
        "double-anthropic-sdk-traceloop",
        "traceloop",
        "the anthropic SDK's own spans and OpenLLMetry's anthropic instrumentation",
        ("anthropic",),
        (TL_ANTHROPIC,),
    ),
    Run(
        "openlit",
        "openlit",
        "openlit.init() on openai and anthropic (SDK spans off)",
        ("openlit",),
        (),
        SDK_OFF,
    ),
    Run(
        "litellm",
        "litellm",
        "litellm.completion with callbacks=['otel'] on the fake OpenAI",
        ("litellm",),
    ),
    Run(
        "litellm-noparent",
        "litellm",
        "the same calls with no app span around them",
        ("litellm-noparent",),
    ),
    Run(
        "litellm-anthropic",
        "litellm",
        "litellm.completion('anthropic/...') on the fake Anthropic API: cache write and read, "
        "a stream with usage, a 529",
        ("litellm-anthropic",),
    ),
    Run(
        "pydantic-ai-logfire",
        "pydantic-ai",
        "pydantic-ai Agent, logfire.configure(send_to_logfire=False) + instrument_pydantic_ai",
        ("pydantic-ai",),
    ),
    Run(
        "langchain-openinference",
        "langchain",
        "langchain-openai ChatOpenAI with OpenInference's LangChain instrumentation",
        ("langchain",),
        (OI_LANGCHAIN,),
    ),
    Run(
        "langchain-traceloop",
        "langchain",
        "langchain-openai ChatOpenAI with OpenLLMetry's LangChain instrumentation",
        ("langchain",),
        (TL_LANGCHAIN,),
    ),
    Run(
        "google-genai-default",
        "google-genai",
        "google-genai with opentelemetry-instrumentation-google-genai, no settings",
        ("gemini",),
        (GOOGLE_GENAI,),
    ),
    Run(
        "google-genai-latest-content",
        "google-genai",
        "google-genai with opentelemetry-instrumentation-google-genai, opt-in, "
        "CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT, EMIT_EVENT=true",
        ("gemini",),
        (GOOGLE_GENAI,),
        LATEST_CONTENT,
    ),
    Run(
        "vercel-ai",
        "node",
        "Vercel AI SDK generateText (tool call) and streamText, experimental_telemetry on, "
        "@ai-sdk/otel OpenTelemetry({usage: true}) registered",
        ("vercel",),
        (),
        {"CORPUS_VERCEL_TELEMETRY": "semconv"},
    ),
    Run(
        "vercel-ai-responses",
        "node",
        "the same with openai(model), the Responses API (the provider's default)",
        ("vercel",),
        (),
        {"CORPUS_VERCEL_TELEMETRY": "semconv", "CORPUS_VERCEL_API": "responses"},
    ),
    Run(
        "vercel-ai-legacy",
        "node",
        "the same with @ai-sdk/otel LegacyOpenTelemetry (the ai.* spans)",
        ("vercel",),
        (),
        {"CORPUS_VERCEL_TELEMETRY": "legacy"},
    ),
)
RUNS_BY_NAME = {run.name: run for run in RUNS}
