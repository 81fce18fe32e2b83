"""Realistic captures for the benchmarks: every scenario in every dialect, 200,000 spans.

Batches rotate through the scenario x dialect combinations (agent trees, RAG, streaming,
embeddings, Gemini reasoning, rate-limit errors; semconv, OpenInference, OpenLLMetry, Vercel,
OpenLIT), each under its own service name, so a reader meets the same variety of scopes,
attribute keys, models and providers a mixed fleet would send. Ids and timestamps are fresh
per trace; the seed makes the content reproducible.

    PYTHONPATH=. python bench/capture.py OUT.pb [--spans 200000] [--jsonl OUT.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_SPANS = 200_000
BATCH_SPANS = 512


def capture_batches(
    spans: int = DEFAULT_SPANS, *, seed: int = 7, content: bool = False
) -> Iterator[tuple[bytes, int]]:
    """(serialized ExportTraceServiceRequest, spans in it) until exactly `spans` spans."""
    from otelcli.genai.scenarios.build import scenario_template
    from otelcli.genai.scenarios.catalog import DIALECTS, SCENARIOS

    combos = list(itertools.product(SCENARIOS, DIALECTS))
    templates = [
        scenario_template(
            scenario, dialect, seed=seed + n, content=content, service=f"{scenario}-{dialect}"
        )
        for n, (scenario, dialect) in enumerate(combos)
    ]
    # chat/semconv is one span per trace: it tops the capture up to the exact count
    filler = templates[combos.index(("chat", "semconv"))]
    remaining = spans
    for template in itertools.cycle(templates):
        if remaining <= 0:
            return
        copies = min(
            max(1, BATCH_SPANS // template.spans_per_copy), remaining // template.spans_per_copy
        )
        if copies == 0:
            template, copies = filler, remaining
        yield template.batch(copies), copies * template.spans_per_copy
        remaining -= copies * template.spans_per_copy


def write_pb(path: str, spans: int = DEFAULT_SPANS, *, content: bool = False) -> int:
    """Write a plain protobuf capture (concatenated requests); returns the span count."""
    total = 0
    with open(path, "wb") as handle:
        for data, count in capture_batches(spans, content=content):
            handle.write(data)
            total += count
    return total


def write_jsonl(path: str, spans: int = DEFAULT_SPANS, *, content: bool = False) -> int:
    """Write the same kind of capture as OTLP/JSON Lines, one request per line."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.otlp.writer import open_writer

    total = 0
    with open_writer(path, "jsonl") as writer:
        for data, count in capture_batches(spans, content=content):
            writer.write(ExportTraceServiceRequest.FromString(data))
            total += count
    return total


PARSE_PEER = """
import json, sys, time
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
with open(sys.argv[1], "rb") as handle:
    data = handle.read()
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    request = ExportTraceServiceRequest.FromString(data)
    times.append(time.perf_counter() - started)
    del request
print(json.dumps(times))
"""


def protobuf_parse_seconds(path: str, repeats: int = 3) -> tuple[float, float]:
    """The peer: ExportTraceServiceRequest.FromString on the whole file, in a fresh process.

    Returns (first, best): the first parse of a fresh process (as a one-shot program pays
    it) and the best of `repeats` (memory already mapped, the parser at its fastest).
    The file read is not timed.
    """
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PEER, path, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    times: list[float] = json.loads(done.stdout)
    return times[0], min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the .pb file to write")
    parser.add_argument("--spans", type=int, default=DEFAULT_SPANS)
    parser.add_argument("--jsonl", help="also write a JSON Lines variant here")
    parser.add_argument("--content", action="store_true", help="include prompts/completions")
    args = parser.parse_args()
    total = write_pb(args.output, args.spans, content=args.content)
    print(f"{args.output}: {total:,} spans, {os.path.getsize(args.output):,} bytes")
    if args.jsonl:
        write_jsonl(args.jsonl, args.spans, content=args.content)
        print(f"{args.jsonl}: {total:,} spans, {os.path.getsize(args.jsonl):,} bytes")


if __name__ == "__main__":
    main()
