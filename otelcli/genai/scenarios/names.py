"""The scenarios and dialects `otelcli send` knows, by name: plain data, so that TAB completion
can offer them without loading the trace builders."""

from __future__ import annotations

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
