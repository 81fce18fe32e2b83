"""cost over the 200,000-span capture, side by side with protobuf's parse and the floors.

    PYTHONPATH=. python bench/cost_bench.py [--spans 200000] [--capture FILE]
        [--repeat 3] [--jobs 1 --jobs 2] [--jsonl-spans 50000]

In one run, each timing the best of --repeat fresh processes: the parse of the whole file
(`ExportTraceServiceRequest.FromString`, the peer of DESIGN.md's 2x target), the floors of
bench/floors.py (the parse plus every key looked up among the usage keys: the least a cost
pass that finds usage by key does; and, below any reader, the parse plus only the usage
values of LLM spans at positions known in advance), and the cost flow (read, dialect-aware
usage, call identity, pricing, the report; the price table loaded before the clock starts)
with each --jobs value, as multiples of the parse and of the usage-lookup floor. Then
streaming memory: peak RSS over JSON Lines captures of N and 4N spans.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.capture import write_pb  # noqa: E402
from bench.floors import side_by_side, streaming_memory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--capture", help="an existing .pb capture instead of a fresh one")
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    parser.add_argument("--jobs", type=int, action="append", help="default: 1 and the cores")
    parser.add_argument("--jsonl-spans", type=int, default=50_000, help="0: skip memory")
    args = parser.parse_args()
    jobs = args.jobs or sorted({1, os.cpu_count() or 1})
    with tempfile.TemporaryDirectory(prefix="otelcli-bench-") as tmp:
        path = args.capture or os.path.join(tmp, "capture.pb")
        if args.capture is None:
            write_pb(path, args.spans)
        side_by_side("cost", path, args.repeat, jobs, "usage_lookup")
        if args.jsonl_spans:
            streaming_memory("cost", tmp, args.jsonl_spans, max(jobs))


if __name__ == "__main__":
    main()
