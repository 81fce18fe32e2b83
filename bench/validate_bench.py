"""validate over a 200,000-span protobuf capture, against protobuf alone parsing the file.

    python bench/validate_bench.py [--spans 200000] [--jsonl-spans 50000]

1. Writes a realistic GenAI capture (agent, RAG, chat, streaming, error, embeddings and
   Gemini traces; chat and Gemini with message content) to a temporary directory.
2. Times `ExportTraceServiceRequest.FromString` of the whole file (the peer) and the validate
   core over the same file (streaming read + every check), and prints both and the ratio.
3. Streams JSON Lines captures of N and 4N spans through the validate core, each in a fresh
   process, and prints peak memory: streaming keeps it flat in the capture size (what grows is
   one id per span, for the duplicate and orphan checks).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MIX = [
    ("agent", False),
    ("rag", False),
    ("chat", True),
    ("stream", False),
    ("error", False),
    ("embeddings", False),
    ("gemini", True),
]


def write_capture(path: Path, spans: int, fmt: str | None = None) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.scenarios.build import scenario_template
    from otelcli.otlp.spans import count_spans
    from otelcli.otlp.writer import open_writer

    templates = [scenario_template(name, seed=i, content=c) for i, (name, c) in enumerate(MIX)]
    written = 0
    with open_writer(str(path), fmt) as writer:
        index = 0
        while written < spans:
            data = templates[index % len(templates)].batch(100)
            if writer.format.value == "pb":
                writer.write_bytes(data)
                written += count_spans(ExportTraceServiceRequest.FromString(data))
            else:
                batch = ExportTraceServiceRequest.FromString(data)
                writer.write(batch)
                written += count_spans(batch)
            index += 1
    return written


def validate_file(path: str) -> tuple[int, dict[str, int]]:
    from otelcli.genai.semconv.findings import ValidationReport
    from otelcli.genai.semconv.policy import Policy
    from otelcli.genai.semconv.rules import load_rules
    from otelcli.genai.semconv.validate import Validator
    from otelcli.otlp.reader import read_batches

    policy = Policy()
    report = ValidationReport(level_for=policy.level_for)
    Validator(load_rules(), report).check_batches(read_batches([path]))
    return report.spans, report.level_counts()


def time_peer(path: Path) -> float:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    data = path.read_bytes()
    gc.collect()
    start = time.perf_counter()
    request = ExportTraceServiceRequest.FromString(data)
    elapsed = time.perf_counter() - start
    del request
    return elapsed


def time_validate(path: Path) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    spans, _ = validate_file(str(path))
    return time.perf_counter() - start, spans


def time_read_attributes(path: Path) -> float:
    """The floor under any check: stream the file and convert every span's attributes."""
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.spans import iter_spans

    gc.collect()
    start = time.perf_counter()
    for batch in read_batches([str(path)]):
        for view in iter_spans(batch):
            view.attributes  # noqa: B018 - the conversion is what is timed
    return time.perf_counter() - start


def _peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so
    a child started from a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_memory_mib(path: Path) -> float:
    """Peak RSS of a fresh process that validates `path` (streaming)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from bench.validate_bench import validate_file, _peak_rss_kib; validate_file(sys.argv[1]);"
        "print(_peak_rss_kib())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(REPO)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--jsonl-spans", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otelcli-bench-") as tmp:
        capture = Path(tmp) / "capture.pb"
        spans = write_capture(capture, args.spans)
        size = capture.stat().st_size
        print(f"capture: {spans:,} spans, {size / 1e6:.1f} MB protobuf")
        peer = min(time_peer(capture) for _ in range(args.repeat))
        floor = min(time_read_attributes(capture) for _ in range(args.repeat))
        ours = min(time_validate(capture)[0] for _ in range(args.repeat))
        print(f"protobuf FromString (peer): {peer:.3f} s  ({spans / peer:,.0f} spans/s)")
        print(f"otelcli validate core:      {ours:.3f} s  ({spans / ours:,.0f} spans/s)")
        print(f"read + span attributes:     {floor:.3f} s  (no checks: {floor / peer:.2f}x parse)")
        print(f"ratio validate / parse:     {ours / peer:.2f}x  (target: within 2x)")

        small, large = Path(tmp) / "small.jsonl", Path(tmp) / "large.jsonl"
        n_small = write_capture(small, args.jsonl_spans)
        n_large = write_capture(large, args.jsonl_spans * 4)
        mem_small, mem_large = peak_memory_mib(small), peak_memory_mib(large)
        print(
            f"JSONL peak RSS: {n_small:,} spans ({small.stat().st_size / 1e6:.0f} MB) "
            f"-> {mem_small:.0f} MiB; {n_large:,} spans ({large.stat().st_size / 1e6:.0f} MB) "
            f"-> {mem_large:.0f} MiB"
        )


if __name__ == "__main__":
    main()
