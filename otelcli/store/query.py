"""What `--from STORE` reads: a table and the filters every pushed-down query shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from otelcli.errors import UsageError
from otelcli.store.url import DEFAULT_TABLE, StoreUrl, check_identifier, parse_store_url

# a span's service as the file path names it (the exporter writes "" when the resource has none)
SERVICE_SQL = "if(mapContains(ResourceAttributes, 'service.name'), ServiceName, 'unknown_service')"
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TIME_HINT = "give an ISO time (2026-12-01, 2026-12-01T08:00Z) or an age (90m, 24h, 7d)"


@dataclass(frozen=True)
class StoreSource:
    """Spans of one table, optionally narrowed by time, service and a raw SQL predicate."""

    url: StoreUrl
    table: str = DEFAULT_TABLE
    since_ns: int | None = None
    until_ns: int | None = None
    service: str | None = None
    where: str | None = None  # raw ClickHouse SQL on the table's columns, as the user wrote it

    @classmethod
    def parse(
        cls,
        store: str,
        table: str = DEFAULT_TABLE,
        since: str | None = None,
        until: str | None = None,
        service: str | None = None,
        where: str | None = None,
        now: datetime | None = None,
    ) -> StoreSource:
        moment = now or datetime.now(tz=UTC)
        since_ns = parse_time(since, "--since", moment)
        until_ns = parse_time(until, "--until", moment)
        if since_ns is not None and until_ns is not None and until_ns <= since_ns:
            raise UsageError("--until is not after --since", TIME_HINT)
        return cls(
            parse_store_url(store),
            check_identifier(table),
            since_ns,
            until_ns,
            service,
            where.strip() if where and where.strip() else None,
        )

    def predicate(self) -> str:
        """The WHERE clause shared by every query on this source ("1" when unfiltered)."""
        parts = []
        if self.since_ns is not None:
            parts.append(f"Timestamp >= fromUnixTimestamp64Nano(toInt64({self.since_ns}))")
        if self.until_ns is not None:
            parts.append(f"Timestamp < fromUnixTimestamp64Nano(toInt64({self.until_ns}))")
        if self.service is not None:
            parts.append(f"ServiceName = {quote(self.service)}")
        if self.where is not None:
            parts.append(f"({self.where})")
        return " AND ".join(parts) or "1"


def parse_time(text: str | None, option: str, now: datetime) -> int | None:
    if text is None or not text.strip():
        return None
    relative = _RELATIVE.match(text)
    if relative:
        seconds = float(relative.group(1)) * _UNITS[relative.group(2)]
        try:
            moment = now - timedelta(seconds=seconds)
        except OverflowError:
            return 0
        return _clamp(int(moment.timestamp() * 10**9))
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a time", TIME_HINT) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _clamp(int(moment.timestamp()) * 10**9 + moment.microsecond * 1000)


def _clamp(ns: int) -> int:
    """Within what DateTime64(9) holds (1970 to 2262): beyond it, its edge."""
    return min(max(ns, 0), (1 << 63) - 1)


def quote(text: str) -> str:
    """A ClickHouse string literal."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0")
    return f"'{escaped}'"


def string_set(values: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """A constant set for `x IN ...`: the engine hashes it once, where `has(array, x)`
    compares with every element (measured: half the CPU on a key test per map key)."""
    return "(" + ", ".join(quote(v) for v in values) + ")" if values else "(SELECT '' WHERE 0)"


def u64_set(values: list[int]) -> str:
    """Hashes for `x IN ...`, a set the engine builds once (as string_set)."""
    return "(" + ", ".join(str(int(v)) for v in values) + ")" if values else "(SELECT 0 WHERE 0)"


def any_key(keys: str, wanted: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """Whether the array of map keys `keys` holds one of `wanted`."""
    return f"arrayExists(k -> k IN {string_set(wanted)}, {keys})" if wanted else "0"


def keys_among(keys: str, wanted: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """The elements of `keys` that are in `wanted`, in order."""
    return f"arrayFilter(k -> k IN {string_set(wanted)}, {keys})" if wanted else "[]"
