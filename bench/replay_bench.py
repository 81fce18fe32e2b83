"""replay: re-send a 200,000-span protobuf capture vs protobuf's own parse of that file.

In one run: the real CLI (`python -m otelcli replay FILE -e SINK -f json`, its own process)
sends the capture to the loopback sink (bench/sink.py, another process), and a fresh process
parses the whole file with ExportTraceServiceRequest.FromString (the peer). Replay's time
runs from its launch to the sink's acknowledgement of the last span (start-up, reading,
parsing, re-chunking and delivery included); the sink must count every span of the capture.

The capture (bench/capture.py) mixes every scenario in every dialect. Printed: replay's
spans/s and the ratio of its wall time to the parse time (both the first parse in a fresh
process and the best of three).

    PYTHONPATH=. python bench/replay_bench.py [--spans 200000] [--runs 1] [--capture FILE]
        [-- extra replay options, e.g. --new-ids --rebase-time end]
"""

from __future__ import annotations

import argparse
import json
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

from bench.capture import protobuf_parse_seconds, write_pb  # noqa: E402
from bench.send_bench import clean_env  # noqa: E402
from bench.sink import Sink  # noqa: E402


def replay_once(sink: Sink, path: str, spans: int, extra: list[str]) -> dict[str, Any]:
    sink.reset()
    argv = [sys.executable, "-m", "otelcli", "replay", path, "-e", sink.url, "-f", "json"]
    started = time.monotonic()
    done = subprocess.run([*argv, *extra], env=clean_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"replay failed ({done.returncode}):\n{done.stderr[-2000:]}")
    stats = sink.stats()
    summary = json.loads(done.stdout)
    if stats["spans"] != spans or stats["bad_requests"] or not summary.get("adds_up"):
        raise SystemExit(
            f"the sink counted {stats['spans']:,} spans ({stats['bad_requests']} bad requests) "
            f"of {spans:,}; replay's summary adds up: {summary.get('adds_up')}"
        )
    seconds = stats["last_s"] - started
    return {
        "seconds": seconds,
        "steady": stats["last_s"] - stats["first_s"],
        "requests": stats["requests"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--capture", help="an existing .pb capture instead of a fresh one")
    parser.add_argument("extra", nargs="*", help="options passed on to otelcli replay")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otelcli-bench-") as tmp:
        path = args.capture or str(Path(tmp) / "capture.pb")
        if args.capture is None:
            write_pb(path, args.spans)
        spans = _count(path)
        replays, firsts, bests = [], [], []
        with Sink() as sink:
            for _ in range(args.runs):
                first, best = protobuf_parse_seconds(path)
                firsts.append(first)
                bests.append(best)
                replays.append(replay_once(sink, path, spans, args.extra))
        size = Path(path).stat().st_size
    seconds = statistics.median(r["seconds"] for r in replays)
    steady = statistics.median(r["steady"] for r in replays)
    first, best = statistics.median(firsts), statistics.median(bests)
    print(f"capture: {spans:,} spans, {size / 1e6:.1f} MB protobuf; runs: {args.runs}")
    print(f"{'':44}{'seconds':>9}{'spans/s':>11}")
    print(f"{'protobuf FromString, whole file, 1st parse':44}{first:9.2f}{spans / first:11,.0f}")
    print(f"{'protobuf FromString, whole file, best of 3':44}{best:9.2f}{spans / best:11,.0f}")
    label = "otelcli replay " + " ".join(args.extra) if args.extra else "otelcli replay"
    print(f"{label + ' (launch to last ack)':44}{seconds:9.2f}{spans / seconds:11,.0f}")
    print(f"{'  first request to last ack':44}{steady:9.2f}{spans / steady:11,.0f}")
    print(f"  ({replays[-1]['requests']:,} requests; every span counted by the sink)")
    print(
        f"ratio: replay takes {seconds / first:.2f}x the 1st parse, "
        f"{seconds / best:.2f}x the best parse"
    )


def _count(path: str) -> int:
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.spans import count_spans

    return sum(count_spans(batch) for batch in read_batches([path]))


if __name__ == "__main__":
    main()
