"""`otelcli portkey`: captured Portkey requests (HAR, raw HTTP, curl, JSONL, Portkey logs) to
OTLP trace trees with Portkey's own ids, written to a file, sent, or both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from otelcli.errors import InvalidInputError, OtelcliError
from otelcli.portkey.build import BuildOptions, BuildResult, build
from otelcli.portkey.inputs import read_inputs
from otelcli.transport.delivery import Outgoing, Stop
from otelcli.transport.sink import SinkReport, SinkTarget, drain


@dataclass(frozen=True)
class PortkeyRequest:
    inputs: Sequence[str]
    build: BuildOptions
    sink: SinkTarget  # file, endpoint, both, or neither (a preview)


@dataclass
class PortkeyResult:
    built: BuildResult
    sink: SinkReport
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {"summary": self.built.summary.to_dict()}
        written = self.sink.file
        if written is not None:
            report["output"] = {
                "path": written.path,
                "format": written.format,
                "compressed": written.compressed,
                "batches": written.batches,
                "bytes": written.bytes,
            }
        delivery = self.sink.delivery
        if delivery is not None:
            report["export"] = {
                "endpoint": self.sink.endpoint,
                "spans": delivery.offered,
                "accepted": delivery.accepted,
                "rejected": delivery.rejected,
                "failed": delivery.failed,
                "unknown": delivery.unknown,
                "not_sent": delivery.not_sent,
                "dead_lettered": delivery.dead_lettered,
                "unsent_file": self.sink.dead_letter if self.sink.unsent_file else None,
                "signal": delivery.signal,
                "messages": list(delivery.messages),
                "error": self.error.to_dict() if self.error else None,
            }
        return report


def run(request: PortkeyRequest, stop: Stop | None = None) -> PortkeyResult:
    built = build(read_inputs(request.inputs), request.build)
    summary = built.summary
    if summary.spans_made == 0:
        reasons = "; ".join(f"{n.source}: {n.message}" for n in summary.skipped[:3])
        raise InvalidInputError(
            f"no spans made from {summary.records_read} record(s)",
            hint=reasons or "the inputs hold no requests",
        )
    if request.sink.empty:
        return PortkeyResult(built, SinkReport())
    sink = drain((Outgoing.of(batch) for batch in built.batches), request.sink, stop=stop)
    return PortkeyResult(built, sink, sink.error)
