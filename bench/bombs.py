"""Readers under gzip bombs: peak RSS, wall time and exit code of `otelcli stats` on each.

- pb: a plain-protobuf capture whose first top-level field claims 2^40 bytes, followed by
  zeros (about 1 GiB of them, about 1 MB gzipped);
- jsonl: one endless JSON line (3 GiB of one string, about 3 MB gzipped);
- json: the same as a pretty-printed document (its first line is no JSON value);
- lp: an empty length-prefixed record, then one that claims 2 GiB - 1 bytes, then zeros.

Each runs as `python -m otelcli stats FILE -f json` in a fresh process; the peak RSS is the
child's ru_maxrss after it exits. A bounded reader stops at MAX_ITEM_BYTES (or at the claim)
with exit 3, whatever the claim.

    PYTHONPATH=. python bench/bombs.py [--dir DIR] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

_BLOCK = 16 << 20
_FIRST_RECORD = b"\x00\x00\x00\x02\x0a\x00"  # an empty ResourceSpans: sniffed as records


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def write_bomb(path: Path, head: bytes, filler: bytes, size: int, tail: bytes = b"") -> None:
    """gzip of `head`, then `size` bytes of `filler` repeated, then `tail`.

    The filler is one gzip member compressed once and written again and again (a gzip stream
    may hold any number of members; readers see one stream), so a GiB takes a moment."""
    block = (filler * (_BLOCK // len(filler) + 1))[:_BLOCK]
    member = gzip.compress(block, compresslevel=9, mtime=0)
    with open(path, "wb") as out:
        out.write(gzip.compress(head, mtime=0))
        whole, rest = divmod(size, _BLOCK)
        for _ in range(whole):
            out.write(member)
        if rest:
            out.write(gzip.compress(block[:rest], mtime=0))
        if tail:
            out.write(gzip.compress(tail, mtime=0))


BOMBS = ("pb", "jsonl", "json", "lp")


def make_bomb(kind: str, path: Path, filler: int) -> Path:
    """One bomb of `kind` with `filler` bytes behind its claim."""
    if kind == "pb":
        write_bomb(path, b"\x0a" + _varint(1 << 40), b"\x00", filler)
    elif kind == "jsonl":
        write_bomb(path, b'{"resourceSpans":[{"x":"', b"a", filler, b'"}]}\n')
    elif kind == "json":  # a pretty-printed document: its first line is no JSON value
        write_bomb(path, b'{\n  "resourceSpans": [{"x": "', b"a", filler, b'"}]\n}\n')
    else:
        write_bomb(
            path, _FIRST_RECORD + ((1 << 31) - 1).to_bytes(4, "big") + b"\x0a", b"\x00", filler
        )
    return path


def make_bombs(directory: Path, scale: float = 1.0) -> dict[str, Path]:
    sizes = {"pb": 1 << 30, "jsonl": 3 << 30, "json": 3 << 30, "lp": 1 << 30}
    paths = {}
    for kind in BOMBS:
        path = directory / f"bomb-{kind}.gz"
        if not path.exists():
            make_bomb(kind, path, int(sizes[kind] * scale))
        paths[kind] = path
    return paths


# A small launcher forks the measured command, so its peak RSS starts from the launcher's few
# MiB: a child forked straight from a big process (pytest) inherits that process's peak.
_LAUNCH = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run(path: Path, command: str = "stats") -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MiB, first output line) of `otelcli COMMAND`."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "rusage"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", _LAUNCH, str(report), "-m", "otelcli", command, str(path),
             "-f", "json"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        code, max_kib = (int(part) for part in report.read_text().split())
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    return code, wall, max_kib / 1024, lines[0] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to keep the bombs")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the filler sizes")
    parser.add_argument("--only", choices=BOMBS, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otelcli-bombs-") as temporary:
        directory = args.dir or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        bombs = make_bombs(directory, args.scale)
        for name, path in bombs.items():
            if args.only and name != args.only:
                continue
            with gzip.open(path) as handle:
                claim = handle.read(16)
            code, wall, rss, message = run(path)
            print(
                f"{name:6} {path.stat().st_size / 1e6:6.1f} MB gz  exit {code}  "
                f"{wall:6.2f} s  peak RSS {rss:7.1f} MiB  head {claim[:6]!r}"
            )
            print(f"       {message[:160]}")


if __name__ == "__main__":
    main()
