"""Start-up: `otelcli --version` and a TAB completion request vs `python -c "import typer"`.

Target (DESIGN.md): within 1.2x of the peer. Runs the three cases round-robin so background load
hits them alike, and reports medians of wall time and the minimum child CPU time.

    python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    "import typer (peer)": ([sys.executable, "-c", "import typer"], {}),
    "otelcli --version": ([sys.executable, "-m", "otelcli", "--version"], {}),
    "otelcli TAB completion": (
        [sys.executable, "-c", "from otelcli.cli import main; main()"],
        {"_OTELCLI_COMPLETE": "complete_bash", "COMP_WORDS": "otelcli st", "COMP_CWORD": "1"},
    ),
}


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    for argv, env in CASES.values():  # warm the file cache
        run_once(argv, env)
    for _ in range(args.runs):
        for name, (argv, env) in CASES.items():
            wall, cpu = run_once(argv, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    peer = "import typer (peer)"
    peer_wall, peer_cpu = statistics.median(walls[peer]), min(cpus[peer])
    print(
        f"{'case':28} {'wall median':>12} {'cpu min':>9} {'ratio (wall)':>13} {'ratio (cpu)':>12}"
    )
    for name in CASES:
        wall, cpu = statistics.median(walls[name]), min(cpus[name])
        print(
            f"{name:28} {wall * 1e3:10.1f}ms {cpu * 1e3:7.1f}ms "
            f"{wall / peer_wall:12.2f}x {cpu / peer_cpu:11.2f}x"
        )
    print("target: otelcli within 1.20x of the peer")


if __name__ == "__main__":
    main()
