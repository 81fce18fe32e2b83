"""`otelcli load`: captures into a ClickHouse trace store, as the Collector's exporter writes them.

Spans are inserted in batches; a span counts as inserted only once its batch is stored. When
a batch fails, its spans are refused with the reason and the load stops there, so
read = inserted + refused always holds. A stop (Ctrl-C, SIGTERM through
transport.delivery.stop_on_signals) ends reading after the current batch; what was read is
inserted, and the run ends with 130/143 and its counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import OtelcliError
from otelcli.otlp.reader import CaptureReader
from otelcli.otlp.signals import Unused, only
from otelcli.store.connection import Store, open_store
from otelcli.store.rows import encode_rows, span_rows
from otelcli.store.schema import traces_ddl
from otelcli.store.url import DEFAULT_TABLE, check_identifier, parse_store_url
from otelcli.transport.delivery import Stop

BATCH_ROWS = 20_000


@dataclass(frozen=True)
class LoadRequest:
    inputs: Sequence[str]
    into: str
    table: str = DEFAULT_TABLE
    batch_rows: int = BATCH_ROWS
    # (bytes read so far, total bytes or None, spans inserted so far)
    on_progress: Callable[[int, int | None, int], None] | None = None
    stop: Stop | None = None


@dataclass
class LoadResult:
    store: str
    table: str
    spans_read: int = 0
    inserted: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    error: OtelcliError | None = None
    unused: Unused = field(default_factory=Unused)  # logs and metrics: the table holds spans

    def to_dict(self) -> dict[str, Any]:
        return {
            "not_used": self.unused.to_dict(),
            "store": self.store,
            "table": self.table,
            "spans_read": self.spans_read,
            "inserted": self.inserted,
            "refused": {
                "count": sum(self.refused.values()),
                "reasons": dict(sorted(self.refused.items())),
            },
            "inputs": self.inputs,
            "error": None if self.error is None else self.error.to_dict(),
        }


def _total_bytes(paths: Sequence[str]) -> int | None:
    total = 0
    for path in paths:
        if path == "-" or not os.path.isfile(path):
            return None
        total += os.path.getsize(path)
    return total


def load(request: LoadRequest) -> LoadResult:
    url = parse_store_url(request.into)
    table = check_identifier(request.table)
    result = LoadResult(url.display, table)
    with open_store(url, create=True) as store:
        store.command(traces_ddl(table))
        _load_into(store, table, request, result)
    return result


def _load_into(store: Store, table: str, request: LoadRequest, result: LoadResult) -> None:
    total = _total_bytes(request.inputs)
    done_bytes = 0
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if not pending:
            return
        count = len(pending)
        try:
            store.insert(table, encode_rows(pending))
        except OtelcliError as error:
            result.refused[f"insert failed: {error.message}"] = count
            pending.clear()
            raise
        result.inserted += count
        pending.clear()

    try:
        for path in request.inputs:
            reader = CaptureReader(path)
            for batch in only(ExportTraceServiceRequest, reader, result.unused):
                if request.stop is not None and request.stop.requested:
                    break
                for row in span_rows(batch):
                    result.spans_read += 1
                    pending.append(row)
                    if len(pending) >= request.batch_rows:
                        flush()
                        if request.on_progress is not None:
                            request.on_progress(
                                done_bytes + reader.bytes_read, total, result.inserted
                            )
            flush()
            done_bytes += reader.bytes_read
            result.inputs.append({"path": reader.name, "bytes": reader.bytes_read})
            if request.on_progress is not None:
                request.on_progress(done_bytes, total, result.inserted)
            if request.stop is not None and request.stop.requested:
                raise request.stop.error(f"stopped reading after {result.spans_read:,} spans")
    except OtelcliError as error:
        # what was read but not yet stored is refused, never counted as kept
        if pending:
            result.refused[f"not inserted: {error.message}"] = len(pending)
            pending.clear()
        result.error = error
