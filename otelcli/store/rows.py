"""OTLP spans, log records and metric points as the rows the Collector's clickhouseexporter
writes (its conversions in current contrib; the columns are schema.py's).

Spans:

- Timestamp = start; Duration = end - start in ns (0 if the end is before the start: UInt64);
- ids as lowercase hex, "" for a missing or all-zero id;
- SpanKind / StatusCode as pdata names: Unspecified, Internal, Server, Client, Producer,
  Consumer / Unset, Ok, Error;
- ServiceName = resource `service.name` (as a string) or "";
- every attribute value as pdata's `Value.AsString()`: see `as_string`.

Log records (`log_rows`): Timestamp = the record's time, else its observed time; ids as for
spans; TraceFlags = flags & 0xff and SeverityNumber as UInt8; SeverityText as written; Body =
`AsString()` of the body (a map or array body becomes compact JSON, none is ""); the
resource's and scope's schema URLs, scope name, version and attributes.

Metric points (`metric_rows`, one row per data point, keyed by the Metric's data kind): the
resource, scope (with its dropped attribute count) and metric name, description and unit on
every row; a number point's int or double as Float64 (0 when it has none); histograms'
bucket counts and bounds as arrays; Sum, Min and Max 0 when absent; AggregationTemporality
as its enum number; exemplars as parallel arrays whose ids are hex of the full width (an
absent id is all zeros there, unlike a span's ""). A non-finite double is written "nan" /
"inf" / "-inf", which the engine reads back as that double.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from otelcli.otlp.values import to_python

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.metrics.v1.metrics_pb2 import Exemplar

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


def log_rows(batch: ExportLogsServiceRequest) -> Iterator[dict[str, Any]]:
    """One exporter row per log record of a batch."""
    for resource_logs in batch.resource_logs:
        resource = attribute_map(resource_logs.resource.attributes)
        service = resource.get("service.name", "")
        resource_url = resource_logs.schema_url
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_attributes = attribute_map(scope.attributes)
            for record in scope_logs.log_records:
                when = record.time_unix_nano or record.observed_time_unix_nano
                yield {
                    "Timestamp": _timestamp(when),
                    "TraceId": hex_id(record.trace_id),
                    "SpanId": hex_id(record.span_id),
                    "TraceFlags": record.flags & 0xFF,
                    "SeverityText": record.severity_text,
                    "SeverityNumber": record.severity_number & 0xFF,
                    "ServiceName": service,
                    "Body": as_string(record.body),
                    "ResourceSchemaUrl": resource_url,
                    "ResourceAttributes": resource,
                    "ScopeSchemaUrl": scope_logs.schema_url,
                    "ScopeName": scope.name,
                    "ScopeVersion": scope.version,
                    "ScopeAttributes": scope_attributes,
                    "LogAttributes": attribute_map(record.attributes),
                }


def _double(value: float) -> float | str:
    """A Float64 for JSONEachRow: JSON has no NaN or infinities, the engine reads them quoted."""
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _doubles(values: Iterable[float]) -> list[float | str]:
    return [_double(v) for v in values]


def _number(point: Any) -> float | str:
    """A number point's or exemplar's value: the int or the double, 0 when it has neither."""
    kind = point.WhichOneof("value")
    if kind == "as_int":
        return float(point.as_int)
    return _double(point.as_double) if kind == "as_double" else 0.0


def _full_hex(raw: bytes, size: int) -> str:
    return raw.hex() if raw else "00" * size


def _exemplars(exemplars: Sequence[Exemplar]) -> dict[str, Any]:
    return {
        "Exemplars.FilteredAttributes": [attribute_map(e.filtered_attributes) for e in exemplars],
        "Exemplars.TimeUnix": [_timestamp(e.time_unix_nano) for e in exemplars],
        "Exemplars.Value": [_number(e) for e in exemplars],
        "Exemplars.SpanId": [_full_hex(e.span_id, 8) for e in exemplars],
        "Exemplars.TraceId": [_full_hex(e.trace_id, 16) for e in exemplars],
    }


def _point_values(kind: str, data: Any, point: Any) -> dict[str, Any]:
    """The columns after TimeUnix of one data point, per the metric's data kind."""
    if kind in ("gauge", "sum"):
        values = {"Value": _number(point), "Flags": point.flags, **_exemplars(point.exemplars)}
        if kind == "sum":
            values["AggregationTemporality"] = data.aggregation_temporality
            values["IsMonotonic"] = data.is_monotonic
        return values
    if kind == "summary":
        quantiles = point.quantile_values
        return {
            "Count": point.count,
            "Sum": _double(point.sum),
            "ValueAtQuantiles.Quantile": _doubles(q.quantile for q in quantiles),
            "ValueAtQuantiles.Value": _doubles(q.value for q in quantiles),
            "Flags": point.flags,
        }
    values = {"Count": point.count, "Sum": _double(point.sum)}
    if kind == "histogram":
        values["BucketCounts"] = list(point.bucket_counts)
        values["ExplicitBounds"] = _doubles(point.explicit_bounds)
    else:  # exponential_histogram
        values.update(
            {
                "Scale": point.scale,
                "ZeroCount": point.zero_count,
                "PositiveOffset": point.positive.offset,
                "PositiveBucketCounts": list(point.positive.bucket_counts),
                "NegativeOffset": point.negative.offset,
                "NegativeBucketCounts": list(point.negative.bucket_counts),
            }
        )
    values.update(_exemplars(point.exemplars))
    values["Flags"] = point.flags
    values["Min"] = _double(point.min)
    values["Max"] = _double(point.max)
    values["AggregationTemporality"] = data.aggregation_temporality
    return values


def metric_rows(batch: ExportMetricsServiceRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    """(data kind, exporter row) per metric data point of a batch; the kind (`gauge`, `sum`,
    `histogram`, `exponential_histogram`, `summary`) names its table in schema.METRICS_TABLES.
    A metric without data has no points and no row."""
    for resource_metrics in batch.resource_metrics:
        resource = attribute_map(resource_metrics.resource.attributes)
        service = resource.get("service.name", "")
        resource_url = resource_metrics.schema_url
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            head = {
                "ResourceAttributes": resource,
                "ResourceSchemaUrl": resource_url,
                "ScopeName": scope.name,
                "ScopeVersion": scope.version,
                "ScopeAttributes": attribute_map(scope.attributes),
                "ScopeDroppedAttrCount": scope.dropped_attributes_count,
                "ScopeSchemaUrl": scope_metrics.schema_url,
                "ServiceName": service,
            }
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                for point in data.data_points:
                    yield (
                        kind,
                        {
                            **head,
                            "MetricName": metric.name,
                            "MetricDescription": metric.description,
                            "MetricUnit": metric.unit,
                            "Attributes": attribute_map(point.attributes),
                            "StartTimeUnix": _timestamp(point.start_time_unix_nano),
                            "TimeUnix": _timestamp(point.time_unix_nano),
                            **_point_values(kind, data, point),
                        },
                    )


INSERT_ROWS = 20_000  # rows per INSERT: large enough for the engine, small enough to hold


def encode_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    """JSONEachRow: one JSON object a line."""
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)
