"""Build tests/data/corpus/: telemetry recorded from real GenAI instrumentation libraries.

    pip install -e '.[corpus]'
    python scripts/build_corpus.py            # record every variant, write VERSIONS.txt
    python scripts/build_corpus.py --pin      # also write <name>.expected.json (then review!)
    python scripts/build_corpus.py --only traceloop-content --pin
    python scripts/build_corpus.py --pin-only # re-pin the committed captures (a rule changed)

    python scripts/build_corpus.py --runs                  # record every run in runs/
    python scripts/build_corpus.py --runs --only litellm   # one run (repeat --only for more)
    python scripts/build_corpus.py --setup                 # only create the missing virtualenvs

The runs (tests/data/corpus/runs/<run>/, defined in scripts/corpus/runs.py) record traces,
logs and metrics: each run's child interpreter comes from a virtualenv of its own outside the
repo (CORPUS_VENVS, default /work/corpus-venvs; --runs creates the missing ones with pip),
since library sets conflict. The parent (this interpreter, which needs opentelemetry-proto)
runs loopback fakes of the OpenAI, Anthropic and Gemini APIs, which log the ground truth of
every call (truth.json), and an OTLP/HTTP sink that writes what the SDK exporters sent as
OTLP/JSON lines (traces.jsonl, logs.jsonl, metrics.jsonl). The Vercel AI SDK run is node
(scripts/corpus_vercel/, `npm ci` there first; --runs runs it when node_modules exists).

Each variant runs in a fresh interpreter, because the libraries monkey-patch the openai client
and must not meet. The child instruments openai, talks to a loopback fake of the OpenAI API
(a tool-call round whose prompts hit the cache, a streamed completion with usage, embeddings)
and writes the spans the OpenTelemetry SDK recorded as one small JSONL capture.

--pin runs `otelcli validate` and `otelcli cost` on every capture and stores what the tests
compare with: the findings as (rule, level, attribute) counts, span types, dialects, token and
cost totals. The pinned files are meant to be read: every finding should be explainable
(tests/data/corpus/README.md explains them per library).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus"


@dataclass(frozen=True)
class Variant:
    name: str  # the capture is <name>.jsonl
    library: str  # distribution name
    instrumentor: str  # module holding OpenAIInstrumentor
    description: str
    env: Mapping[str, str] = field(default_factory=dict)


OFFICIAL = "opentelemetry-instrumentation-openai-v2"
OPENINFERENCE = "openinference-instrumentation-openai"
TRACELOOP = "opentelemetry-instrumentation-openai"

VARIANTS = (
    Variant("openai-v2-default", OFFICIAL, "opentelemetry.instrumentation.openai_v2",
            "defaults: semconv v1.30 attributes, no content"),
    Variant("openai-v2-latest-content", OFFICIAL, "opentelemetry.instrumentation.openai_v2",
            "latest experimental semconv, content on spans",
            {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
             "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"}),
    Variant("openinference-content", OPENINFERENCE, "openinference.instrumentation.openai",
            "defaults: OpenInference attributes with inputs and outputs"),
    Variant("openinference-hidden", OPENINFERENCE, "openinference.instrumentation.openai",
            "inputs and outputs hidden",
            {"OPENINFERENCE_HIDE_INPUTS": "true", "OPENINFERENCE_HIDE_OUTPUTS": "true"}),
    Variant("openinference-genai", OPENINFERENCE, "openinference.instrumentation.openai",
            "GenAI semconv emitted alongside OpenInference, content on",
            {"OPENINFERENCE_ENABLE_GENAI_SEMCONV": "true"}),
    Variant("traceloop-content", TRACELOOP, "opentelemetry.instrumentation.openai",
            "defaults: content traced", {"TRACELOOP_TRACE_CONTENT": "true"}),
    Variant("traceloop-nocontent", TRACELOOP, "opentelemetry.instrumentation.openai",
            "content off", {"TRACELOOP_TRACE_CONTENT": "false"}),
)  # fmt: skip
BY_NAME = {variant.name: variant for variant in VARIANTS}

# Recorded in VERSIONS.txt: the instrumentations and what they run on.
VERSIONED = (
    OFFICIAL,
    "opentelemetry-util-genai",
    OPENINFERENCE,
    "openinference-instrumentation",
    "openinference-semantic-conventions",
    TRACELOOP,
    "opentelemetry-semantic-conventions-ai",
    "openai",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation",
    "opentelemetry-semantic-conventions",
)
# Settings from the shell that would change what a library records.
_ENV_PREFIXES = ("OTEL_", "TRACELOOP_", "OPENINFERENCE_", "OPENAI_")

# -- the fake OpenAI API ----------------------------------------------------------------------

CHAT_MODEL = "gpt-4o-mini"
CHAT_MODEL_SNAPSHOT = "gpt-4o-mini-2024-07-18"  # what the API answers with
EMBEDDING_MODEL = "text-embedding-3-small"
CREATED = 1_767_225_600
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def _usage(prompt: int, cached: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion(
    ident: str, message: dict[str, Any], finish: str, usage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion",
        "created": CREATED,
        "model": CHAT_MODEL_SNAPSHOT,
        "system_fingerprint": "fp_corpus01",
        "service_tier": "default",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }


def chat_response(body: Mapping[str, Any]) -> dict[str, Any]:
    """A tool call while the tool has not answered, then the answer (both hit the cache)."""
    messages = body.get("messages") or []
    message: dict[str, Any]
    if messages and messages[-1].get("role") == "tool":
        message = {
            "role": "assistant",
            "content": "It is 18 °C and cloudy in Paris.",
            "refusal": None,
        }
        return _completion("chatcmpl-corpus-answer", message, "stop", _usage(1290, 1152, 12))
    if body.get("tools"):
        call = {
            "id": "call_corpus_weather",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
        return _completion("chatcmpl-corpus-tool", message, "tool_calls", _usage(1250, 1024, 18))
    message = {"role": "assistant", "content": "Hello!", "refusal": None}
    return _completion("chatcmpl-corpus-plain", message, "stop", _usage(20, 0, 2))


def stream_chunks(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A short streamed answer; the usage chunk only when stream_options asks for it."""

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-corpus-stream",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": CHAT_MODEL_SNAPSHOT,
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
        final["usage"] = _usage(64, 0, 5)
        yield final


