"""Portkey tracing headers: the W3C helpers the gateway applies, and the reverse direction.

Reverse: from an existing W3C trace (a traceparent, or trace id + span id) produce the
x-portkey-* headers that make Portkey file its request under that trace, rendered as plain
headers, curl flags, JSON or shell environment assignments.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from otelcli.errors import UsageError
from otelcli.otlp.ids import split_traceparent

TRACE_ID = "x-portkey-trace-id"
SPAN_ID = "x-portkey-span-id"
SPAN_NAME = "x-portkey-span-name"
PARENT_SPAN_ID = "x-portkey-parent-span-id"
METADATA = "x-portkey-metadata"
PROVIDER = "x-portkey-provider"
CONFIG = "x-portkey-config"
TRACEPARENT = "traceparent"

HeaderFormat = Literal["headers", "curl", "json", "env"]
HEADER_FORMATS: tuple[HeaderFormat, ...] = ("headers", "curl", "json", "env")

_ENV_NAMES = {
    TRACE_ID: "PORTKEY_TRACE_ID",
    SPAN_ID: "PORTKEY_SPAN_ID",
    PARENT_SPAN_ID: "PORTKEY_PARENT_SPAN_ID",
    SPAN_NAME: "PORTKEY_SPAN_NAME",
    METADATA: "PORTKEY_METADATA",
}


@dataclass(frozen=True)
class TraceParent:
    trace_id: str  # as written (the gateway keeps the case)
    parent_span_id: str
    flags: str


def parse_traceparent(value: str | None) -> TraceParent | None:
    """A traceparent as the gateway reads it (any version, case kept, ids not all zeros),
    else None."""
    fields = split_traceparent(value) if value else None
    if fields is None or fields[4]:
        return None
    _version, trace_id, parent_id, flags, _rest = fields
    if not trace_id.strip("0") or not parent_id.strip("0"):
        return None
    return TraceParent(trace_id=trace_id, parent_span_id=parent_id, flags=flags)


def parse_baggage(value: str | None) -> dict[str, str]:
    """W3C baggage `k=v;prop,k2=v2` -> {k: v} (URL-decoded; entries without '=' skipped)."""
    out: dict[str, str] = {}
    for member in (value or "").split(","):
        pair = member.split(";", 1)[0]
        key, sep, val = pair.partition("=")
        key, val = key.strip(), val.strip()
        if sep and key:
            out[unquote(key)] = unquote(val)
    return out


@dataclass(frozen=True)
class PortkeyTraceHeaders:
    """The x-portkey-* tracing headers for one request, in the order they are printed."""

    trace_id: str
    span_id: str
    span_name: str | None = None
    parent_span_id: str | None = None
    metadata: Mapping[str, str] | None = None
    # the caller's traceparent, sent along when the ids are its own: whoever reads the request
    # back (the gateway's logs, `otelcli portkey`) knows the parent is the caller's span
    traceparent: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {TRACE_ID: self.trace_id, SPAN_ID: self.span_id}
        if self.parent_span_id:
            out[PARENT_SPAN_ID] = self.parent_span_id
        if self.traceparent:
            out[TRACEPARENT] = self.traceparent
        if self.span_name:
            out[SPAN_NAME] = self.span_name
        if self.metadata:
            out[METADATA] = json.dumps(dict(self.metadata), separators=(",", ":"))
        return out


def new_span_id() -> str:
    return secrets.token_hex(8)


def headers_for_trace(
    *,
    traceparent: str | None = None,
    trace_id: str | None = None,
    span_id: str | None = None,
    parent_span_id: str | None = None,
    name: str | None = None,
    metadata: Mapping[str, str] | None = None,
    baggage: str | None = None,
) -> PortkeyTraceHeaders:
    """Headers that put the next Portkey request into an existing trace.

    With a traceparent the request becomes a child of the traceparent's span (what the gateway
    itself does with one); explicit values win over the traceparent, as in the gateway.
    """
    parent = None
    if traceparent is not None:
        parent = parse_traceparent(traceparent)
        if parent is None:
            raise UsageError(
                f"not a valid traceparent: {traceparent!r}",
                hint="expected 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, ids not all 0",
            )
    trace = trace_id or (parent.trace_id.lower() if parent else None)
    if not trace:
        raise UsageError(
            "a trace is needed: give --traceparent or --trace-id",
            hint="e.g. otelcli portkey headers --traceparent 00-<trace>-<span>-01",
        )
    merged = dict(parse_baggage(baggage))
    merged.update(metadata or {})
    parent_id = parent_span_id or (parent.parent_span_id.lower() if parent else None)
    caller = None
    if parent is not None and (trace, parent_id) == (
        parent.trace_id.lower(),
        parent.parent_span_id.lower(),
    ):
        caller = f"00-{trace}-{parent_id}-{parent.flags}"
    return PortkeyTraceHeaders(
        trace_id=trace,
        span_id=span_id or new_span_id(),
        span_name=name,
        parent_span_id=parent_id,
        metadata=merged or None,
        traceparent=caller,
    )


def render_headers(headers: Mapping[str, str], fmt: HeaderFormat = "headers") -> str:
    """Headers as text: `name: value` lines, curl -H flags, a JSON object or shell exports."""
    if fmt == "headers":
        return "".join(f"{name}: {value}\n" for name, value in headers.items())
    if fmt == "curl":
        flags = (f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items())
        return " \\\n".join(flags) + "\n"
    if fmt == "json":
        return json.dumps(dict(headers), indent=2) + "\n"
    if fmt == "env":
        return "".join(
            f"export {_env_name(name)}={shlex.quote(value)}\n" for name, value in headers.items()
        )
    raise UsageError(
        f"unknown header format {fmt!r}", hint="use one of: " + ", ".join(HEADER_FORMATS)
    )


def _env_name(header: str) -> str:
    return _ENV_NAMES.get(header) or re.sub(r"[^A-Z0-9]", "_", header.upper())
