"""The floors under validate and cost: what protobuf and the cheapest Python walks cost.

Run in a fresh process (the benches do), each timing the best of N, the file read untimed:

- parse: `ExportTraceServiceRequest.FromString` of the whole file (the peer of DESIGN.md);
- parse + every key: the parse, then `kv.key` of every attribute of every span, the least any
  per-attribute Python check does;
- parse + every key and value type: the parse, then every key and its value's oneof field
  (`WhichOneof`), what a type check of every value would cost (validate reads the oneof only
  of the keys it checks: a reference, not its floor);
- parse + usage lookup: the parse, then every key looked up in the set of token-usage keys and
  the value of each hit read, the least a cost pass that finds usage by key does;
- parse + located usage: the parse, then only the usage values of LLM spans, at positions found
  before the clock starts; no reader can know them in advance, so it bounds cost from below.

    PYTHONPATH=. python bench/floors.py CAPTURE.pb [--repeat 3]   # prints JSON
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def usage_keys() -> frozenset[str]:
    """Every key a dialect reports a token count under (data/dialects.json)."""
    from otelcli.genai.dialects.normalize import load_dialects

    index = load_dialects().key_index()
    usage = {
        t for t, _ in index.values() if t.startswith("gen_ai.usage.") and t.endswith("_tokens")
    }
    return frozenset(key for key, (target, _) in index.items() if target in usage) | usage


def _best(repeat: int, run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def measure(path: str, repeat: int = 3) -> dict[str, float | int]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    keys = usage_keys()
    with open(path, "rb") as handle:
        data = handle.read()
    parse = ExportTraceServiceRequest.FromString

    def spans(request: Any) -> Any:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                yield from scope_spans.spans

    def every_key() -> None:
        for span in spans(parse(data)):
            for kv in span.attributes:
                kv.key  # noqa: B018 - the access is what is timed

    def every_type() -> None:
        for span in spans(parse(data)):
            for kv in span.attributes:
                kv.key  # noqa: B018 - the access is what is timed
                kv.value.WhichOneof("value")

    def usage_lookup() -> None:
        for span in spans(parse(data)):
            for kv in span.attributes:
                if kv.key in keys:
                    kv.value.int_value  # noqa: B018

    request = parse(data)
    located = [
        [i for i, kv in enumerate(span.attributes) if kv.key in keys] for span in spans(request)
    ]
    llm_spans = sum(1 for found in located if found)
    attributes = sum(len(span.attributes) for span in spans(request))
    del request

    def located_usage() -> None:
        for span, found in zip(spans(parse(data)), located, strict=True):
            if found:
                attributes = span.attributes
                for i in found:
                    attributes[i].value.int_value  # noqa: B018

    return {
        "spans": len(located),
        "llm_spans": llm_spans,
        "attributes": attributes,
        "parse": _best(repeat, lambda: parse(data)),
        "every_key": _best(repeat, every_key),
        "every_type": _best(repeat, every_type),
        "usage_lookup": _best(repeat, usage_lookup),
        "located_usage": _best(repeat, located_usage),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("capture")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.capture, args.repeat)))


if __name__ == "__main__":
    main()


# -- otelcli's side, each run in a fresh process ---------------------------------------------

FLOW = """
import json, sys, time
kind, path, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "cost":
    from otelcli.flows import cost as flow
    table = flow.PricingSource(fallback=False).table()
    class Loaded(flow.PricingSource):
        def table(self):  # loaded once per run, before the clock starts
            return table
    source = Loaded(fallback=False)
    run = lambda: flow.price_captures(flow.CostRequest([path], jobs=jobs, source=source))
else:
    from otelcli.flows import validate as flow
    run = lambda: flow.run(flow.ValidateRequest(inputs=[path], jobs=jobs))
started = time.perf_counter()
run()
seconds = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_rss_kib": peak}))
"""


def run_flow(kind: str, path: str, jobs: int) -> dict[str, float]:
    """otelcli's flow (read + every check or price + report) in a fresh process."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", FLOW, kind, path, str(jobs)],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(REPO),
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def run_floors(path: str, repeat: int) -> dict[str, float]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(Path(__file__)), path, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def side_by_side(kind: str, path: str, repeat: int, jobs: list[int], floor: str) -> None:
    """Print the parse, the floors and otelcli's wall time (best of `repeat` fresh runs per
    --jobs value), each as a multiple of the parse, measured in this one run."""
    floors = run_floors(path, repeat)
    parse = floors["parse"]
    rows = [
        ("protobuf FromString, whole file (the peer)", parse),
        ("parse + kv.key of every attribute", floors["every_key"]),
        ("parse + every key and its value's type", floors["every_type"]),
        ("parse + usage keys looked up, values read", floors["usage_lookup"]),
        ("parse + usage values of LLM spans, located", floors["located_usage"]),
    ]
    peaks = {}
    for n in jobs:
        runs = [run_flow(kind, path, n) for _ in range(repeat)]
        rows.append((f"otelcli {kind} --jobs {n}", min(r["seconds"] for r in runs)))
        peaks[n] = max(r["peak_rss_kib"] for r in runs) / 1024
    spans = floors["spans"]
    print(
        f"capture: {spans:,} spans ({floors['llm_spans']:,} with usage), "
        f"{floors['attributes']:,} attributes, {Path(path).stat().st_size / 1e6:.1f} MB; "
        f"best of {repeat}"
    )
    print(f"{'':46}{'seconds':>9}{'spans/s':>12}{'x parse':>9}{'x floor':>9}")
    for label, seconds in rows:
        print(
            f"{label:46}{seconds:9.3f}{spans / seconds:12,.0f}{seconds / parse:8.2f}x"
            f"{seconds / floors[floor]:8.2f}x"
        )
    print(
        f"floor ({floor}) = {floors[floor] / parse:.2f}x the parse: a single process "
        f"{'cannot' if floors[floor] > 2 * parse else 'can'} meet 2x; "
        + ", ".join(f"--jobs {n}: peak RSS {peak:.0f} MiB" for n, peak in peaks.items())
    )


def streaming_memory(kind: str, tmp: str, spans: int, jobs: int) -> None:
    """Peak RSS over JSON Lines captures of N and 4N spans: streaming keeps it flat."""
    import os

    from bench.capture import write_jsonl

    out = []
    for count in (spans, spans * 4):
        path = os.path.join(tmp, f"capture-{count}.jsonl")
        write_jsonl(path, count)
        result = run_flow(kind, path, jobs)
        out.append(
            f"{count:,} spans ({Path(path).stat().st_size / 1e6:.0f} MB) -> "
            f"{result['peak_rss_kib'] / 1024:.0f} MiB"
        )
        os.unlink(path)
    print(f"JSONL streaming, --jobs {jobs}, peak RSS of the calling process: " + "; ".join(out))
