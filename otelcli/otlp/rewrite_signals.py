"""replay's rewrites for logs and metrics, with the same settings as for spans (otlp/rewrite.py):
time shift, fresh ids through the same IdRemapper (so a log record's trace and span ids, and an
exemplar's, follow the spans' new ids), service and resource attributes, dropped attributes,
and the filters (trace id for log records, service, --since/--until by record or point time).
A metric's data points are filtered one by one; a metric left without points is removed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from otelcli.otlp.rewrite import Rewrite
from otelcli.otlp.signals import Batch, metric_points
from otelcli.otlp.values import attributes_to_dict, remove_attribute, set_attribute

_MAX_TIME = (1 << 64) - 1
_PLAUSIBLE = 1 << 63  # as for spans: later times are no clock's, left out of the range


def apply(rewrite: Rewrite, batch: ExportLogsServiceRequest | ExportMetricsServiceRequest) -> int:
    """Rewrite a logs or metrics batch in place; returns the records the filters removed."""
    if isinstance(batch, ExportLogsServiceRequest):
        return _apply_logs(rewrite, batch)
    return _apply_metrics(rewrite, batch)


def _resource(rewrite: Rewrite, resource: Any) -> bool:
    """Rewrite a resource; False when the --service-filter drops it."""
    if rewrite.services:
        service = attributes_to_dict(resource.attributes).get("service.name", "")
        if not any(fnmatch.fnmatchcase(str(service), p) for p in rewrite.services):
            return False
    if rewrite.service is not None:
        set_attribute(resource.attributes, "service.name", rewrite.service)
    for key, value in rewrite.resource_attributes.items():
        set_attribute(resource.attributes, key, value)
    return True


def _shift(rewrite: Rewrite, time_ns: int) -> int:
    if not time_ns or not rewrite.time_shift_ns:
        return time_ns
    moved = time_ns + rewrite.time_shift_ns
    if 0 <= moved <= _MAX_TIME:
        return moved
    rewrite.clamped += 1
    return 0 if moved < 0 else _MAX_TIME


def _in_window(rewrite: Rewrite, time_ns: int) -> bool:
    if rewrite.since_ns is not None and time_ns < rewrite.since_ns:
        return False
    return rewrite.until_ns is None or time_ns < rewrite.until_ns


def _drop(rewrite: Rewrite, attributes: Any) -> None:
    if rewrite.drop_attributes:
        for key in [kv.key for kv in attributes if rewrite._drops(kv.key)]:  # noqa: SLF001
            remove_attribute(attributes, key)


def _apply_logs(rewrite: Rewrite, batch: ExportLogsServiceRequest) -> int:
    removed = 0
    for resource_logs in batch.resource_logs:
        if not _resource(rewrite, resource_logs.resource):
            removed += sum(len(sl.log_records) for sl in resource_logs.scope_logs)
            del resource_logs.scope_logs[:]
            continue
        for scope_logs in resource_logs.scope_logs:
            records = scope_logs.log_records
            if rewrite.filters:
                kept = [
                    r
                    for r in records
                    if (not rewrite.trace_ids or r.trace_id in rewrite.trace_ids)
                    and _in_window(rewrite, r.time_unix_nano or r.observed_time_unix_nano)
                ]
                if len(kept) != len(records):
                    removed += len(records) - len(kept)
                    del records[:]
                    records.extend(kept)
            for record in records:
                record.time_unix_nano = _shift(rewrite, record.time_unix_nano)
                record.observed_time_unix_nano = _shift(rewrite, record.observed_time_unix_nano)
                if rewrite.ids is not None:
                    record.trace_id = rewrite.ids.map(record.trace_id)
                    record.span_id = rewrite.ids.map(record.span_id)
                _drop(rewrite, record.attributes)
    return removed


def _apply_metrics(rewrite: Rewrite, batch: ExportMetricsServiceRequest) -> int:
    removed = 0
    for resource_metrics in batch.resource_metrics:
        if not _resource(rewrite, resource_metrics.resource):
            removed += sum(
                len(metric_points(m)) for sm in resource_metrics.scope_metrics for m in sm.metrics
            )
            del resource_metrics.scope_metrics[:]
            continue
        for scope_metrics in resource_metrics.scope_metrics:
            emptied = False
            for metric in scope_metrics.metrics:
                points = metric_points(metric)
                if rewrite.since_ns is not None or rewrite.until_ns is not None:
                    kept = [p for p in points if _in_window(rewrite, p.time_unix_nano)]
                    if len(kept) != len(points):
                        removed += len(points) - len(kept)
                        del points[:]
                        points.extend(kept)
                        emptied = emptied or not kept
                for point in points:
                    point.start_time_unix_nano = _shift(rewrite, point.start_time_unix_nano)
                    point.time_unix_nano = _shift(rewrite, point.time_unix_nano)
                    for exemplar in getattr(point, "exemplars", ()):
                        exemplar.time_unix_nano = _shift(rewrite, exemplar.time_unix_nano)
                        if rewrite.ids is not None:
                            exemplar.trace_id = rewrite.ids.map(exemplar.trace_id)
                            exemplar.span_id = rewrite.ids.map(exemplar.span_id)
                    _drop(rewrite, point.attributes)
            if emptied:
                kept_metrics = [m for m in scope_metrics.metrics if len(metric_points(m))]
                del scope_metrics.metrics[:]
                scope_metrics.metrics.extend(kept_metrics)
    return removed


def signal_time_range(batches: Iterable[Batch]) -> tuple[int, int]:
    """(earliest, latest) time over log records and metric points; (0, 0) when none."""
    first = last = 0
    for batch in batches:
        for time_ns in _times(batch):
            if time_ns and time_ns < _PLAUSIBLE:
                if not first or time_ns < first:
                    first = time_ns
                last = max(last, time_ns)
    return first, last


def _times(batch: Batch) -> Iterable[int]:
    if isinstance(batch, ExportLogsServiceRequest):
        for resource_logs in batch.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    yield record.time_unix_nano or record.observed_time_unix_nano
    elif isinstance(batch, ExportMetricsServiceRequest):
        for resource_metrics in batch.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric_points(metric):
                        yield point.time_unix_nano
