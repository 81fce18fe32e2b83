"""OTLP spans as the rows the Collector's clickhouseexporter writes (its documented conversions).

- Timestamp = start; Duration = end - start in ns (0 if the end is before the start: UInt64);
- ids as lowercase hex, "" for a missing or all-zero id;
- SpanKind / StatusCode as pdata names: Unspecified, Internal, Server, Client, Producer,
  Consumer / Unset, Ok, Error;
- ServiceName = resource `service.name` (as a string) or "";
- every attribute value as pdata's `Value.AsString()`: see `as_string`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from otelcli.otlp.values import to_python

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")
_ZERO_IDS = {b"", bytes(8), bytes(16)}


def hex_id(raw: bytes) -> str:
    return "" if raw in _ZERO_IDS or not any(raw) else raw.hex()


def format_double(value: float) -> str:
    """A double as pdata writes it (Go's JSON float form): the shortest digits, plain between
    1e-6 and 1e21 (1.0 -> "1", 0.7 -> "0.7"), else exponent form (2.4e-07 -> "2.4e-7")."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)  # the shortest digits that read back as the same double
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = text.partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    if "e" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _json_ready(value: Any) -> Any:
    """A Python attribute value as the exporter's JSON for arrays and maps would hold it."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value if math.isfinite(value) else format_double(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    return str(value)


def _compact_json(value: Any) -> str:
    text = orjson.dumps(_json_ready(value), option=orjson.OPT_SORT_KEYS).decode()
    # Go's encoder escapes these for HTML safety; the exporter's strings carry the escapes
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def as_string(value: AnyValue) -> str:
    """pdata `Value.AsString()`: strings as they are, true/false, ints in decimal, doubles in
    their shortest form, bytes in base64, empty values as "", arrays and maps as compact JSON
    with sorted keys."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return str(value.int_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "double_value":
        return format_double(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind in ("array_value", "kvlist_value"):
        return _compact_json(to_python(value))
    return ""


def attribute_map(attributes: Iterable[KeyValue]) -> dict[str, str]:
    out: dict[str, str] = {}
    for kv in attributes:
        value = kv.value
        kind = value.WhichOneof("value")
        out[kv.key] = value.string_value if kind == "string_value" else as_string(value)
    return out


def _timestamp(ns: int) -> str:
    """DateTime64(9) in JSONEachRow: seconds and nanoseconds, exact (no float)."""
    # ten digits of seconds: shorter numbers would be read as a date
    return f"{ns // 1_000_000_000:010d}.{ns % 1_000_000_000:09d}"


def span_rows(batch: ExportTraceServiceRequest) -> Iterator[dict[str, Any]]:
    """One exporter row per span of a batch."""
    for resource_spans in batch.resource_spans:
        resource = attribute_map(resource_spans.resource.attributes)
        service = resource.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                kind, code = span.kind, span.status.code
                events, links = span.events, span.links
                yield {
                    "Timestamp": _timestamp(start),
                    "TraceId": hex_id(span.trace_id),
                    "SpanId": hex_id(span.span_id),
                    "ParentSpanId": hex_id(span.parent_span_id),
                    "TraceState": span.trace_state,
                    "SpanName": span.name,
                    "SpanKind": SPAN_KINDS[kind] if 0 <= kind < 6 else "Unspecified",
                    "ServiceName": service,
                    "ResourceAttributes": resource,
                    "ScopeName": scope.name,
                    "ScopeVersion": scope.version,
                    "SpanAttributes": attribute_map(span.attributes),
                    "Duration": end - start if end > start else 0,
                    "StatusCode": STATUS_CODES[code] if 0 <= code < 3 else "Unset",
                    "StatusMessage": span.status.message,
                    "Events.Timestamp": [_timestamp(e.time_unix_nano) for e in events],
                    "Events.Name": [e.name for e in events],
                    "Events.Attributes": [attribute_map(e.attributes) for e in events],
                    "Links.TraceId": [hex_id(link.trace_id) for link in links],
                    "Links.SpanId": [hex_id(link.span_id) for link in links],
                    "Links.TraceState": [link.trace_state for link in links],
                    "Links.Attributes": [attribute_map(link.attributes) for link in links],
                }


def encode_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    """JSONEachRow: one JSON object a line."""
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)
