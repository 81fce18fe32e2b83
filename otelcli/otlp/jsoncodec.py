"""OTLP/JSON <-> protobuf, per the OTLP spec's deviations from proto3 JSON.

Ids are hex strings (not base64), keys lowerCamelCase, 64-bit integers decimal strings, enums
integers. Reading is tolerant: ids in any case, empty ids, int64 as numbers, enum names,
unknown fields ignored, and base64 ids of the right length (some exporters write them).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_ID_LENGTHS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def id_to_base64(key: str, value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: {key} must be a hex string, got {value!r}")
    if not value:
        return ""
    size = _ID_LENGTHS[key]
    if len(value) == size * 2:
        try:
            return base64.b64encode(bytes.fromhex(value)).decode()
        except ValueError:
            pass
    else:
        try:
            if len(base64.b64decode(value, validate=True)) == size:
                return value
        except (binascii.Error, ValueError):
            pass
    raise InvalidInputError(
        f"{where}: {key} {value!r} is not {size * 2} hex digits",
        hint="OTLP/JSON ids are hex strings, e.g. a 32-digit traceId",
    )


def _ids_hex_to_base64(data: dict[str, Any], where: str) -> None:
    for resource_spans in data.get("resourceSpans") or ():
        for scope_spans in resource_spans.get("scopeSpans") or ():
            for span in scope_spans.get("spans") or ():
                for key in _ID_KEYS:
                    if key in span:
                        span[key] = id_to_base64(key, span[key], where)
                for link in span.get("links") or ():
                    for key in ("traceId", "spanId"):
                        if key in link:
                            link[key] = id_to_base64(key, link[key], where)


def hex_ids_to_base64(value: Any, where: str) -> None:
    """The ids of any OTLP/JSON object (logs, metric exemplars), wherever they appear."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _ID_LENGTHS:
                value[key] = id_to_base64(key, item, where)
            elif isinstance(item, (dict, list)):
                hex_ids_to_base64(item, where)
    elif isinstance(value, list):
        for item in value:
            hex_ids_to_base64(item, where)


def dict_to_request(data: object, where: str) -> ExportTraceServiceRequest:
    """Parse one OTLP/JSON traces object (already decoded from JSON)."""
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"{where}: expected an OTLP/JSON object, got {type(data).__name__}",
            hint='a traces request looks like {"resourceSpans": [...]}',
        )
    if "resourceSpans" not in data:
        other = next((k for k in ("resourceLogs", "resourceMetrics") if k in data), None)
        if other:
            raise InvalidInputError(
                f"{where}: this is {other[8:].lower()} data, not traces",
                hint="otelcli reads trace captures (resourceSpans)",
            )
        if not data:
            return ExportTraceServiceRequest()
        raise InvalidInputError(
            f"{where}: no resourceSpans in this JSON object",
            hint='a traces request looks like {"resourceSpans": [...]}',
        )
    try:
        _ids_hex_to_base64(data, where)
        return json_format.ParseDict(data, ExportTraceServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, AttributeError, TypeError) as exc:
        raise InvalidInputError(
            f"{where}: not valid OTLP/JSON: {str(exc).splitlines()[0][:200]}",
            hint="check the file against the OTLP/JSON encoding (lowerCamelCase keys)",
        ) from None


def _ids_base64_to_hex(data: dict[str, Any]) -> None:
    for resource_spans in data.get("resourceSpans", ()):
        for scope_spans in resource_spans.get("scopeSpans", ()):
            for span in scope_spans.get("spans", ()):
                for key in _ID_KEYS:
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
                for link in span.get("links", ()):
                    for key in ("traceId", "spanId"):
                        if key in link:
                            link[key] = base64.b64decode(link[key]).hex()


def request_to_dict(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """Spec OTLP/JSON as a dict (ids hex, int64 as strings, enums as integers)."""
    data: dict[str, Any] = json_format.MessageToDict(request, use_integers_for_enums=True)
    _ids_base64_to_hex(data)
    return data


def resource_spans_dicts(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = request_to_dict(request).get("resourceSpans", [])
    return spans