def embeddings_response(body: Mapping[str, Any]) -> dict[str, Any]:
    texts = body.get("input")
    count = len(texts) if isinstance(texts, list) else 1
    vector = [0.0125, -0.5, 0.25, 0.75]
    encoded: Any = vector
    if body.get("encoding_format") == "base64":  # what the openai client asks for by default
        encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encoded} for i in range(count)],
        "model": EMBEDDING_MODEL,
        "usage": {"prompt_tokens": 4 * count, "total_tokens": 4 * count},
    }


class _FakeOpenAI(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.endswith("/chat/completions"):
            if body.get("stream"):
                self._stream(body)
                return
            self._json(chat_response(body))
        elif self.path.endswith("/embeddings"):
            self._json(embeddings_response(body))
        else:
            self._json({"error": {"message": f"no route {self.path}", "type": "invalid"}}, 404)

    def _json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "req_corpus")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: Mapping[str, Any]) -> None:
        # HTTP/1.0 without a length: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for item in stream_chunks(body):
            self.wfile.write(b"data: " + json.dumps(item).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


@contextmanager
def fake_openai() -> Iterator[str]:
    """The fake API on 127.0.0.1 (a free port); yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# -- one variant, in its own interpreter ------------------------------------------------------


def run_child(variant: Variant, base_url: str, output: str) -> None:
    """Instrument openai with the variant's library, run the scenario, write the spans."""
    import importlib

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otelcli.otlp.writer import open_writer

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"corpus-{variant.name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = importlib.import_module(variant.instrumentor).OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        run_scenario(base_url, provider.get_tracer("corpus.app"))
    finally:
        instrumentor.uninstrument()
    provider.force_flush()
    with open_writer(output) as writer:
        writer.write(encode_spans(exporter.get_finished_spans()))
    provider.shutdown()


def run_scenario(base_url: str, tracer: Any) -> None:
    """A small assistant: a tool-call round, a streamed answer, embeddings, under one root."""
    import openai

    # Any: the scenario passes plain dicts where the client's stubs want its TypedDicts
    client: Any = openai.OpenAI(base_url=base_url, api_key="sk-corpus-fake", max_retries=0)
    with tracer.start_as_current_span("weather-assistant"):
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are a weather assistant."},
            {"role": "user", "content": "What is the weather in Paris?"},
        ]
        first = client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=TOOLS, temperature=0.2, max_tokens=200
        )
        reply = first.choices[0].message
        call = (reply.tool_calls or [])[0]
        messages.append(reply.model_dump(exclude_none=True))
        messages.append(
            {
                "role": "tool",
                "tool_call_id": call.id,
                "content": json.dumps({"city": "Paris", "temperature_c": 18, "sky": "cloudy"}),
            }
        )
        client.chat.completions.create(
            model=CHAT_MODEL, messages=messages, tools=TOOLS, temperature=0.2, max_tokens=200
        )
        stream = client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "Do I need an umbrella?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        if not text:
            raise RuntimeError("the streamed completion was empty")
        client.embeddings.create(
            model=EMBEDDING_MODEL, input=["weather in Paris", "umbrella advice"]
        )


