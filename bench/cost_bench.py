"""cost: pricing every span of a 200,000-span capture vs protobuf's own parse of that file.

In one run, each in a fresh process:

- peer: ExportTraceServiceRequest.FromString on the whole .pb file (the first parse of the
  process, and the best of three);
- otelcli: the core of `otelcli cost FILE -f json`, cost_report(read_batches([FILE]), table):
  reading, parsing, dialect-aware usage extraction, pricing and grouping (the price table is
  loaded before the clock starts, as it is once per run); `--by model` too;
- the whole command, `python -m otelcli cost FILE -f json`, launch to exit, for reference.

Then streaming memory: the same core over OTLP/JSON Lines captures of a quarter and of the
full span count, with tracemalloc's peak (Python objects) and the process's peak RSS (all
memory, protobuf's included). Bounded means the peak does not grow with the file.
Target (DESIGN.md): the core within 2x of the parse.

    PYTHONPATH=. python bench/cost_bench.py [--spans 200000] [--runs 1] [--capture FILE]
        [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.capture import protobuf_parse_seconds, write_jsonl, write_pb  # noqa: E402
from bench.send_bench import clean_env  # noqa: E402

CORE = """
import json, resource, sys, time, tracemalloc
from otelcli.genai.pricing.cost import cost_report
from otelcli.genai.pricing.table import load_table
from otelcli.otlp.reader import read_batches

path, by, trace = sys.argv[1], sys.argv[2:-1], sys.argv[-1] == "trace"
table = load_table(None)
if trace:
    tracemalloc.start()
started = time.perf_counter()
report = cost_report(read_batches([path]), table, by=by)
seconds = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1] if trace else None
print(json.dumps({
    "seconds": seconds, "spans_seen": report.spans_seen, "llm_spans": report.total.spans,
    "groups": len(report.groups), "total_usd": format(report.total.total_usd.normalize(), "f"),
    "tracemalloc_peak": peak,
    "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
"""


def run_core(path: str, by: list[str], trace: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CORE, path, *by, "trace" if trace else "time"],
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"cost core failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_cli(path: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "otelcli", "cost", path, "-f", "json"],
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"otelcli cost failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--capture", help="an existing .pb capture instead of a fresh one")
    parser.add_argument("--no-memory", action="store_true", help="skip the JSONL memory runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otelcli-bench-") as tmp:
        path = args.capture or os.path.join(tmp, "capture.pb")
        if args.capture is None:
            write_pb(path, args.spans)
        firsts, bests, cores, by_model, clis = [], [], [], [], []
        for _ in range(args.runs):
            first, best = protobuf_parse_seconds(path)
            firsts.append(first)
            bests.append(best)
            core = run_core(path, [])
            cores.append(core["seconds"])
            by_model.append(run_core(path, ["model"])["seconds"])
            clis.append(run_cli(path))
        size = Path(path).stat().st_size
        memory = [] if args.no_memory else _memory(tmp, args.spans)
    first, best = statistics.median(firsts), statistics.median(bests)
    seconds, grouped = statistics.median(cores), statistics.median(by_model)
    spans = core["spans_seen"]
    print(
        f"capture: {spans:,} spans ({core['llm_spans']:,} LLM spans with usage), "
        f"{size / 1e6:.1f} MB protobuf; runs: {args.runs}; total ${core['total_usd']}"
    )
    print(f"{'':44}{'seconds':>9}{'spans/s':>11}{'vs 1st parse':>14}{'vs best':>9}")
    rows = [
        ("protobuf FromString, whole file, 1st parse", first),
        ("protobuf FromString, whole file, best of 3", best),
        ("otelcli cost core (cost_report)", seconds),
        ("otelcli cost core --by model", grouped),
        ("otelcli cost FILE -f json (whole command)", statistics.median(clis)),
    ]
    for label, value in rows:
        print(
            f"{label:44}{value:9.2f}{spans / value:11,.0f}{value / first:13.2f}x"
            f"{value / best:8.2f}x"
        )
    print(
        f"ratio: cost core {seconds / first:.2f}x the 1st parse, {seconds / best:.2f}x the "
        "best parse; target within 2x"
    )
    for label, result, file_size in memory:
        print(
            f"streaming {label}: {file_size / 1e6:.0f} MB JSONL, tracemalloc peak "
            f"{result['tracemalloc_peak'] / 1e6:.1f} MB, peak RSS {result['max_rss'] / 1e6:.0f} MB"
        )


def _memory(tmp: str, spans: int) -> list[tuple[str, dict[str, Any], int]]:
    out = []
    for label, count in ((f"{spans // 4:,} spans", spans // 4), (f"{spans:,} spans", spans)):
        jsonl = os.path.join(tmp, f"capture-{count}.jsonl")
        write_jsonl(jsonl, count)
        out.append((label, run_core(jsonl, [], trace=True), Path(jsonl).stat().st_size))
        os.unlink(jsonl)
    return out


if __name__ == "__main__":
    main()
