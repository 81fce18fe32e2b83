"""A receiving session kept in a trace store (`tail --save chdb:DIR`, `capture -o URL`).

Spans are inserted as the Collector's exporter writes them (store.rows, store.schema), in
group commits: a receiver thread hands its batch over and waits; one flusher thread inserts
everything waiting (up to `batch_rows` rows) in one INSERT, and only then are the senders
answered. So no sender is told a batch is kept before it is in the table (an insert takes
one batch as long as the receivers hand batches over one at a time, under their lock): a
batch whose insert fails is refused (HTTP 503, gRPC UNAVAILABLE) for the sender to retry,
and counted as not saved. Waiting rows are bounded (`max_pending_rows`): beyond, batches
are refused until the store catches up. Reading a file (no sender to answer), rows are
buffered and inserted every `batch_rows` and at the end.

Logs and metrics are not kept in a store yet: they are counted (and still shown and
forwarded), never inserted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError, OutputError
from otelcli.store.rows import INSERT_ROWS

MAX_PENDING_ROWS = 100_000
STORE_PREFIXES = ("chdb:", "clickhouse://", "clickhouses://")


def is_store_target(target: str) -> bool:
    """Whether a --save / -o target names a store rather than a file."""
    return target.startswith(STORE_PREFIXES)


@dataclass(frozen=True)
class StoreReport:
    """What a session kept in its store, and what it could not."""

    store: str  # display form, no credentials
    table: str
    batches: int
    spans: int
    refused_batches: int  # answered 503 / UNAVAILABLE: the senders keep them
    refused_spans: int
    error: OutputError | None


@dataclass
class _Ticket:
    rows: list[dict[str, Any]]
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
        from otelcli.store.url import check_identifier, parse_store_url

        self.url = parse_store_url(target)
        self.table = check_identifier(table)
        self.hand_on = hand_on  # a kept batch goes on to the session (view, forwarder)
        self.on_failure = on_failure  # a new failure, or None: the store takes batches again
        self.batch_rows = batch_rows
        self.max_pending_rows = max_pending_rows
        self.batches = 0
        self.spans = 0
        self.refused_batches = 0
        self.refused_spans = 0
        self.failure: OutputError | None = None
        self._store: Any = None
        self._opened: Any = None  # the open_store context
        self._closing = False
        self._failing = False
        self._pending: list[_Ticket] = []
        self._pending_rows = 0
        self._buffer: list[dict[str, Any]] = []  # --file: rows not inserted yet
        self._buffer_batches = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._flusher: threading.Thread | None = None

    # -- opening and closing --------------------------------------------------------------

    def open(self) -> None:
        """Connect (a chDB directory is created), create the table with the exporter's DDL and
        start the flusher. A store that cannot be opened is an OutputError (exit 7)."""
        from otelcli.store.connection import open_store
        from otelcli.store.schema import traces_ddl

        opened = open_store(self.url, create=True)
        try:
            store = opened.__enter__()
        except OtelcliError as exc:
            raise self._output_error(exc) from None
        except OSError as exc:  # a chDB directory that cannot be made
            raise OutputError(
                f"cannot save to {self.url.display}: {exc.strerror or exc}",
                "pick a directory you can write",
                path=self.url.display,
            ) from None
        try:
            store.command(traces_ddl(self.table))
        except OtelcliError as exc:
            opened.__exit__(None, None, None)
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
            self.table,
            self.batches,
            self.spans,
            self.refused_batches,
            self.refused_spans,
            self.failure,
        )

    # -- receiving ------------------------------------------------------------------------

    def keep(self, batch: Any) -> None:
        """The receivers' callback: returns once the batch's spans are in the table; raises
        ConsumerUnavailable (the sender retries) when they cannot be."""
        from otelcli.store.rows import span_rows
        from otelcli.transport.receiver import ConsumerUnavailable

        if not _is_spans(batch):  # logs and metrics: no table for them yet
            self.hand_on(batch)
            return
        ticket = _Ticket(list(span_rows(batch)))
        with self._changed:
            if self._store is None or self._closing:
                raise ConsumerUnavailable("the store is not open (yet, or any more)")
            if self._pending_rows and self._pending_rows + len(ticket.rows) > self.max_pending_rows:
                self.refused_batches += 1
                self.refused_spans += len(ticket.rows)
                raise ConsumerUnavailable(f"{self.url.display} is behind (retry later)")
            self._pending.append(ticket)
            self._pending_rows += len(ticket.rows)
            self._changed.notify_all()
        ticket.done.wait()
        if ticket.error is not None:
            raise ConsumerUnavailable(f"{ticket.error.message} (retry later)")
        self.hand_on(batch)

    def write(self, batch: Any) -> None:
        """A batch read from a file: buffered, inserted every `batch_rows`; OutputError when
        an insert fails (its spans are counted as not saved)."""
        from otelcli.store.rows import span_rows

        if not _is_spans(batch):
            return
        self._buffer.extend(span_rows(batch))
        self._buffer_batches += 1
        if len(self._buffer) >= self.batch_rows:
            self._insert_buffer()

    # -- inserting ------------------------------------------------------------------------

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        from otelcli.store.rows import encode_rows

        try:
            self._store.insert(self.table, encode_rows(rows))
        except OtelcliError as exc:
            raise self._output_error(exc) from None

    def _insert_buffer(self) -> None:
        rows, batches = self._buffer, self._buffer_batches
        self._buffer, self._buffer_batches = [], 0
        try:
            self._insert(rows)
        except OutputError as exc:
            self.refused_batches += batches
            self.refused_spans += len(rows)
            self.failure = exc
            raise
        self.batches += batches
        self.spans += len(rows)

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
                    count += len(ticket.rows)
                self._pending_rows -= count
            error: OutputError | None = None
            try:
                self._insert([row for ticket in taken for row in ticket.rows])
            except OutputError as exc:
                error = exc
            self._settle(taken, count, error)

    def _settle(self, taken: list[_Ticket], count: int, error: OutputError | None) -> None:
        with self._lock:
            if error is None:
                self.batches += len(taken)
                self.spans += count
                told = self._failing
                self._failing = False
            else:
                self.refused_batches += len(taken)
                self.refused_spans += count
                told = not self._failing or (
                    self.failure is not None and self.failure.message != error.message
                )
                self.failure = error
                self._failing = True
        for ticket in taken:
            ticket.error = error
            ticket.done.set()
        if told:
            self.on_failure(error)

    def _output_error(self, exc: OtelcliError) -> OutputError:
        message = exc.message
        if not message.startswith(self.url.display):
            message = f"{self.url.display}: {message}"
        return OutputError(f"cannot save to {message}", exc.hint, path=self.url.display)


def _is_spans(batch: Any) -> bool:
    from otelcli.otlp.signals import Signal, signal_of

    return signal_of(batch) is Signal.TRACES