# -- the parent: record, version, pin ----------------------------------------------------------


def record(variants: list[Variant], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    with fake_openai() as base_url:
        for variant in variants:
            target = out / f"{variant.name}.jsonl"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    variant.name,
                    "--base-url",
                    base_url,
                    "--output",
                    str(target),
                ],
                env={**base_env, **variant.env},
                check=True,
            )
            print(f"{target.relative_to(REPO)}: {target.stat().st_size:,} bytes")


def write_versions(out: Path) -> None:
    lines = [
        "# Versions that recorded the captures in this directory (scripts/build_corpus.py).",
        f"python {sys.version.split()[0]}",
    ]
    for name in VERSIONED:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} (not installed)")
    (out / "VERSIONS.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def otelcli_json(*args: str) -> Any:
    """Run the otelcli CLI in a directory without policy files; its JSON output."""
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [sys.executable, "-m", "otelcli", *args],
            cwd=cwd,
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"},
        )
    return json.loads(done.stdout)


def findings_table(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's findings as (rule, level, attribute) counts, sorted."""
    counts = Counter(
        (finding["rule"], finding["level"], finding["attribute"]) for finding in report["findings"]
    )
    return [
        {"rule": rule, "level": level, "attribute": attribute, "count": count}
        for (rule, level, attribute), count in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
        )
    ]


def validate_summary(capture: str, *extra: str) -> dict[str, Any]:
    """What the tests pin of `otelcli validate FILE -f json`."""
    report = otelcli_json(
        "validate", capture, "-f", "json", "--fail-on", "none", "--max-findings", "100000", *extra
    )
    if report["findings_truncated"]:
        raise RuntimeError(f"{capture}: findings were truncated")
    summary = report["summary"]
    return {
        "semconv": report["semconv"]["id"],
        "spans": summary["spans"],
        "genai_spans": summary["genai_spans"],
        "traces": summary["traces"],
        "span_types": summary["span_types"],
        "dialects": summary["dialects"],
        "by_level": summary["by_level"],
        "findings": findings_table(report),
    }


def pin(variant: Variant, out: Path) -> Path:
    capture = str(out / f"{variant.name}.jsonl")
    checked = validate_summary(capture)
    priced = otelcli_json("cost", capture, "-f", "json", "--by", "model", "--no-fallback")
    expected: dict[str, Any] = {
        "capture": f"{variant.name}.jsonl",
        "library": variant.library,
        "variant": variant.description,
        "env": dict(variant.env),
        "validate": checked,
    }
    if checked["dialects"]:  # what the spans would lack once mapped to semconv
        expected["validate_normalized"] = validate_summary(capture, "--normalized")
    expected["cost"] = {
        "spans": priced["total"]["spans"],
        "priced_spans": priced["total"]["priced_spans"],
        "unknown_spans": priced["total"]["unknown_spans"],
        "tokens": priced["total"]["tokens"],
        "usd_total": (priced["total"]["usd"] or {}).get("total"),
        "models": sorted(group["key"]["model"] for group in priced["groups"]),
    }
    target = out / f"{variant.name}.expected.json"
    target.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=CORPUS, help="corpus directory")
    parser.add_argument(
        "--only", action="append", help="record only these variants (or runs, with --runs)"
    )
    parser.add_argument("--runs", action="store_true", help="record the runs in runs/")
    parser.add_argument("--setup", action="store_true", help="create the runs' virtualenvs")
    parser.add_argument("--run-child", help=argparse.SUPPRESS)
    parser.add_argument("--pin", action="store_true", help="write <name>.expected.json files")
    parser.add_argument(
        "--pin-only", action="store_true", help="re-pin the existing captures, record nothing"
    )
    parser.add_argument("--child", choices=sorted(BY_NAME), help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_child:
        from corpus import child, runs

        child.run(runs.RUNS_BY_NAME[args.run_child])
        return 0
    if args.runs or args.setup:
        from corpus import record as recorder

        return recorder.main(args.only, setup_only=args.setup and not args.runs)
    if args.child:
        run_child(BY_NAME[args.child], args.base_url, args.output)
        return 0
    unknown = sorted(set(args.only or ()) - set(BY_NAME))
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(unknown)} (for a run, add --runs)")
    variants = [BY_NAME[name] for name in args.only] if args.only else list(VARIANTS)
    if not args.pin_only:
        record(variants, args.out)
        write_versions(args.out)
    if args.pin or args.pin_only:
        for variant in variants:
            print(f"{pin(variant, args.out).relative_to(REPO)}: pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
