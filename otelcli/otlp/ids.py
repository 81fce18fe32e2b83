"""Trace and span ids in their W3C Trace Context form (`traceparent`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from otelcli.errors import UsageError

TRACEPARENT_HINT = "format: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, lower case"
_TRACEPARENT = re.compile(
    r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.IGNORECASE
)


def split_traceparent(value: str) -> tuple[str, str, str, str, str] | None:
    """The fields of a traceparent-shaped value (version, trace id, parent id, flags, rest),
    case kept; None when it does not have that shape."""
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_hex, span_hex, flags_hex, rest = match.groups()
    return version, trace_hex, span_hex, flags_hex, rest or ""


@dataclass(frozen=True)
class TraceParent:
    trace_id: bytes
    span_id: bytes
    flags: int = 1

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 1)

    def format(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.flags)


def format_traceparent(trace_id: bytes, span_id: bytes, flags: int = 1) -> str:
    return f"00-{trace_id.hex()}-{span_id.hex()}-{flags & 0xFF:02x}"


def parse_traceparent(value: str) -> TraceParent:
    """W3C Trace Context `traceparent`. Version 00 must have exactly four fields; a later
    version may append fields, as the spec allows; version ff and zero ids are invalid."""
    fields = split_traceparent(value)
    if fields is None or fields != tuple(part.lower() for part in fields):
        raise UsageError(f"invalid traceparent {value!r}", hint=TRACEPARENT_HINT)
    version, trace_hex, span_hex, flags_hex, rest = fields
    if version == "ff":
        raise UsageError(
            f"invalid traceparent {value!r}: version ff is forbidden", hint=TRACEPARENT_HINT
        )
    if version == "00" and rest:
        raise UsageError(
            f"invalid traceparent {value!r}: version 00 has exactly four fields",
            hint=TRACEPARENT_HINT,
        )
    if trace_hex == "0" * 32:
        raise UsageError(f"invalid traceparent {value!r}: all-zero trace id", hint=TRACEPARENT_HINT)
    if span_hex == "0" * 16:
        raise UsageError(
            f"invalid traceparent {value!r}: all-zero parent id", hint=TRACEPARENT_HINT
        )
    return TraceParent(bytes.fromhex(trace_hex), bytes.fromhex(span_hex), int(flags_hex, 16))
