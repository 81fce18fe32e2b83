"""OTLP/JSON <-> protobuf, per the OTLP spec's deviations from proto3 JSON.

Ids are hex strings (not base64), keys lowerCamelCase, 64-bit integers decimal strings, enums
integers. Reading is tolerant: ids in any case, empty ids, int64 as numbers, enum names,
unknown fields ignored, and base64 ids of the right length (some exporters write them).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError
from otelcli.otlp.signals import REQUEST_TYPES, Batch, Signal, signal_of

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_METRIC_DATA = ("gauge", "sum", "histogram", "exponentialHistogram")
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


def _id_holders(data: dict[str, Any], signal: Signal) -> Iterator[dict[str, Any]]:
    """Every object of a request that holds ids: spans and links, log records, exemplars."""
    if signal is Signal.TRACES:
        for resource_spans in data.get("resourceSpans") or ():
            for scope_spans in resource_spans.get("scopeSpans") or ():
                for span in scope_spans.get("spans") or ():
                    yield span
                    yield from span.get("links") or ()
    elif signal is Signal.LOGS:
        for resource_logs in data.get("resourceLogs") or ():
            for scope_logs in resource_logs.get("scopeLogs") or ():
                yield from scope_logs.get("logRecords") or ()
    else:
        for resource_metrics in data.get("resourceMetrics") or ():
            for scope_metrics in resource_metrics.get("scopeMetrics") or ():
                for metric in scope_metrics.get("metrics") or ():
                    for kind in _METRIC_DATA:
                        for point in (metric.get(kind) or {}).get("dataPoints") or ():
                            yield from point.get("exemplars") or ()


def _ids_hex_to_base64(data: dict[str, Any], where: str, signal: Signal) -> None:
    for holder in _id_holders(data, signal):
        for key in _ID_KEYS:
            if key in holder:
                holder[key] = id_to_base64(key, holder[key], where)


_SHAPE_HINT = (
    'an OTLP/JSON request looks like {"resourceSpans": [...]}, {"resourceLogs": [...]} '
    'or {"resourceMetrics": [...]}'
)


def dict_to_batch(data: object, where: str) -> Batch:
    """Parse one OTLP/JSON request of any signal (already decoded from JSON); the signal is the
    root key it has. An empty object is an empty traces request."""
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"{where}: expected an OTLP/JSON object, got {type(data).__name__}",
            hint=_SHAPE_HINT,
        )
    roots = [signal for signal in Signal if signal.json_root in data]
    if len(roots) > 1:
        raise InvalidInputError(
            f"{where}: one JSON object holds {' and '.join(s.value for s in roots)}",
            hint="an OTLP/JSON request is of one signal; put each on its own line (JSON Lines)",
        )
    if not roots:
        if not data:
            return ExportTraceServiceRequest()
        raise InvalidInputError(
            f"{where}: no resourceSpans, resourceLogs or resourceMetrics in this JSON object",
            hint=_SHAPE_HINT,
        )
    return _parse(data, where, roots[0])


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
    batch = dict_to_batch(data, where)
    if not isinstance(batch, ExportTraceServiceRequest):
        raise InvalidInputError(
            f"{where}: this is {signal_of(batch).value} data, not traces",
            hint="this reads trace captures (resourceSpans)",
        )
    return batch


def _parse(data: dict[str, Any], where: str, signal: Signal) -> Batch:
    try:
        _ids_hex_to_base64(data, where, signal)
        return json_format.ParseDict(data, REQUEST_TYPES[signal](), ignore_unknown_fields=True)
    except (json_format.ParseError, AttributeError, TypeError) as exc:
        raise InvalidInputError(
            f"{where}: not valid OTLP/JSON: {str(exc).splitlines()[0][:200]}",
            hint="check the file against the OTLP/JSON encoding (lowerCamelCase keys)",
        ) from None


def _ids_base64_to_hex(data: dict[str, Any], signal: Signal) -> None:
    for holder in _id_holders(data, signal):
        for key in _ID_KEYS:
            if key in holder:
                holder[key] = base64.b64decode(holder[key]).hex()


def request_to_dict(request: Batch) -> dict[str, Any]:
    """Spec OTLP/JSON as a dict (ids hex, int64 as strings, enums as integers), any signal."""
    data: dict[str, Any] = json_format.MessageToDict(request, use_integers_for_enums=True)
    _ids_base64_to_hex(data, signal_of(request))
    return data


def resource_spans_dicts(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = request_to_dict(request).get("resourceSpans", [])
    return spans
