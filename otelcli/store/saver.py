"""A receiving session kept in a trace store (`tail --save chdb:DIR`, `capture -o URL`).

Spans, log records and metric points are inserted as `load` writes them, into the same
tables, made on first use of a signal (store.tables), in group commits: a receiver thread
hands its batch over and waits; one flusher thread inserts everything waiting (up to
`batch_rows` rows) with one INSERT per table, and only then are the senders answered. So no
sender is told a batch is kept before it is in its table. A batch whose insert fails is
refused (HTTP 503, gRPC UNAVAILABLE) for the sender to retry, and counted as not saved (a
metrics batch spread over several tables may be in some of them already: a retry repeats
those rows, never loses any). Waiting rows are bounded (`max_pending_rows`): beyond, batches
are refused until the store catches up. Reading a file (no sender to answer), batches are
buffered and inserted every `batch_rows` rows and at the end.

The receivers hand batches over one at a time, under their delivery lock, and answer each
before taking the next: so one INSERT holds one request's batch (two with HTTP and gRPC
both busy). Coalescing more would mean answering senders outside that lock.

Every batch the receivers hand over is counted once, as saved or as not saved (also those
refused before the store is open or once it closes), so per signal the records received
add up to saved + not saved.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError, OutputError
from otelcli.otlp.signals import Batch, Signal, signal_of
from otelcli.store.rows import INSERT_ROWS
from otelcli.store.tables import ExporterTables, Row

MAX_PENDING_ROWS = 100_000
STORE_PREFIXES = ("chdb:", "clickhouse://", "clickhouses://")


def is_store_target(target: str) -> bool:
    """Whether a --save / -o target names a store rather than a file."""
    return target.startswith(STORE_PREFIXES)


@dataclass(frozen=True)
class StoreReport:
    """What a session kept in its store, and what it could not, per signal."""

    store: str  # display form, no credentials
    table: str  # the traces table
    batches: int
    saved: Counter[Signal]
    refused_batches: int  # answered 503 / UNAVAILABLE: the senders keep them
    refused: Counter[Signal]
    error: OutputError | None


@dataclass
class _Ticket:
    """One batch on its way into the store: its rows by table."""

    signal: Signal
    rows: dict[str, list[Row]]
    records: int
    done: threading.Event = field(default_factory=threading.Event)
    error: OutputError | None = None


class StoreSaver:
    """The store of a session; `keep` is the receivers' callback, `write` the --file path."""

    def __init__(
        self,
        target: str,
        table: str,
        hand_on: Callable[[Any], None],
        on_failure: Callable[[OutputError | None], None],
        *,
        batch_rows: int = INSERT_ROWS,
        max_pending_rows: int = MAX_PENDING_ROWS,
    ) -> None:
        from otelcli.store.url import parse_store_url

        self.url = parse_store_url(target)
        self.tables = ExporterTables(table)
        self.hand_on = hand_on  # a kept batch goes on to the session (view, forwarder)
        self.on_failure = on_failure  # a new failure, or None: the store takes batches again
        self.batch_rows = batch_rows
        self.max_pending_rows = max_pending_rows
        self.batches = 0
        self.saved: Counter[Signal] = Counter()
        self.refused_batches = 0
        self.refused: Counter[Signal] = Counter()
        self.failure: OutputError | None = None
        self._store: Any = None
        self._opened: Any = None  # the open_store context
        self._closing = False
        self._failing = False
        self._pending: list[_Ticket] = []
        self._pending_rows = 0
        self._buffer: list[_Ticket] = []  # --file: batches not inserted yet
        self._buffer_rows = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._flusher: threading.Thread | None = None

    # -- opening and closing --------------------------------------------------------------

    def open(self) -> None:
        """Connect (a chDB directory is created), make the traces table with the exporter's
        DDL and start the flusher. A store that cannot be opened fails as the --from
        commands fail on it (a refused password is exit 4, an unreachable server 6); one
        that cannot be written (a directory that cannot be made, a full disk) is exit 7."""
        from otelcli.store.connection import open_store

        opened = open_store(self.url, create=True)
        try:
            store = opened.__enter__()
            try:
                self.tables.make(store, Signal.TRACES)
            except BaseException:
                opened.__exit__(None, None, None)
                raise
        except OutputError as exc:
            raise self._output_error(exc) from None
        self._opened = opened
        with self._lock:
            self._store = store
        self._flusher = threading.Thread(target=self._flush_loop, name="otelcli-store", daemon=True)
        self._flusher.start()

    def close(self) -> StoreReport | None:
        """Insert what is waiting, close the store; what was kept (None if never opened)."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._flusher is not None:
            self._flusher.join()
        if self._store is None:
            return None
        if self._buffer:
            try:
                self._insert_buffer()
            except OutputError as exc:
                self.failure = exc
        self._opened.__exit__(None, None, None)
        self._store = None
        return StoreReport(
            self.url.display,
            self.tables.traces,
            self.batches,
            self.saved,
            self.refused_batches,
            self.refused,
            self.failure,
        )

    # -- receiving ------------------------------------------------------------------------

    def keep(self, batch: Batch) -> None:
        """The receivers' callback: returns once the batch's records are in their tables;
        raises ConsumerUnavailable (the sender retries) when they cannot be."""
        from otelcli.transport.receiver import ConsumerUnavailable

        ticket = self._ticket(batch)
        with self._changed:
            if self._store is None or self._closing:
                self._count_refused(ticket)
                raise ConsumerUnavailable("the store is not open (yet, or any more)")
            if self._pending_rows and self._pending_rows + ticket.records > self.max_pending_rows:
                self._count_refused(ticket)
                raise ConsumerUnavailable(f"{self.url.display} is behind (retry later)")
            self._pending.append(ticket)
            self._pending_rows += ticket.records
            self._changed.notify_all()
        ticket.done.wait()
        if ticket.error is not None:
            raise ConsumerUnavailable(f"{ticket.error.message} (retry later)")
        self.hand_on(batch)

    def write(self, batch: Batch) -> None:
        """A batch read from a file: buffered, inserted every `batch_rows` rows; OutputError
        when an insert fails (the batches buffered with it are counted as not saved)."""
        ticket = self._ticket(batch)
        self._buffer.append(ticket)
        self._buffer_rows += ticket.records
        if self._buffer_rows >= self.batch_rows:
            self._insert_buffer()

    def _ticket(self, batch: Batch) -> _Ticket:
        rows: dict[str, list[Row]] = {}
        records = 0
        for table, row in self.tables.rows(batch):
            rows.setdefault(table, []).append(row)
            records += 1
        return _Ticket(signal_of(batch), rows, records)

    # -- inserting ------------------------------------------------------------------------

    def _insert(self, tickets: list[_Ticket]) -> None:
        """One INSERT per table for all the tickets' rows; each ticket's error is that of
        the first of its tables whose insert failed (None: all its rows are in)."""
        from otelcli.store.rows import encode_rows

        rows: dict[str, list[Row]] = {}
        signals: dict[str, Signal] = {}
        for ticket in tickets:
            for table, table_rows in ticket.rows.items():
                rows.setdefault(table, []).extend(table_rows)
                signals[table] = ticket.signal
        failed: dict[str, OutputError] = {}
        for table, table_rows in rows.items():
            try:
                self.tables.make(self._store, signals[table])
                self._store.insert(table, encode_rows(table_rows))
            except OtelcliError as exc:
                failed[table] = self._output_error(exc)
        for ticket in tickets:
            ticket.error = next((failed[t] for t in ticket.rows if t in failed), None)

    def _insert_buffer(self) -> None:
        tickets = self._buffer
        self._buffer, self._buffer_rows = [], 0
        self._insert(tickets)
        self._settle(tickets, tell=False)
        error = next((t.error for t in tickets if t.error is not None), None)
        if error is not None:
            raise error

    def _flush_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._pending) or self._closing)
                if not self._pending:
                    return  # closing, and everything waiting was answered
                taken: list[_Ticket] = []
                count = 0
                while self._pending and (not taken or count < self.batch_rows):
                    ticket = self._pending.pop(0)
                    taken.append(ticket)
                    count += ticket.records
                self._pending_rows -= count
            self._insert(taken)
            self._settle(taken, tell=True)

    def _count_refused(self, ticket: _Ticket) -> None:
        self.refused_batches += 1
        self.refused[ticket.signal] += ticket.records

    def _settle(self, taken: list[_Ticket], *, tell: bool) -> None:
        """Count the tickets as saved or not, answer their senders, and tell the session
        when the store starts failing (or failing differently) or takes batches again."""
        error = next((t.error for t in taken if t.error is not None), None)
        with self._lock:
            for ticket in taken:
                if ticket.error is None:
                    self.batches += 1
                    self.saved[ticket.signal] += ticket.records
                else:
                    self._count_refused(ticket)
            if error is None:
                told = self._failing
                self._failing = False
            else:
                told = not self._failing or (
                    self.failure is not None and self.failure.message != error.message
                )
                self.failure = error
                self._failing = True
        for ticket in taken:
            ticket.done.set()
        if told and tell:
            self.on_failure(error)

    def _output_error(self, exc: OtelcliError) -> OutputError:
        message = exc.message
        if not message.startswith(self.url.display):
            message = f"{self.url.display}: {message}"
        return OutputError(f"cannot save to {message}", exc.hint, path=self.url.display)
