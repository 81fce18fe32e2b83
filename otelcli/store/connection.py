"""One small seam over both engines: `query` (rows), `command` (DDL) and `insert` (JSONEachRow).

chDB runs the ClickHouse engine inside this process on a directory; a server is reached over
HTTP with clickhouse-connect. Both get the same SQL. Every statement is bounded by
`max_execution_time` and `max_memory_usage` and logged (redacted) under --debug; engine errors
become one-line otelcli errors with the exit codes users script against.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from otelcli.errors import (
    EndpointFailed,
    EndpointRejected,
    NetworkError,
    OtelcliError,
    OutputError,
    UsageError,
)
from otelcli.store.url import StoreUrl

log = logging.getLogger("otelcli.store")

INSTALL_HINT = "install the store extra: pip install 'otelcli[store]'"
# ClickHouse error codes -> what the user can do about them
_AUTH_CODES = {516, 192, 193, 194, 195, 497}  # authentication failed, unknown user, access denied
_QUERY_CODES = {62, 47, 46, 43, 386, 53, 215, 36, 6, 27, 38, 41, 70, 72, 69}  # bad SQL / types
_MISSING_CODES = {60, 81}  # unknown table, unknown database
_TIMEOUT_CODES = {159, 160, 209}  # timeout exceeded, too slow, socket timeout
_MEMORY_CODES = {241}
_DISK_CODES = {243}  # not enough space: as a full disk under a file, an output error
_CODE = re.compile(r"Code:\s*(\d+)")


@dataclass(frozen=True)
class QueryLimits:
    """What one statement may take; OTELCLI_STORE_TIMEOUT (s) / OTELCLI_STORE_MAX_MEMORY (bytes)."""

    max_execution_time: int = 300
    max_memory_usage: int = 4 << 30

    @classmethod
    def from_env(cls) -> QueryLimits:
        def number(name: str, default: int) -> int:
            raw = os.environ.get(name)
            if not raw:
                return default
            try:
                value = int(float(raw))
            except ValueError:
                raise UsageError(f"{name}={raw!r} is not a number") from None
            if value <= 0:
                raise UsageError(f"{name} must be positive (got {raw})")
            return value

        return cls(
            number("OTELCLI_STORE_TIMEOUT", cls.max_execution_time),
            number("OTELCLI_STORE_MAX_MEMORY", cls.max_memory_usage),
        )

    def settings(self) -> dict[str, int]:
        return {
            "max_execution_time": self.max_execution_time,
            "max_memory_usage": self.max_memory_usage,
            "output_format_json_quote_64bit_integers": 0,
        }


class StoreUnavailable(UsageError):
    code = "store_unavailable"


class StoreAuthFailed(EndpointRejected):
    code = "store_auth"


class StoreQueryError(UsageError):
    code = "store_query"


class StoreTimeout(NetworkError):
    code = "store_timeout"


class StoreUnreachable(NetworkError):
    code = "store_unreachable"


class StoreFailed(EndpointFailed):
    code = "store_failed"


class Store(Protocol):
    url: StoreUrl
    limits: QueryLimits

    def query(self, sql: str) -> list[list[Any]]: ...

    def command(self, sql: str) -> None: ...

    def insert(self, table: str, rows: bytes) -> None: ...

    def close(self) -> None: ...


def store_error(url: StoreUrl, message: str) -> OtelcliError:
    """An engine's error message as the otelcli error a user can act on."""
    from otelcli.redact import redact_text

    text = redact_text(" ".join(message.split()))
    found = _CODE.search(text)
    code = int(found.group(1)) if found else None
    where = url.display
    short = _short(text)
    if code in _AUTH_CODES:
        return StoreAuthFailed(
            f"{where}: authentication failed ({short})",
            "check the user and password (URL, or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD)",
        )
    if code in _TIMEOUT_CODES:
        return StoreTimeout(
            f"{where}: the query ran out of time ({short})",
            "narrow it with --since/--until/--where, or raise OTELCLI_STORE_TIMEOUT (seconds)",
        )
    if code in _MEMORY_CODES:
        return StoreFailed(
            f"{where}: the query ran out of memory ({short})",
            "narrow it with --since/--until/--where, or raise OTELCLI_STORE_MAX_MEMORY (bytes)",
        )
    if code in _DISK_CODES:
        return OutputError(
            f"{where}: the disk is full ({short})",
            "free some space on the store's disk or load into another store",
            path=where,
        )
    if code in _MISSING_CODES:
        return StoreQueryError(
            f"{where}: {short}", "load spans first (otelcli load FILE --into STORE) or pass --table"
        )
    if code in _QUERY_CODES:
        return StoreQueryError(
            f"{where}: the query was refused ({short})",
            "check the --where predicate: it is raw ClickHouse SQL on the table's columns",
        )
    if code is None and _looks_unreachable(text):
        return StoreUnreachable(
            f"{where}: cannot connect ({short})", "is the server running, and the port right?"
        )
    if code is None and "timed out" in text.lower():
        return StoreTimeout(f"{where}: no answer in time ({short})", "is the server overloaded?")
    return StoreFailed(f"{where}: {short}", "re-run with --debug to see the SQL")


def _short(text: str) -> str:
    """The engine's message without its stack of context and the version trailer."""
    text = re.sub(r"^.*?(Code:\s*\d+)", r"\1", text)
    text = re.sub(r"\s*\(version [^)]*\)", "", text)
    text = text.replace("DB::Exception: ", "")
    return text[:300]


