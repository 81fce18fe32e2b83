"""Values users type on the command line: typed attributes, times, durations, kinds, statuses.

Bad input raises `UsageError` with a hint, so commands only wire options to the core.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from otelcli.errors import UsageError

if TYPE_CHECKING:
    from otelcli.otlp.values import AttrValue

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# --- attributes -------------------------------------------------------------------------

ATTR_TYPES = ("str", "string", "int", "double", "float", "bool", "json")
ATTR_HINT = (
    'write key=value; the type is inferred (1 int, 1.5 double, true bool, \'["a","b"]\' '
    "array) or given as key:str=, key:int=, key:double=, key:bool=, key:json="
)

_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_DOUBLE = re.compile(
    r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]*)?[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+)"
)


def parse_attr(item: str) -> tuple[str, AttrValue]:
    """`key=value` -> (key, typed value). A `:type` suffix on the key fixes the type."""
    key, sep, raw = item.partition("=")
    if not sep:
        raise UsageError(f"attribute {item!r} has no '='", hint=ATTR_HINT)
    key = key.strip()
    declared = None
    name, colon, suffix = key.rpartition(":")
    if colon and suffix.lower() in ATTR_TYPES:
        key, declared = name.strip(), suffix.lower()
    if not key:
        raise UsageError(f"attribute {item!r} has an empty key", hint=ATTR_HINT)
    if declared is None:
        return key, _infer(key, raw)
    return key, _convert(key, raw, declared)


def parse_attrs(items: Iterable[str]) -> dict[str, AttrValue]:
    """Several `key=value` items; a later key replaces an earlier one."""
    out: dict[str, AttrValue] = {}
    for item in items:
        key, value = parse_attr(item)
        out[key] = value
    return out


def _infer(key: str, raw: str) -> AttrValue:
    if _INT.fullmatch(raw):
        value = int(raw)
        # out of int64 range (a long numeric id): keep the text rather than lose digits
        return value if INT64_MIN <= value <= INT64_MAX else raw
    if _DOUBLE.fullmatch(raw):
        return float(raw)
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    stripped = raw.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        return _array(key, stripped)
    return raw


def _convert(key: str, raw: str, declared: str) -> AttrValue:
    if declared in ("str", "string"):
        return raw
    if declared == "int":
        text = raw.strip()
        if not _INT.fullmatch(text) or not INT64_MIN <= int(text) <= INT64_MAX:
            raise UsageError(
                f"attribute {key!r}: {raw!r} is not a 64-bit integer", hint="e.g. key:int=42"
            )
        return int(text)
    if declared in ("double", "float"):
        try:
            return float(raw.strip())
        except ValueError:
            raise UsageError(
                f"attribute {key!r}: {raw!r} is not a number", hint="e.g. key:double=0.5"
            ) from None
    if declared == "bool":
        text = raw.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise UsageError(f"attribute {key!r}: {raw!r} is not a boolean", hint="use true or false")
    return _json_value(key, raw)


def _json_value(key: str, raw: str) -> AttrValue:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"attribute {key!r}: invalid JSON ({exc.msg})",
            hint="quote the value for the shell, e.g. key:json='{\"a\": 1}'",
        ) from None
    if value is None:
        raise UsageError(
            f"attribute {key!r}: null is not an attribute value", hint="leave the attribute out"
        )
    return _check_json(key, value)


def _check_json(key: str, value: Any) -> AttrValue:
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise UsageError(
                f"attribute {key!r}: {value} does not fit in 64 bits", hint="send it as a string"
            )
    if isinstance(value, list):
        return [_check_json(key, item) for item in value]
    if isinstance(value, dict):
        return {k: _check_json(key, v) for k, v in value.items()}
    return value


def _array(key: str, raw: str) -> list[AttrValue]:
    """An inferred array: JSON, flat and of one primitive type, as OTel attributes require."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise UsageError(
            f"attribute {key!r}: {raw!r} looks like an array but is not valid JSON",
            hint='write it as JSON, e.g. key=\'["a","b"]\', or force text with key:str=...',
        ) from None
    if not isinstance(value, list):
        raise UsageError(f"attribute {key!r}: expected a JSON array", hint=ATTR_HINT)
    kinds = set()
    for item in value:
        if isinstance(item, bool):
            kinds.add("bool")
        elif isinstance(item, int | float):
            kinds.add("number")
        elif isinstance(item, str):
            kinds.add("str")
        else:
            raise UsageError(
                f"attribute {key!r}: arrays hold only strings, numbers or booleans",
                hint="send nested values with key:json=...",
            )
    if len(kinds) > 1:
        raise UsageError(
            f"attribute {key!r}: array mixes {', '.join(sorted(kinds))}",
            hint="OpenTelemetry arrays hold one type; use key:json=... to send it anyway",
        )
    if any(isinstance(item, float) for item in value):
        value = [float(item) for item in value]  # [1, 2.5] is an array of doubles
    return [_check_json(key, item) for item in value]


# --- times and durations ----------------------------------------------------------------

