"""store.tables: the exporter's tables are made once per signal, under the exporter's names
(the traces table under --table, its trace-id lookup beside it), and made again after a
failure."""

from __future__ import annotations

from typing import cast

import pytest

from otelcli.errors import OtelcliError
from otelcli.otlp.signals import Signal
from otelcli.store.connection import Store
from otelcli.store.schema import METRICS_TABLES
from otelcli.store.tables import ExporterTables
from tests.conftest import make_request


class RecordingStore:
    """Takes DDL and keeps the table names; fails the next `fail` statements."""

    def __init__(self, fail: int = 0) -> None:
        self.made: list[str] = []
        self.fail = fail

    def command(self, sql: str) -> None:
        if self.fail:
            self.fail -= 1
            raise OtelcliError("Code: 243. not enough space")
        words = sql.split()
        assert words[:2] == ["CREATE", "TABLE"] or words[:3] == ["CREATE", "MATERIALIZED", "VIEW"]
        assert "IF NOT EXISTS" in sql
        self.made.append(words[words.index("EXISTS") + 1])

    @property
    def store(self) -> Store:
        return cast(Store, self)  # only `command` is used to make tables


def test_each_signal_makes_its_tables_once() -> None:
    tables, recording = ExporterTables("llm_spans"), RecordingStore()
    store = recording.store
    assert tables.make(store, Signal.TRACES) == ["llm_spans"]  # the tables rows go to
    assert tables.make(store, Signal.LOGS) == ["otel_logs"]
    assert tables.make(store, Signal.METRICS) == list(METRICS_TABLES.values())
    for signal in Signal:
        assert tables.make(store, signal) == []
    lookup = ["llm_spans_trace_id_ts", "llm_spans_trace_id_ts_mv"]  # the exporter's, beside
    assert recording.made == ["llm_spans", *lookup, "otel_logs", *METRICS_TABLES.values()]


def test_a_failed_make_is_tried_again() -> None:
    tables, store = ExporterTables("otel_traces"), RecordingStore(fail=1).store
    with pytest.raises(OtelcliError):
        tables.make(store, Signal.LOGS)
    assert tables.make(store, Signal.LOGS) == ["otel_logs"]


def test_spans_go_to_the_traces_table_named_by_table() -> None:
    rows = list(ExporterTables("llm_spans").rows(make_request(3)))
    assert [table for table, _ in rows] == ["llm_spans"] * 3