def _looks_unreachable(text: str) -> bool:
    lowered = text.lower()
    return any(
        s in lowered
        for s in (
            "connection refused",
            "name or service not known",
            "failed to establish",
            "no route to host",
            "nodename nor servname",
            "connection reset",
        )
    )


def _with_settings(sql: str, limits: QueryLimits) -> str:
    clause = ", ".join(f"{k} = {v}" for k, v in limits.settings().items())
    return f"{sql}\nSETTINGS {clause}"


# -- chDB -------------------------------------------------------------------------------------


class ChdbStore:
    """An embedded store: a chDB session on a directory (one per process at a time)."""

    def __init__(self, url: StoreUrl, limits: QueryLimits, *, create: bool) -> None:
        self.url = url
        self.limits = limits
        if not create and not os.path.isdir(url.path):
            raise StoreUnavailable(
                f"no store at {url.path}",
                f"create one with: otelcli load FILE --into {url.display}",
            )
        try:
            from chdb import session
        except ImportError:
            raise StoreUnavailable("chDB is not installed", INSTALL_HINT) from None
        if create:
            try:
                os.makedirs(url.path, exist_ok=True)
            except OSError as exc:  # a store being written is an output: exit 7
                raise OutputError(
                    f"{url.display}: {exc.strerror or exc}",
                    "pick a directory you can write",
                    path=url.display,
                ) from None
        try:
            factory: Any = session.Session  # chdb ships no type hints
            self._session: Any = factory(url.path)
        except Exception as exc:  # the engine refuses a second directory, a locked one...
            raise store_error(url, str(exc)) from None

    def _run(self, sql: str, fmt: str) -> Any:
        log.debug("%s: %s", self.url.display, sql)
        try:
            return self._session.query(sql, fmt)
        except Exception as exc:
            raise store_error(self.url, str(exc)) from None

    def query(self, sql: str) -> list[list[Any]]:
        started = time.perf_counter()
        data = self._run(_with_settings(sql, self.limits), "JSONCompact").bytes()
        return _rows(data, started)

    def command(self, sql: str) -> None:
        self._run(sql, "CSV")

    def insert(self, table: str, rows: bytes) -> None:
        head = f"INSERT INTO {table} SETTINGS max_execution_time = "
        head += f"{self.limits.max_execution_time} FORMAT JSONEachRow"
        log.debug("%s: %s (%d bytes)", self.url.display, head, len(rows))
        try:
            self._session.query(head + "\n" + rows.decode(), "CSV")
        except Exception as exc:
            raise store_error(self.url, str(exc)) from None

    def close(self) -> None:
        try:
            self._session.close()
        except Exception:  # closing a failed session must not hide the error that failed it
            pass


# -- a server over HTTP -----------------------------------------------------------------------


class ServerStore:
    """A ClickHouse server over its HTTP interface (clickhouse-connect)."""

    def __init__(self, url: StoreUrl, limits: QueryLimits) -> None:
        self.url = url
        self.limits = limits
        try:
            import clickhouse_connect
        except ImportError:
            raise StoreUnavailable("clickhouse-connect is not installed", INSTALL_HINT) from None
        log.debug("connecting to %s as %s", url.display, url.user)
        try:
            self._client = clickhouse_connect.get_client(
                host=url.host,
                port=url.port,
                username=url.user,
                password=url.password,
                database=url.database,
                secure=url.secure,
                connect_timeout=10,
                send_receive_timeout=limits.max_execution_time + 30,
                query_retries=0,
                autogenerate_session_id=False,
            )
        except Exception as exc:
            raise store_error(url, str(exc)) from None

    def query(self, sql: str) -> list[list[Any]]:
        log.debug("%s: %s", self.url.display, sql)
        started = time.perf_counter()
        try:
            data = self._client.raw_query(sql, settings=self.limits.settings(), fmt="JSONCompact")
        except Exception as exc:
            raise store_error(self.url, str(exc)) from None
        return _rows(data, started)

    def command(self, sql: str) -> None:
        log.debug("%s: %s", self.url.display, sql)
        try:
            self._client.command(sql)
        except Exception as exc:
            raise store_error(self.url, str(exc)) from None

    def insert(self, table: str, rows: bytes) -> None:
        log.debug(
            "%s: INSERT INTO %s FORMAT JSONEachRow (%d bytes)", self.url.display, table, len(rows)
        )
        try:
            self._client.raw_insert(
                table,
                insert_block=rows,
                settings={"max_execution_time": self.limits.max_execution_time},
                fmt="JSONEachRow",
            )
        except Exception as exc:
            raise store_error(self.url, str(exc)) from None

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:
            pass


def _rows(data: bytes, started: float) -> list[list[Any]]:
    """A JSONCompact answer's rows; --debug logs how long the query took."""
    rows: list[list[Any]] = orjson.loads(data)["data"] if data else []
    log.debug("%d rows in %.3f s", len(rows), time.perf_counter() - started)
    return rows


@contextmanager
def open_store(
    url: StoreUrl, *, create: bool = False, limits: QueryLimits | None = None
) -> Iterator[Store]:
    """The store behind `url`, closed on exit. `create`: a chDB directory may be new."""
    limits = limits or QueryLimits.from_env()
    store: Store = (
        ChdbStore(url, limits, create=create) if url.kind == "chdb" else ServerStore(url, limits)
    )
    try:
        yield store
    finally:
        store.close()
