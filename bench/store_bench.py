"""store: `cost --from` a chDB trace store of N spans vs the file path and vs a bare GROUP BY.

In one run:

- the realistic 200,000-span capture (bench/capture.py: every scenario in every dialect) is
  loaded with `otelcli load` into a seed table, then copied with SQL
  (`INSERT ... SELECT ... FROM seed CROSS JOIN numbers(k)`, fresh trace and span ids and an
  hour's shift per copy) into `otel_traces` until it holds N spans;
- file path: `otelcli cost CAPTURE --by model -f json` on the 200k-span capture;
- store: `otelcli cost --from chdb:STORE --by model -f json` on the N-span table;
- validate: `otelcli validate CAPTURE -f json` on the 200k-span capture against
  `otelcli validate --from chdb:STORE -f json` (a census inside the engine) on the N spans;
- floor: the same token sums (the keys otelcli reads, first present, grouped by model) as
  one bare chDB GROUP BY, in a fresh process that imports only chdb.

Each command runs in a fresh process, timed launch to exit, its peak RSS read from a small
launcher. Printed: spans/s of each, the store's spans/s over the file path's (target >= 8x at
2M spans) and its time over the floor's (target within 1.5x), and the store process's peak
RSS at N and at N/4 (bounded: it must not grow with N).

    PYTHONPATH=. python bench/store_bench.py [--spans 2000000] [--runs 1] [--capture FILE]
        [--keep DIR]
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

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.bombs import _LAUNCH  # noqa: E402
from bench.capture import write_pb  # noqa: E402
from bench.send_bench import clean_env  # noqa: E402

SEED_SPANS = 200_000

COPY = """
import sys
from chdb import session
store, rows, copies, table, ddl = sys.argv[1:6]
s = session.Session(store)
s.query(ddl)
rows, copies = int(rows), int(copies)
s.query(f'''INSERT INTO {table}
SELECT Timestamp + toIntervalHour(number), lower(hex(MD5(concat(TraceId, toString(number))))),
  substring(lower(hex(MD5(concat(TraceId, SpanId, toString(number))))), 1, 16),
  if(ParentSpanId = '', '',
     substring(lower(hex(MD5(concat(TraceId, ParentSpanId, toString(number))))), 1, 16)),
  TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion,
  SpanAttributes, Duration, StatusCode, StatusMessage, Events.Timestamp, Events.Name,
  Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
FROM (SELECT * FROM seed LIMIT {rows}) AS seed CROSS JOIN numbers({copies}) AS copy''')
print(s.query(f"SELECT count() FROM {table}", "CSV").bytes().decode().strip())
s.close()
"""

COUNT = """
import sys
from chdb import session
s = session.Session(sys.argv[1])
print(s.query(f"SELECT count() FROM {sys.argv[2]}", "CSV").bytes().decode().strip())
s.close()
"""

FLOOR = """
import sys
from chdb import session
s = session.Session(sys.argv[1])
out = s.query(sys.argv[2], "JSONCompact").bytes()
print(len(out))
s.close()
"""


def floor_sql(table: str) -> str:
    """The token sums `cost --by model` needs, as one bare GROUP BY over the same keys."""
    from otelcli.genai.pricing.cost import (
        S_CACHE_READ,
        S_INPUT,
        S_OUTPUT,
        S_REQUEST_MODEL,
        S_RESPONSE_MODEL,
    )
    from otelcli.genai.pricing.table import load_table
    from otelcli.store.cost import StoreCost
    from otelcli.store.query import StoreSource

    cost = StoreCost(None, StoreSource.parse("chdb:/x", table), load_table(None), by=["model"])  # type: ignore[arg-type]

    def first(slot: int) -> str:
        arms = ", ".join(
            f"mapContains(SpanAttributes, '{k}'), SpanAttributes['{k}']"
            for k in cost.slot_keys[slot]
        )
        return f"multiIf({arms}, '')"

    usage = sorted({k for s in (S_INPUT, S_OUTPUT, S_CACHE_READ) for k in cost.slot_keys[s]})
    sums = ", ".join(f"sum(toUInt64OrZero({first(s)}))" for s in (S_INPUT, S_OUTPUT, S_CACHE_READ))
    model = (
        f"if({first(S_RESPONSE_MODEL)} = '', {first(S_REQUEST_MODEL)}, {first(S_RESPONSE_MODEL)})"
    )
    keys = ", ".join(f"'{k}'" for k in usage)
    return (
        f"SELECT {model} AS model, count(), {sums} FROM {table}"
        f" WHERE hasAny(mapKeys(SpanAttributes), [{keys}]) GROUP BY model"
    )


def launch(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of one fresh process."""
    env = dict(clean_env(), PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "rusage"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCH, str(report), *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - started
        code, max_kib = (int(part) for part in report.read_text().split())
    if code != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({code}):\n{done.stderr[-2000:]}")
    return wall, max_kib / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--capture", help="an existing 200k-span .pb capture")
    parser.add_argument(
        "--keep", metavar="DIR", help="build the store in DIR and keep it (reused if DIR exists)"
    )
    args = parser.parse_args()
    from otelcli.store.schema import traces_ddl

    with tempfile.TemporaryDirectory(prefix="otelcli-store-bench-") as tmp:
        capture = args.capture or os.path.join(tmp, "capture.pb")
        if args.capture is None:
            write_pb(capture, SEED_SPANS)
        store = args.keep or os.path.join(tmp, "store.chdb")
        tables = {"otel_traces": args.spans, "quarter": args.spans // 4}
        counts = {}
        loaded = generated = 0.0
        if args.keep and os.path.isdir(store):  # built by an earlier run: used as it is
            for table in tables:
                _, _, out = launch(["-c", COUNT, store, table])
                counts[table] = int(out.strip())
        else:
            loaded, _, _ = launch(
                ["-m", "otelcli", "load", capture, "--into", f"chdb:{store}", "--table", "seed",
                 "-f", "json"]
            )  # fmt: skip
            started = time.perf_counter()
            for table, spans in tables.items():
                copies = max(1, -(-spans // SEED_SPANS))
                rows = min(SEED_SPANS, spans // copies)
                _, _, out = launch(
                    ["-c", COPY, store, str(rows), str(copies), table, traces_ddl(table)]
                )
                counts[table] = int(out.strip())
            generated = time.perf_counter() - started
        floor_query = floor_sql("otel_traces")
        files, stores, floors, quarters = [], [], [], []
        file_checks, store_checks = [], []
        for _ in range(args.runs):
            files.append(launch(["-m", "otelcli", "cost", capture, "--by", "model", "-f", "json"]))
            stores.append(
                launch(["-m", "otelcli", "cost", "--from", f"chdb:{store}", "--by", "model",
                        "-f", "json"])
            )  # fmt: skip
            quarters.append(
                launch(["-m", "otelcli", "cost", "--from", f"chdb:{store}", "--table",
                        "quarter", "--by", "model", "-f", "json"])
            )  # fmt: skip
            floors.append(launch(["-c", FLOOR, store, floor_query]))
            quiet = ("-f", "json", "--fail-on", "none")
            file_checks.append(launch(["-m", "otelcli", "validate", capture, *quiet]))
            store_checks.append(
                launch(["-m", "otelcli", "validate", "--from", f"chdb:{store}", *quiet])
            )
    n = counts["otel_traces"]
    file_wall = statistics.median(w for w, _, _ in files)
    store_wall = statistics.median(w for w, _, _ in stores)
    floor_wall = statistics.median(w for w, _, _ in floors)
    report = json.loads(stores[-1][2])
    file_report = json.loads(files[-1][2])
    print(
        f"store: {n:,} spans ({report['total']['spans']:,} LLM calls, "
        f"{report['set_aside']['count']:,} set aside) "
        + (
            f"generated in {generated:.1f} s (seed loaded in {loaded:.1f} s)"
            if loaded
            else f"reused from {store}"
        )
        + f"; file: {SEED_SPANS:,} spans "
        f"({file_report['total']['spans']:,} LLM calls); runs: {args.runs}"
    )
    print(f"{'':48}{'seconds':>9}{'spans/s':>12}{'peak RSS':>11}")
    rows = [
        ("file path: otelcli cost CAPTURE --by model", file_wall, SEED_SPANS, files),
        ("store: otelcli cost --from chdb: --by model", store_wall, n, stores),
        ("floor: bare chDB GROUP BY, fresh process", floor_wall, n, floors),
    ]
    for label, wall, spans, runs in rows:
        rss = max(r for _, r, _ in runs)
        print(f"{label:48}{wall:9.2f}{spans / wall:12,.0f}{rss:9.0f} MiB")
    speedup = (n / store_wall) / (SEED_SPANS / file_wall)
    print(
        f"ratio: store {speedup:.1f}x the file path's spans/s (target >= 8x); "
        f"{store_wall / floor_wall:.2f}x the floor's time (target within 1.5x)"
    )
    file_check = statistics.median(w for w, _, _ in file_checks)
    store_check = statistics.median(w for w, _, _ in store_checks)
    census = json.loads(store_checks[-1][2])
    for label, wall, spans, runs in (
        ("file path: otelcli validate CAPTURE", file_check, SEED_SPANS, file_checks),
        ("store: otelcli validate --from chdb:", store_check, n, store_checks),
    ):
        rss = max(r for _, r, _ in runs)
        print(f"{label:48}{wall:9.2f}{spans / wall:12,.0f}{rss:9.0f} MiB")
    print(
        f"ratio: validate --from {(n / store_check) / (SEED_SPANS / file_check):.1f}x the file "
        f"path's spans/s ({census['store']['groups']:,} shape groups, "
        f"{len(census['store']['summarised_keys'])} keys summarised, "
        f"{census['summary']['findings']:,} findings)"
    )
    quarter_rss = max(r for _, r, _ in quarters)
    print(
        f"memory: otelcli cost --from peak RSS {max(r for _, r, _ in stores):.0f} MiB at "
        f"{n:,} spans, {quarter_rss:.0f} MiB at {counts['quarter']:,} spans"
    )


if __name__ == "__main__":
    main()
