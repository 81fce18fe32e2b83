"""receiver: a good request's latency while hostile bodies are being processed, vs idle.

One OTLP/HTTP Receiver (in this process, as `otelcli tail` runs it); a client posts small
valid batches one after another on its own keep-alive connection and times each round trip:

- idle: nothing else is sent.
- many-member: other threads keep posting a 4 MiB gzip body of ~200,000 empty members
  (before the fix: ~11 s of event-loop time each, stalling every connection).
- heavy: other threads keep posting a 4 MiB gzip body of 1,000 members (the cap) that is a
  valid export: decompressed, decoded and delivered in full, on a worker thread.

Printed: the good request's median and worst latency in each phase, each phase's ratio to
idle, and how long the hostile requests took and what they got. Target: the good request's
worst latency under attack < 1 s.

    PYTHONPATH=. python bench/receiver_bench.py [--requests 200] [--attackers 2]
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
)

from otelcli.transport.receiver import Receiver  # noqa: E402

PB = {"content-type": "application/x-protobuf"}
GZ = {**PB, "content-encoding": "gzip"}


def _good_body() -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    for i in range(5):
        span = spans.spans.add()
        span.trace_id, span.span_id, span.name = b"\x01" * 16, bytes([i + 1]) * 8, f"chat {i}"
    return request.SerializeToString()


def _many_member_body() -> bytes:
    return gzip.compress(b"", mtime=0) * ((4 << 20) // 20)  # ~200k members of 20 bytes


def _heavy_body() -> bytes:
    # Concatenated protobuf messages merge, so 1,000 gzip members of one export each are a
    # valid ExportTraceServiceRequest of 1,000 exports' spans.
    noise = random.Random(1)
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    for i in range(4):
        span = spans.spans.add()
        span.trace_id, span.span_id = b"\x02" * 16, i.to_bytes(8, "big")
        span.name = f"tool {i}"
        attribute = span.attributes.add()
        attribute.key = "payload"
        attribute.value.string_value = noise.randbytes(1000).hex()  # ~4 KiB per member
    member = gzip.compress(request.SerializeToString(), compresslevel=1, mtime=0)
    return member * min(1000, (4 << 20) // len(member))


def _latencies(url: str, body: bytes, count: int) -> list[float]:
    out = []
    with httpx.Client(timeout=120) as client:
        for _ in range(count):
            start = time.perf_counter()
            response = client.post(url, content=body, headers=PB)
            out.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
    return out


@dataclass
class Phase:
    median: float
    worst: float
    hostile: float | None  # the hostile requests' median time
    statuses: dict[int, int]


def _phase(receiver: Receiver, hostile: bytes | None, args: argparse.Namespace) -> Phase:
    stop = threading.Event()
    hostile_times: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    started = threading.Barrier(args.attackers + 1) if hostile is not None else None

    def attack() -> None:
        assert hostile is not None and started is not None
        with httpx.Client(timeout=120) as client:
            started.wait()
            while not stop.is_set():
                begin = time.perf_counter()
                status = client.post(receiver.traces_url, content=hostile, headers=GZ).status_code
                with lock:
                    hostile_times.append(time.perf_counter() - begin)
                    statuses[status] = statuses.get(status, 0) + 1

    attackers = [threading.Thread(target=attack) for _ in range(args.attackers if hostile else 0)]
    for thread in attackers:
        thread.start()
    if started is not None:
        started.wait()
    latencies = _latencies(receiver.traces_url, _good_body(), args.requests)
    stop.set()
    for thread in attackers:
        thread.join()
    return Phase(
        statistics.median(latencies),
        max(latencies),
        statistics.median(hostile_times) if hostile_times else None,
        statuses,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="good requests per phase")
    parser.add_argument("--attackers", type=int, default=2, help="hostile senders at once")
    args = parser.parse_args()

    many, heavy = _many_member_body(), _heavy_body()
    print(f"many-member body: {len(many) >> 10} KiB; heavy body: {len(heavy) >> 10} KiB")
    with Receiver("127.0.0.1", 0, max_body_bytes=64 << 20) as receiver:
        _latencies(receiver.traces_url, _good_body(), 20)  # warm up
        idle = _phase(receiver, None, args)
        phases: dict[str, Phase] = {"idle": idle}
        phases["many-member"] = _phase(receiver, many, args)
        phases["heavy"] = _phase(receiver, heavy, args)
    print(f"{'phase':<12} {'median ms':>10} {'worst ms':>10} {'x idle':>8}  hostile requests")
    for name, phase in phases.items():
        detail = "-"
        if phase.hostile is not None:
            detail = f"median {phase.hostile * 1000:.0f} ms, statuses {phase.statuses}"
        print(
            f"{name:<12} {phase.median * 1000:>10.2f} {phase.worst * 1000:>10.1f} "
            f"{phase.median / idle.median:>8.1f}  {detail}"
        )
    worst = max(phases[name].worst for name in ("many-member", "heavy"))
    print(f"worst good latency under attack: {worst:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
