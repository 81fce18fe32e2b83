"""The floors under validate and cost: what protobuf and the cheapest Python walks cost.

Run in a fresh process (the benches do), each timing the best of N, the file read untimed:

- parse: `ExportTraceServiceRequest.FromString` of the whole file (the peer of DESIGN.md);
- parse + every key: the parse, then `kv.key` of every attribute of every span, the least any
  per-attribute Python check does;
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
from typing import Any


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
