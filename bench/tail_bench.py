"""tail: sustained ingest with the live view on, against the OTel Python SDK's export rate.

Both sides go through the real `otelcli tail -- CMD` session (receiver, queue, live screen
redrawn 4x a second on a terminal-like console), in one run:

- peer: the command is an app using the official SDK (BatchSpanProcessor + OTLP/HTTP
  protobuf exporter) creating GenAI-style spans as fast as it can; its rate is spans created
  and exported (force_flush included) per second, measured inside the app.
- otelcli: the command is a load generator posting pre-encoded batches of the same kind of
  spans over several keep-alive connections; the rate is spans over the time from its first
  request until tail has drawn everything (its queue drained), so a view that lags is
  charged for it.

Zero drops means: every span the generator got a 200 for reached the view, and no request
was refused. Target (DESIGN.md): ingest >= 10x the SDK's export rate.

    PYTHONPATH=. python bench/tail_bench.py [--spans 200000] [--sdk-spans 20000]
        [--save run.pb | --save chdb:DIR]

With --save both sessions keep what they receive there (the SDK's run first, then the
generator's; a chDB store gets both), each batch before it is acknowledged.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SDK_APP = """
import json, os, time
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

total = int(os.environ["BENCH_SPANS"])
provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
# A queue as large as the run, so the SDK drops nothing and its rate is what it can export.
processor = BatchSpanProcessor(OTLPSpanExporter(), max_queue_size=total, max_export_batch_size=512)
provider.add_span_processor(processor)
tracer = provider.get_tracer("bench")
started = time.perf_counter()
made = 0
while made < total:
    with tracer.start_as_current_span("invoke_agent planner"):
        for _ in range(9):
            with tracer.start_as_current_span("chat gpt-4o") as span:
                span.set_attributes({
                    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1200,
                    "gen_ai.usage.output_tokens": 300,
                    "gen_ai.response.finish_reasons": ["stop"],
                })
    made += 10
provider.force_flush(timeout_millis=600_000)
elapsed = time.perf_counter() - started
provider.shutdown()
with open(os.environ["BENCH_REPORT"], "w") as handle:
    json.dump({"spans": made, "seconds": elapsed}, handle)
"""

LOADGEN = """
import json, os, threading, time
import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otelcli.otlp.values import make_attributes

total, batch_size = int(os.environ["BENCH_SPANS"]), 500
url = os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
llm = make_attributes({
    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300, "gen_ai.response.finish_reasons": ["stop"],
})
bodies = []
trace = 0
for _ in range(total // batch_size):  # every span unique: traces of 10 (a root and 9 calls)
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(make_attributes({"service.name": "loadgen"}))
    spans = rs.scope_spans.add().spans
    for _ in range(batch_size // 10):
        trace += 1
        tid = trace.to_bytes(16, "big")
        start = time.time_ns()
        spans.add(trace_id=tid, span_id=(trace * 16).to_bytes(8, "big"), kind=1,
                  name="invoke_agent planner", start_time_unix_nano=start,
                  end_time_unix_nano=start + 9_000_000)
        for n in range(1, 10):
            span = spans.add(trace_id=tid, span_id=(trace * 16 + n).to_bytes(8, "big"),
                             parent_span_id=(trace * 16).to_bytes(8, "big"), kind=3,
                             name="chat gpt-4o", start_time_unix_nano=start + n * 1_000_000,
                             end_time_unix_nano=start + n * 1_000_000 + 800_000)
            span.attributes.extend(llm)
    bodies.append(request.SerializeToString())
lock = threading.Lock()
state = {"next": 0, "ok": 0, "refused": 0}

def send():
    with httpx.Client(headers={"content-type": "application/x-protobuf"}) as client:
        while True:
            with lock:
                index = state["next"]
                state["next"] += 1
            if index >= len(bodies):
                return
            status = client.post(url, content=bodies[index]).status_code
            with lock:
                state["ok" if status == 200 else "refused"] += 1

started = time.time()
threads = [threading.Thread(target=send) for _ in range(int(os.environ["BENCH_SENDERS"]))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with open(os.environ["BENCH_REPORT"], "w") as handle:
    json.dump({"started": started, "sent_seconds": time.time() - started,
               "spans_acknowledged": state["ok"] * batch_size,
               "requests_refused": state["refused"]}, handle)
"""


class _Terminal(io.StringIO):
    """Looks like a terminal to rich, so the live view really draws; output is discarded."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def run_tail(
    script: str, env: dict[str, str], save: str | None = None
) -> tuple[Any, float, dict[str, Any]]:
    from otelcli.flows.receive import ReceiveRequest, run
    from otelcli.render.live import SessionView, ViewOptions
    from otelcli.render.output import Output

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report_path = handle.name
    os.environ.update(env, BENCH_REPORT=report_path)
    out = Output(format="auto", color=True, stdout=_Terminal(), stderr=io.StringIO())
    view = SessionView(out, ViewOptions(mode="live"))
    command = (sys.executable, "-c", script)
    result = run(ReceiveRequest(command=command, save=save, subscriber=view))
    finished = time.time()
    report = json.loads(Path(report_path).read_text())
    os.unlink(report_path)
    return result, finished, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000, help="spans for otelcli")
    parser.add_argument("--sdk-spans", type=int, default=20_000, help="spans for the SDK")
    parser.add_argument("--senders", type=int, default=4, help="load generator connections")
    parser.add_argument("--save", help="a save file or a store (chdb:DIR, clickhouse://...)")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(REPO)
    os.environ.setdefault("COLUMNS", "120")
    os.environ.setdefault("LINES", "40")

    sdk_result, _, sdk = run_tail(SDK_APP, {"BENCH_SPANS": str(args.sdk_spans)}, args.save)
    sdk_rate = sdk["spans"] / sdk["seconds"]
    sdk_dropped = sdk["spans"] - sdk_result.spans

    result, finished, load = run_tail(
        LOADGEN, {"BENCH_SPANS": str(args.spans), "BENCH_SENDERS": str(args.senders)}, args.save
    )
    ingest_seconds = finished - load["started"]
    rate = result.spans / ingest_seconds
    refused = load["requests_refused"] + sum(result.receiver["rejected_requests"].values())
    drops = load["spans_acknowledged"] - result.spans
    if args.save:
        saved = [r.saved for r in (sdk_result, result) if r.saved is not None]
        kept = sum(s.file.spans for s in saved)
        not_saved = sum(s.refused_spans for s in saved)
        print(f"saved to {args.save}: {kept:,} spans, {not_saved:,} refused (senders retry)")
    print(f"{'':28}{'spans':>10}{'seconds':>10}{'spans/s':>12}")
    print(f"{'SDK export (peer)':28}{sdk['spans']:>10,}{sdk['seconds']:>10.2f}{sdk_rate:>12,.0f}")
    print(f"{'otelcli tail, live view':28}{result.spans:>10,}{ingest_seconds:>10.2f}{rate:>12,.0f}")
    print(f"  (the generator itself finished sending in {load['sent_seconds']:.2f}s)")
    print(f"ratio: {rate / sdk_rate:.1f}x the SDK's export rate (target >= 10x)")
    print(
        f"drops: {drops} of {load['spans_acknowledged']:,} acknowledged spans; "
        f"refused requests: {refused}; SDK spans not received: {sdk_dropped}"
    )


if __name__ == "__main__":
    main()