TIME_HINT = (
    "use RFC 3339 (2025-01-31T12:00:00.123456789Z, a space instead of T works), epoch "
    "seconds (1738324800), epoch.nanos (1738324800.123456789) or now"
)
_MAX_EPOCH_S = 253402300799  # 9999-12-31T23:59:59Z
_EPOCH = re.compile(r"([0-9]+)(?:\.([0-9]{1,9}))?")
# What a user types: RFC 3339 exactly.
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# What recorded data carries (HAR files, logs): seconds, fraction digits and zone may vary.
_ISO = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}(?::[0-9]{2})?)(?:[.,]([0-9]+))?"
    r"\s*([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_time(value: str, *, now_ns: int | None = None) -> int:
    """A point in time given on the command line, as Unix nanoseconds."""
    text = value.strip()
    if text.lower() == "now":
        return time.time_ns() if now_ns is None else now_ns
    epoch = _EPOCH.fullmatch(text)
    if epoch is not None:
        seconds = int(epoch.group(1))
        if seconds > _MAX_EPOCH_S:
            raise UsageError(
                f"time {value!r} is past the year 9999",
                hint="epoch times are in seconds (milliseconds? divide by 1000); " + TIME_HINT,
            )
        return seconds * 1_000_000_000 + int((epoch.group(2) or "").ljust(9, "0"))
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise UsageError(f"invalid time {value!r}", hint=TIME_HINT)
    moment = _iso_ns(*match.groups())
    if moment is None:
        raise UsageError(f"invalid time {value!r}: no such date or time", hint=TIME_HINT)
    if moment < 0:
        raise UsageError(f"time {value!r} is before 1970", hint=TIME_HINT)
    return moment


def read_time(value: Any) -> int | None:
    """A timestamp found in recorded data, as Unix nanoseconds (None when it is not one):
    ISO 8601 text (no zone: UTC), or a number in s, ms, µs or ns (told apart by size)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
            return _epoch_to_ns(float(text) if "." in text else int(text))
        match = _ISO.fullmatch(text)
        return _iso_ns(*match.groups()) if match else None
    if isinstance(value, (int, float)):
        return _epoch_to_ns(value)
    return None


def _epoch_to_ns(number: float) -> int | None:
    if number <= 0:
        return None
    if number < 1e11:
        return int(number * 1e9)
    if number < 1e14:
        return int(number * 1e6)
    if number < 1e17:
        return int(number * 1e3)
    return int(number)


def _iso_ns(day: str, clock: str, fraction: str | None, zone: str | None) -> int | None:
    """The parts of an ISO time as Unix nanoseconds; None when there is no such date."""
    if not zone or zone in "Zz":
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{zone}")
    except ValueError:
        return None
    # whole seconds from datetime, the fraction as exact integer nanoseconds
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction or "")[:9].ljust(9, "0"))


DURATION_HINT = "e.g. 250ms, 1.5s, 2m, 1h30m (units ns, us, µs, ms, s, m, h)"
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: str) -> int:
    """A Go-style duration (`250ms`, `1.5s`, `1m30s`) as nanoseconds; plain `0` is allowed."""
    text = value.strip()
    if text == "0":
        return 0
    if not text:
        raise UsageError("empty duration", hint=DURATION_HINT)
    total = 0
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        number, unit = match.groups()
        whole, _, fraction = number.partition(".")
        scale = _UNITS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        position = match.end()
    if position != len(text):
        hint = DURATION_HINT
        if text.lstrip("-").replace(".", "", 1).isdigit():
            hint = "add a unit: " + DURATION_HINT
        raise UsageError(f"invalid duration {value!r}", hint=hint)
    return total


def resolve_times(
    start: str | None = None,
    end: str | None = None,
    duration: str | None = None,
    *,
    now_ns: int | None = None,
) -> tuple[int, int]:
    """(start_ns, end_ns) from any two of start, end and duration; missing ones default so a
    span ends now (a duration alone ends now and starts that long ago)."""
    if start is not None and end is not None and duration is not None:
        raise UsageError("give at most two of start, end and duration", hint="drop one of them")
    now = time.time_ns() if now_ns is None else now_ns
    length = parse_duration(duration) if duration is not None else None
    start_ns = parse_time(start, now_ns=now) if start is not None else None
    end_ns = parse_time(end, now_ns=now) if end is not None else None
    if start_ns is None and end_ns is None:
        end_ns = now
    if length is not None:
        if start_ns is None:
            assert end_ns is not None
            start_ns = end_ns - length
        else:
            end_ns = start_ns + length
            if end_ns > now:  # a span that has not ended yet cannot be reported
                raise UsageError(
                    f"the span would end {(end_ns - now) / 1e9:.3g}s in the future "
                    f"(--start + {duration})",
                    hint="give an earlier --start, or the duration alone (the span then ends now)",
                )
    elif start_ns is None:
        start_ns = end_ns
    elif end_ns is None:
        end_ns = max(start_ns, now)
    assert start_ns is not None and end_ns is not None
    if end_ns < start_ns:
        raise UsageError("the span ends before it starts", hint="check the start and end times")
    return start_ns, end_ns


# --- span kinds and statuses -------------------------------------------------------------

# The OTLP enum values (Span.SpanKind, Status.StatusCode), without importing protobuf.
SPAN_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_CODES = {"unset": 0, "ok": 1, "error": 2}


def parse_kind(value: str) -> int:
    kind = SPAN_KINDS.get(value.strip().lower())
    if kind is None:
        raise UsageError(f"unknown span kind {value!r}", hint="one of: " + ", ".join(SPAN_KINDS))
    return kind


def parse_status(value: str) -> int:
    text = value.strip().lower()
    if text in ("0", "1", "2"):
        return int(text)
    code = STATUS_CODES.get(text)
    if code is None:
        raise UsageError(f"unknown status {value!r}", hint="one of: unset, ok, error")
    return code
