"""`otelcli stats`: what is in a capture."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.otlp.reader import capture_readers
from otelcli.otlp.stats import CaptureStats


@dataclass(frozen=True)
class StatsRequest:
    inputs: Sequence[str]
    top: int = 10  # span names listed


@dataclass
class StatsResult:
    top: int
    inputs: list[dict[str, Any]] = field(default_factory=list)
    totals: CaptureStats = field(default_factory=CaptureStats)
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, **self.totals.to_dict(self.top)}


def run(request: StatsRequest) -> StatsResult:
    result = StatsResult(request.top)
    for reader in capture_readers(request.inputs):
        for batch in reader:
            result.totals.add(batch)
        if reader.skipped is not None:
            result.inputs.append({"path": reader.name, "skipped": reader.skipped})
            continue
        result.inputs.append(
            {
                "path": reader.name,
                "format": reader.format.value if reader.format else None,
                "compressed": reader.compressed,
                "batches": reader.batches,
                "signals": {signal.value: count for signal, count in reader.signals.items()},
                "bytes": reader.bytes_read,
            }
        )
    return result
