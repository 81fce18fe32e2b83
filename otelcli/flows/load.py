"""`otelcli load`: captures into a ClickHouse trace store, as the Collector's exporter writes them.

Each signal goes to the exporter's table for it, made on first use (store.tables).

Rows are inserted in batches per table; a record counts as inserted only once its batch is
stored. When a batch fails, its records are refused with the reason and the load stops there,
so for every signal read = inserted + refused. A stop (Ctrl-C, SIGTERM through
transport.delivery.stop_on_signals) ends reading after the current request; what was read is
inserted, and the run ends with 130/143 and its counts.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.otlp.reader import capture_readers
from otelcli.otlp.signals import Signal, Unused, signal_of
from otelcli.store.connection import Store, open_store
from otelcli.store.rows import INSERT_ROWS, encode_rows
from otelcli.store.tables import ExporterTables
from otelcli.store.url import DEFAULT_TABLE, parse_store_url
from otelcli.transport.delivery import Stop


@dataclass(frozen=True)
class LoadRequest:
    inputs: Sequence[str]
    into: str
    table: str = DEFAULT_TABLE  # the traces table; logs and metrics keep the exporter's names
    batch_rows: int = INSERT_ROWS
    # (bytes read so far, total bytes or None, records of every signal inserted so far)
    on_progress: Callable[[int, int | None, int], None] | None = None
    stop: Stop | None = None


@dataclass
class LoadResult:
    store: str
    table: str
    read: Counter[Signal] = field(default_factory=Counter)
    stored: Counter[Signal] = field(default_factory=Counter)
    refused: dict[str, int] = field(default_factory=dict)  # reason -> records
    refused_by: Counter[Signal] = field(default_factory=Counter)
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    inputs: list[dict[str, Any]] = field(default_factory=list)
    error: OtelcliError | None = None
    unused: Unused = field(default_factory=Unused)  # files in folders that are no capture

    @property
    def spans_read(self) -> int:
        return self.read[Signal.TRACES]

    @property
    def inserted(self) -> int:
        """Spans inserted."""
        return self.stored[Signal.TRACES]

    def refuse(self, signal: Signal, reason: str, count: int) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + count
        self.refused_by[signal] += count

    def to_dict(self) -> dict[str, Any]:
        return {
            "not_used": self.unused.to_dict(),
            "store": self.store,
            "table": self.table,
            "spans_read": self.spans_read,
            "inserted": self.inserted,
            "log_records_read": self.read[Signal.LOGS],
            "log_records_inserted": self.stored[Signal.LOGS],
            "data_points_read": self.read[Signal.METRICS],
            "data_points_inserted": self.stored[Signal.METRICS],
            "tables": dict(self.tables),
            "refused": {
                "count": sum(self.refused.values()),
                "spans": self.refused_by[Signal.TRACES],
                "log_records": self.refused_by[Signal.LOGS],
                "data_points": self.refused_by[Signal.METRICS],
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
    tables = ExporterTables(request.table)
    result = LoadResult(url.display, tables.traces)
    with open_store(url, create=True) as store:
        for name in tables.make(store, Signal.TRACES):
            result.tables[name] = 0
        _Loader(store, tables, request, result).run()
    return result


@dataclass
class _Pending:
    signal: Signal
    rows: list[dict[str, Any]] = field(default_factory=list)


class _Loader:
    def __init__(
        self, store: Store, tables: ExporterTables, request: LoadRequest, result: LoadResult
    ):
        self.store, self.request, self.result = store, request, result
        self.tables = tables
        self.pending: dict[str, _Pending] = {}
        self.done_bytes = 0

    def flush(self, table: str) -> None:
        pending = self.pending.get(table)
        if pending is None or not pending.rows:
            return
        count = len(pending.rows)
        try:
            for name in self.tables.make(self.store, pending.signal):
                self.result.tables[name] = 0
            self.store.insert(table, encode_rows(pending.rows))
        except OtelcliError as error:
            self.result.refuse(pending.signal, f"insert failed: {error.message}", count)
            pending.rows.clear()
            raise
        self.result.stored[pending.signal] += count
        self.result.tables[table] += count
        pending.rows.clear()

    def _progress(self, reader_bytes: int, total: int | None) -> None:
        if self.request.on_progress is not None:
            inserted = sum(self.result.stored.values())
            self.request.on_progress(self.done_bytes + reader_bytes, total, inserted)

    def run(self) -> None:
        request, result = self.request, self.result
        stop = request.stop
        total = _total_bytes(request.inputs)
        try:
            for reader in capture_readers(request.inputs, unused=result.unused):
                for batch in reader:
                    if stop is not None and stop.requested:
                        break
                    signal = signal_of(batch)
                    for table, row in self.tables.rows(batch):
                        result.read[signal] += 1
                        pending = self.pending.setdefault(table, _Pending(signal))
                        pending.rows.append(row)
                        if len(pending.rows) >= request.batch_rows:
                            self.flush(table)
                            self._progress(reader.bytes_read, total)
                for table in list(self.pending):
                    self.flush(table)
                self.done_bytes += reader.bytes_read
                if reader.skipped is None:
                    result.inputs.append({"path": reader.name, "bytes": reader.bytes_read})
                self._progress(0, total)
                if stop is not None and stop.requested:
                    raise stop.error(f"stopped reading after {self._read_text()}")
        except OtelcliError as error:
            # what was read but not yet stored is refused, never counted as kept
            for pending in self.pending.values():
                if pending.rows:
                    reason = f"not inserted: {error.message}"
                    result.refuse(pending.signal, reason, len(pending.rows))
                    pending.rows.clear()
            result.error = error

    def _read_text(self) -> str:
        read = self.result.read
        parts = [f"{read[Signal.TRACES]:,} spans"]
        parts += [f"{read[s]:,} {s.records}" for s in (Signal.LOGS, Signal.METRICS) if read[s]]
        return ", ".join(parts)
