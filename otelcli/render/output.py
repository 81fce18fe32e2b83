"""The one place that writes to the terminal: data to stdout, notices and progress to stderr.

`auto` means a rich table on a terminal and JSON when piped. The same names mean the same on
every command: `table` the rich view, `json` one document, `ndjson` one table row per line and
`csv` the same rows with a header line. Errors come out as JSON in the JSON modes, so scripts can
always parse what they get.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, cast

import orjson

from otelcli.choices import OUTPUT_FORMATS
from otelcli.errors import OtelcliError
from otelcli.redact import redact_text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress

FORMATS = OUTPUT_FORMATS

Rows = Callable[[Any], list[dict[str, Any]]]


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json(value: Any, pretty: bool = False) -> bytes:
    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_DATACLASS
    if pretty:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(value, default=_default, option=option)


class RedactingStream(io.TextIOBase):
    """A text stream that masks remembered secrets (otelcli.redact) in everything written."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    def writable(self) -> bool:
        return True


@dataclass
class Output:
    format: str = "auto"
    color: bool = True
    stdout: IO[str] | None = None
    stderr: IO[str] | None = None
    # stdout carries the command's data (`-o -`): its report and errors go to stderr instead,
    # so there is one document on stdout per run.
    data_on_stdout: bool = False
    # --quiet: no notices, warnings or progress (data and errors still come out);
    # --verbose: details too (`detail`).
    quiet: bool = False
    verbose: bool = False

    def __post_init__(self) -> None:
        # Everything shown passes the secret filter: tables, JSON, the live view, errors.
        self.stdout = cast(IO[str], RedactingStream(self.stdout or sys.stdout))
        self.stderr = cast(IO[str], RedactingStream(self.stderr or sys.stderr))

    @property
    def mode(self) -> str:
        """table, json or ndjson: `auto` resolved against the terminal the report goes to."""
        if self.format != "auto":
            return self.format
        return "table" if _isatty(self._report_stream) else "json"

    @property
    def is_terminal(self) -> bool:
        return _isatty(self.stdout)

    @property
    def _report_stream(self) -> IO[str] | None:
        return self.stderr if self.data_on_stdout else self.stdout

    @property
    def machine(self) -> bool:
        """JSON modes: errors are JSON too (csv is for humans' spreadsheets: errors on stderr)."""
        return self.mode in ("json", "ndjson")

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(file=self.stdout, no_color=not self.color, highlight=False, soft_wrap=False)

    @cached_property
    def err_console(self) -> Console:
        from rich.console import Console

        return Console(file=self.stderr, no_color=not self.color, highlight=False, soft_wrap=True)

    # -- data -------------------------------------------------------------------------------

    def data(
        self,
        payload: Any,
        table: Callable[[Any], RenderableType] | None = None,
        rows: Rows | None = None,
    ) -> None:
        """Emit a command's result (on stderr when stdout carries the data): the rich view
        in table mode, the document in json, its table rows (`rows`) in ndjson and csv."""
        if self.quiet and self.data_on_stdout:
            return  # the report would be a notice beside the data
        mode = self.mode
        if mode == "table" and table is not None:
            (self.err_console if self.data_on_stdout else self.console).print(table(payload))
            return
        if mode in ("ndjson", "csv"):
            records = uniform(table_rows(payload, rows))
            if mode == "csv":
                self._write_report(to_csv(records).encode())
                return
            self._write_report(b"".join(to_json(record) + b"\n" for record in records))
            return
        pretty = mode == "json" and _isatty(self._report_stream)
        self._write_report(to_json(payload, pretty=pretty) + b"\n")

    def _write_report(self, data: bytes) -> None:
        stream = self._report_stream
        assert stream is not None
        stream.write(data.decode())
        stream.flush()

    def lines(self, records: Iterable[Any]) -> None:
        """One JSON document per line, flushed as it goes (for streams)."""
        for record in records:
            self._write(to_json(record) + b"\n")

    def text(self, text: str) -> None:
        """Plain data text on stdout (no markup)."""
        assert self.stdout is not None
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def _write(self, data: bytes) -> None:
        assert self.stdout is not None
        self.stdout.write(data.decode())
        self.stdout.flush()

    # -- stderr -----------------------------------------------------------------------------

    def notice(self, message: str, style: str = "dim") -> None:
        """A message for the human on stderr (never mixed into data)."""
        if not self.quiet:
            self.err_console.print(message, style=style, markup=False, highlight=False)

    def detail(self, message: str) -> None:
        """A notice only --verbose asks for."""
        if self.verbose and not self.quiet:
            self.notice(message)

    def warning(self, message: str) -> None:
        if not self.quiet:
            self.err_console.print(f"warning: {message}", style="yellow", markup=False)

    def error(self, error: OtelcliError) -> None:
        if self.machine:
            self._write_report(to_json({"error": error.to_dict()}) + b"\n")
            return
        assert self.stderr is not None
        self.err_console.print(f"error: {error.message}", style="bold red", markup=False)
        if error.hint:
            self.err_console.print(f"  hint: {error.hint}", style="dim", markup=False)

    @contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator[ProgressHandle]:
        """A progress bar on stderr when stderr is a terminal; silent otherwise."""
        if self.quiet or not getattr(self.stderr, "isatty", lambda: False)():
            yield ProgressHandle(None, None)
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err_console,
            transient=True,
        )
        with progress:
            task = progress.add_task(description, total=total, detail="")
            yield ProgressHandle(progress, task)


def table_rows(payload: Any, rows: Rows | None) -> list[dict[str, Any]]:
    """The rows of a result's table: what `rows` makes of it, a list's items, or else the
    document as one row (nested objects flattened to dotted keys)."""
    if rows is not None:
        return rows(payload)
    if isinstance(payload, list):
        return [
            flat(record) if isinstance(record, dict) else {"value": record} for record in payload
        ]
    return [flat(payload) if isinstance(payload, dict) else {"value": payload}]


def flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (lists stay whole), so that a row is one level deep."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            row.update(flat(value, name + ".") if value else {name: None})
        else:
            row[name] = value
    return row


def uniform(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with the columns of all (in first-seen order), None where a row has none."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    return [{column: record.get(column) for column in columns} for record in records]


def to_csv(records: list[dict[str, Any]]) -> str:
    """Uniform rows as CSV, a header line first; lists as JSON."""
    columns = list(records[0]) if records else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(_cell(record.get(column)) for column in columns)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return to_json(value).decode()
    return value


def _isatty(stream: IO[str] | None) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class ProgressHandle:
    """Advance a progress bar, or do nothing when there is none."""

    def __init__(self, progress: Progress | None, task: Any) -> None:
        self._progress = progress
        self._task = task

    def update(
        self, completed: float | None = None, total: float | None = None, detail: str | None = None
    ) -> None:
        if self._progress is None:
            return
        fields: dict[str, Any] = {}
        if detail is not None:
            fields["detail"] = detail
        self._progress.update(self._task, completed=completed, total=total, **fields)
