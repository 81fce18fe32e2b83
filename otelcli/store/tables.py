"""Which of the exporter's tables each record goes to, and making them on first use: one place
for `load --into` and for a session saved to a store (`tail --save`, `capture -o`).

Spans go to the traces table (`--table`, default `otel_traces`), log records to `otel_logs`,
metric points to `otel_metrics_gauge`, `_sum`, `_histogram`, `_exponential_histogram` or
`_summary` by their kind (the exporter's default names). The traces table (with the
exporter's trace-id lookup table and view beside it) is made up front;
the logs table, and the five metrics tables together (as the exporter makes them), when the
first record of that signal is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.signals import Batch, Signal
from otelcli.store.connection import Store
from otelcli.store.rows import log_rows, metric_rows, span_rows
from otelcli.store.schema import (
    LOGS_TABLE,
    METRICS_TABLES,
    logs_ddl,
    metrics_ddl,
    trace_lookup_ddl,
    traces_ddl,
)
from otelcli.store.url import check_identifier

Row = dict[str, Any]


class ExporterTables:
    """The tables of one store, named as the exporter names them; `traces` is --table."""

    def __init__(self, traces: str) -> None:
        self.traces = check_identifier(traces)
        self._made: set[Signal] = set()

    def rows(self, batch: Batch) -> Iterator[tuple[str, Row]]:
        """(table, row) for every record of a request."""
        if isinstance(batch, ExportTraceServiceRequest):
            for row in span_rows(batch):
                yield self.traces, row
        elif isinstance(batch, ExportLogsServiceRequest):
            for row in log_rows(batch):
                yield LOGS_TABLE, row
        else:
            for kind, row in metric_rows(batch):
                yield METRICS_TABLES[kind], row

    def make(self, store: Store, signal: Signal) -> list[str]:
        """CREATE TABLE IF NOT EXISTS the signal's tables, once per signal (again after a
        failure); the names of the tables rows go to made by this call (none when they were
        made before; the trace-id lookup is the engine's to fill)."""
        if signal in self._made:
            return []
        made = []
        for name, ddl in self._ddl(signal):
            store.command(ddl)
            if name is not None:
                made.append(name)
        self._made.add(signal)
        return made

    def _ddl(self, signal: Signal) -> list[tuple[str | None, str]]:
        """(the table rows go to, or None, its statement) for each table of the signal."""
        if signal is Signal.TRACES:
            lookup = [(None, ddl) for ddl in trace_lookup_ddl(self.traces)]
            return [(self.traces, traces_ddl(self.traces)), *lookup]
        if signal is Signal.LOGS:
            return [(LOGS_TABLE, logs_ddl())]
        return [(name, metrics_ddl(kind)) for kind, name in METRICS_TABLES.items()]
