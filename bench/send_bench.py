"""send: `otelcli send --count N` vs the OTel Python SDK exporting N spans, into one sink.

Both senders run as their own processes against the same loopback sink (bench/sink.py, a
third process), in one run:

- otelcli: the real CLI, `python -m otelcli send --count N -e SINK -f json` (agent traces:
  invoke_agent -> chat -> execute_tool -> chat, GenAI semconv attributes and token usage).
- peer: an app using the official SDK (TracerProvider + BatchSpanProcessor +
  OTLPSpanExporter, http/protobuf) creating the same agent trees with the same attributes,
  then force_flush. Its queue holds the whole run: with the default 2,048 the SDK drops spans
  it cannot export in time, and this benchmark counts delivered spans only.

A sender's time runs from its process launch to the moment the sink acknowledged its last
span (start-up and imports included on both sides); the sink's span count is the truth and
must equal N for both. Also shown: the time from the first request to the last (steady
state). Target (DESIGN.md): otelcli >= 25x the SDK's spans/s.

    PYTHONPATH=. python bench/send_bench.py [--spans 200000] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.sink import Sink  # noqa: E402

SDK_APP = r"""
import os, sys
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

total = int(sys.argv[1])
provider = TracerProvider(resource=Resource.create({"service.name": "otelcli-demo"}))
provider.add_span_processor(
    BatchSpanProcessor(
        OTLPSpanExporter(endpoint=sys.argv[2]), max_queue_size=total, max_export_batch_size=512
    )
)
tracer = provider.get_tracer("otelcli", "0.1.0")
CLIENT, INTERNAL = trace.SpanKind.CLIENT, trace.SpanKind.INTERNAL
REQUEST = {
    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o", "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 1024, "server.address": "api.openai.com", "server.port": 443,
}


def chat(n, finish, input_tokens, output_tokens, cached):
    with tracer.start_as_current_span("chat gpt-4o", kind=CLIENT, attributes=REQUEST) as span:
        span.set_attributes({
            "gen_ai.response.id": f"chatcmpl-{n:032x}",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.response.finish_reasons": [finish],
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
            "gen_ai.usage.cache_read.input_tokens": cached,
            "openai.api.type": "chat_completions",
            "openai.response.service_tier": "default",
            "openai.response.system_fingerprint": "fp_7b77e90d35",
        })


for n in range(total // 4):  # one agent run = 4 spans
    with tracer.start_as_current_span("invoke_agent support-agent", kind=INTERNAL) as root:
        root.set_attributes({
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support-agent",
            "gen_ai.agent.description": "Answers order-status questions for the web shop",
            "gen_ai.conversation.id": f"conv_{n:032x}", "gen_ai.request.model": "gpt-4o",
            "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 1024,
        })
        chat(2 * n, "tool_calls", 1346, 18, 0)
        with tracer.start_as_current_span("execute_tool lookup_order", kind=INTERNAL) as tool:
            tool.set_attributes({
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
                "gen_ai.tool.call.id": f"call_{n:024x}",
                "gen_ai.tool.description": "Look up the status and delivery estimate of an order",
                "gen_ai.tool.type": "function", "gen_ai.agent.name": "support-agent",
            })
        chat(2 * n + 1, "stop", 1448, 58, 1280)
        root.set_attributes({
            "gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 2794,
            "gen_ai.usage.output_tokens": 76, "gen_ai.usage.cache_read.input_tokens": 1280,
        })
provider.force_flush(timeout_millis=600_000)
provider.shutdown()
"""


def clean_env() -> dict[str, str]:
    """No OTEL_* settings from the caller's shell may steer either sender."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def measure(sink: Sink, argv: list[str], spans: int) -> dict[str, Any]:
    sink.reset()
    started = time.monotonic()
    done = subprocess.run(argv, env=clean_env(), capture_output=True, text=True)
    exited = time.monotonic()
    if done.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    stats = sink.stats()
    if stats["spans"] != spans or stats["bad_requests"]:
        raise SystemExit(
            f"{argv[:4]}: the sink counted {stats['spans']:,} spans "
            f"({stats['bad_requests']} bad requests), expected {spans:,}"
        )
    seconds = stats["last_s"] - started
    return {
        "seconds": seconds,
        "rate": spans / seconds,
        "steady": spans / (stats["last_s"] - stats["first_s"]),
        "requests": stats["requests"],
        "sink_busy": stats["cpu_s"] / (exited - started),
        "output": done.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000, help="a multiple of 4")
    parser.add_argument("--runs", type=int, default=1, help="alternating pairs; medians shown")
    args = parser.parse_args()
    if args.spans % 4:
        parser.error("--spans must be a multiple of 4 (whole agent traces)")
    cases: dict[str, Callable[[str], list[str]]] = {
        "SDK BatchSpanProcessor (peer)": lambda url: [
            sys.executable,
            "-c",
            SDK_APP,
            str(args.spans),
            url,
        ],
        "otelcli send": lambda url: [
            sys.executable,
            "-m",
            "otelcli",
            "send",
            "--count",
            str(args.spans),
            "-e",
            url,
            "-f",
            "json",
        ],
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    with Sink() as sink:
        for run in range(args.runs):
            for name, argv in cases.items():
                result = measure(sink, argv(sink.url), args.spans)
                results[name].append(result)
                print(
                    f"run {run + 1}: {name:30} {result['seconds']:7.2f}s "
                    f"{result['rate']:>10,.0f} spans/s",
                    file=sys.stderr,
                )
    print(f"{args.spans:,} spans each, delivered in full (sink count); sender = its own process")
    print(
        f"{'':32}{'seconds':>9}{'spans/s':>11}{'steady spans/s':>16}{'requests':>10}"
        f"{'sink busy':>11}"
    )
    rates = {}
    steady = {}
    for name, runs in results.items():
        rates[name] = statistics.median(r["rate"] for r in runs)
        steady[name] = statistics.median(r["steady"] for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        busy = statistics.median(r["sink_busy"] for r in runs)
        print(
            f"{name:32}{seconds:9.2f}{rates[name]:11,.0f}{steady[name]:16,.0f}"
            f"{runs[-1]['requests']:10,}{busy:10.0%}"
        )
    peer, ours = list(results)
    report = json.loads(results[ours][-1]["output"])
    print(
        f"(otelcli's own report: {report['spans_per_second']:,.0f} spans/s over "
        f"{report['elapsed_s']:.2f}s of sending, p50 latency "
        f"{report['latency']['p50_ms']:.1f} ms)"
    )
    print(
        f"ratio: {rates[ours] / rates[peer]:.1f}x the SDK's spans/s "
        f"(steady state {steady[ours] / steady[peer]:.1f}x); target >= 25x"
    )


if __name__ == "__main__":
    main()
