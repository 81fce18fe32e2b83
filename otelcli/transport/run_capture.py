"""Run a command with its OTLP exporters pointed at a loopback receiver, streaming what it sends.

    result = run_with_receiver(["python", "app.py"], on_batch=validator.check_batch)

The receiver (shared with `tail`) listens on 127.0.0.1 on a free port; the command gets
OTEL_EXPORTER_OTLP_ENDPOINT (and the per-signal endpoints), OTEL_EXPORTER_OTLP_PROTOCOL=
http/protobuf and OTEL_TRACES_EXPORTER=otlp. With grpcio installed an OTLP/gRPC receiver
listens too, on another free port, which the command gets as OTELCLI_GRPC_ENDPOINT (for
exporters fixed to gRPC). Batches are handed to `on_batch` on the calling
thread while the command runs. After it exits, batches still in flight get a grace period:
collection ends once nothing arrived for `quiet_s`, or after `grace_s` at most.
"""

from __future__ import annotations

import queue
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )


@dataclass
class RunResult:
    argv: list[str]
    exit_code: int
    batches: int = 0
    spans: int = 0
    url: str = ""
    receiver: dict[str, Any] = field(default_factory=dict)
    grpc_url: str | None = None
    grpc_receiver: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "argv": self.argv,
            "exit_code": self.exit_code,
            "batches": self.batches,
            "spans": self.spans,
            "endpoint": self.url,
            "receiver": self.receiver,
            "grpc_endpoint": self.grpc_url,
            "grpc_receiver": self.grpc_receiver,
        }


def run_with_receiver(
    command: Sequence[str],
    on_batch: Callable[[ExportTraceServiceRequest], None],
    *,
    grace_s: float = 3.0,
    quiet_s: float = 0.3,
    grpc: bool | None = None,
) -> RunResult:
    """Run `command`; `grpc` None starts the gRPC receiver when grpcio is installed."""
    from otelcli.transport.grpc_receiver import GrpcReceiver, grpc_available
    from otelcli.transport.receiver import Receiver, start_command

    batches: queue.SimpleQueue[ExportTraceServiceRequest] = queue.SimpleQueue()

    def deliver(batch: ExportTraceServiceRequest) -> None:
        batches.put(batch)

    result = RunResult(argv=list(command), exit_code=0)
    grpc_receiver = None
    with ExitStack() as running:
        receiver = running.enter_context(Receiver("127.0.0.1", 0, on_traces=deliver))
        if grpc or (grpc is None and grpc_available()):
            grpc_receiver = running.enter_context(GrpcReceiver("127.0.0.1", 0, on_traces=deliver))
            result.grpc_url = grpc_receiver.url
        result.url = receiver.url
        grpc_env = {"OTELCLI_GRPC_ENDPOINT": result.grpc_url} if result.grpc_url else {}
        child = start_command(command, receiver.url, extra_env=grpc_env)
        try:
            while child.poll() is None:
                _drain(batches, on_batch, result, wait_s=0.05)
        except BaseException:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
            raise
        result.exit_code = child.returncode
        # Exporters flush at shutdown, but a request may still be on its way.
        deadline = time.monotonic() + grace_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if _drain(batches, on_batch, result, wait_s=0.05):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                break
    _drain(batches, on_batch, result, wait_s=0)
    result.receiver = receiver.stats.to_dict()
    if grpc_receiver is not None:
        result.grpc_receiver = grpc_receiver.stats.to_dict()
    return result


def _drain(
    batches: queue.SimpleQueue[ExportTraceServiceRequest],
    on_batch: Callable[[ExportTraceServiceRequest], None],
    result: RunResult,
    wait_s: float,
) -> bool:
    """Hand over every queued batch; True when there was at least one."""
    got = False
    while True:
        try:
            batch = batches.get(timeout=wait_s) if wait_s and not got else batches.get_nowait()
        except queue.Empty:
            return got
        got = True
        result.batches += 1
        result.spans += sum(len(ss.spans) for rs in batch.resource_spans for ss in rs.scope_spans)
        on_batch(batch)
