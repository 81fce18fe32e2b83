"""The three OTLP signals: a batch is an Export*ServiceRequest, and its type names its signal.

Readers yield batches of any signal; a command takes the signals it understands (`only`) and
counts the rest in `Unused`, so its report can say "3 metrics batches not used by cost".

A protobuf body does not say which request it is: the three requests share their layout down
to the leaf messages (field 1 resource_*, field 2 scope_*, field 2 spans / log records /
metrics). `detect_pb` walks to the first leaves and keeps the signals whose field numbers and
wire types fit them: a span's start time is a fixed64 where a metric holds a sum, a log record
starts with a fixed64 time where a span has its trace id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.wire import FIXED32, FIXED64, LENGTH_DELIMITED, VARINT, field_end, read_varint


class Signal(StrEnum):
    TRACES = "traces"
    LOGS = "logs"
    METRICS = "metrics"

    @property
    def records(self) -> str:
        """What one item of this signal is called in counts."""
        return _RECORDS[self]

    @property
    def path(self) -> str:
        """The OTLP/HTTP path (`/v1/traces`, ...)."""
        return f"/v1/{self.value}"

    @property
    def json_root(self) -> str:
        return _JSON_ROOTS[self]


Batch = ExportTraceServiceRequest | ExportLogsServiceRequest | ExportMetricsServiceRequest
B = TypeVar("B", ExportTraceServiceRequest, ExportLogsServiceRequest, ExportMetricsServiceRequest)

REQUEST_TYPES: dict[Signal, type[Batch]] = {
    Signal.TRACES: ExportTraceServiceRequest,
    Signal.LOGS: ExportLogsServiceRequest,
    Signal.METRICS: ExportMetricsServiceRequest,
}
_SIGNALS: dict[type, Signal] = {kind: signal for signal, kind in REQUEST_TYPES.items()}
_RECORDS = {Signal.TRACES: "spans", Signal.LOGS: "log records", Signal.METRICS: "data points"}
_JSON_ROOTS = {
    Signal.TRACES: "resourceSpans",
    Signal.LOGS: "resourceLogs",
    Signal.METRICS: "resourceMetrics",
}
JSON_SIGNALS = {root: signal for signal, root in _JSON_ROOTS.items()}
_DATA_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def signal_of(batch: Batch) -> Signal:
    return _SIGNALS[type(batch)]


def empty_request(signal: Signal) -> Batch:
    return REQUEST_TYPES[signal]()


def metric_points(metric: Any) -> Any:
    """The data points of one Metric, whatever its type (empty when it has none)."""
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind else ()


def count_records(batch: Batch) -> int:
    """Spans, log records or metric data points in a batch."""
    if isinstance(batch, ExportTraceServiceRequest):
        return sum(len(ss.spans) for rs in batch.resource_spans for ss in rs.scope_spans)
    if isinstance(batch, ExportLogsServiceRequest):
        return sum(len(sl.log_records) for rl in batch.resource_logs for sl in rl.scope_logs)
    return sum(
        len(metric_points(metric))
        for rm in batch.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    )


def only(kind: type[B], batches: Iterable[Batch], unused: Unused) -> Iterator[B]:
    """The batches of one signal; every other one is counted in `unused`."""
    for batch in batches:
        if isinstance(batch, kind):
            yield batch
        else:
            unused.add(batch)


@dataclass
class Unused:
    """Batches (and their records) of signals a command does not use, per signal."""

    batches: Counter[Signal] = field(default_factory=Counter)
    records: Counter[Signal] = field(default_factory=Counter)
    files: dict[str, str] = field(default_factory=dict)  # in a folder, not a capture: why

    def add(self, batch: Batch) -> None:
        signal = signal_of(batch)
        self.batches[signal] += 1
        self.records[signal] += count_records(batch)

    def __bool__(self) -> bool:
        return bool(self.batches or self.files)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            signal.value: {"batches": self.batches[signal], "records": self.records[signal]}
            for signal in Signal
            if self.batches[signal]
        }
        if self.files:
            result["skipped_files"] = dict(self.files)
        return result

    def describe(self, command: str) -> str | None:
        """For example "2 logs batches (9 log records) not used by cost"; None if none."""
        parts = [
            f"{count:,} {signal.value} batch{'es' if count != 1 else ''}"
            f" ({self.records[signal]:,} {signal.records})"
            for signal in Signal
            if (count := self.batches[signal])
        ]
        if self.files:
            parts.append(
                f"{len(self.files):,} file{'s' if len(self.files) != 1 else ''} in folders"
            )
        return f"{', '.join(parts)} not used by {command}" if parts else None


# -- protobuf detection ------------------------------------------------------------------------

# Field number -> wire type of the leaf messages (Span, LogRecord, Metric).
_LEAF_FIELDS: dict[Signal, dict[int, int]] = {
    Signal.TRACES: {
        1: LENGTH_DELIMITED,
        2: LENGTH_DELIMITED,
        3: LENGTH_DELIMITED,
        4: LENGTH_DELIMITED,
        5: LENGTH_DELIMITED,
        6: VARINT,
        7: FIXED64,
        8: FIXED64,
        9: LENGTH_DELIMITED,
        10: VARINT,
        11: LENGTH_DELIMITED,
        12: VARINT,
        13: LENGTH_DELIMITED,
        14: VARINT,
        15: LENGTH_DELIMITED,
        16: FIXED32,
    },
    Signal.LOGS: {
        1: FIXED64,
        2: VARINT,
        3: LENGTH_DELIMITED,
        5: LENGTH_DELIMITED,
        6: LENGTH_DELIMITED,
        7: VARINT,
        8: FIXED32,
        9: LENGTH_DELIMITED,
        10: LENGTH_DELIMITED,
        11: FIXED64,
        12: LENGTH_DELIMITED,
    },
    Signal.METRICS: {
        1: LENGTH_DELIMITED,
        2: LENGTH_DELIMITED,
        3: LENGTH_DELIMITED,
        5: LENGTH_DELIMITED,
        7: LENGTH_DELIMITED,
        9: LENGTH_DELIMITED,
        10: LENGTH_DELIMITED,
        11: LENGTH_DELIMITED,
        12: LENGTH_DELIMITED,
    },
}
# A span's trace id and span id have fixed sizes; a metric's name and description do not.
_SPAN_ID_SIZES = {1: 16, 2: 8, 4: 8}
_LEAVES_CHECKED = 8  # leaves looked at before settling a tie on the most likely signal


def _fields(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(number, wire type, value start, value end) of each field in data[start:end]."""
    pos = start
    while pos < end:
        found = field_end(data, pos)
        if found is None or found[2] > end:
            return
        number, wire_type, field_stop = found
        value_start = pos
        if wire_type == LENGTH_DELIMITED:
            tag = read_varint(data, pos)
            assert tag is not None
            length = read_varint(data, tag[1])
            assert length is not None
            value_start = length[1]
        yield number, wire_type, value_start, field_stop
        pos = field_stop


def _fits(signal: Signal, data: bytes | bytearray, start: int, end: int) -> bool:
    schema = _LEAF_FIELDS[signal]
    for number, wire_type, value_start, value_end in _fields(data, start, end):
        expected = schema.get(number)
        if expected is not None and expected != wire_type:
            return False
        if signal is Signal.TRACES and number in _SPAN_ID_SIZES:
            size = value_end - value_start
            if size and size != _SPAN_ID_SIZES[number]:
                return False
    return True


def _leaves(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each leaf message: request field 1 -> field 2 -> field 2."""
    for number, wire_type, r_start, r_end in _fields(data, start, end):
        if number != 1 or wire_type != LENGTH_DELIMITED:
            continue
        for number2, wire2, s_start, s_end in _fields(data, r_start, r_end):
            if number2 != 2 or wire2 != LENGTH_DELIMITED:
                continue
            for number3, wire3, l_start, l_end in _fields(data, s_start, s_end):
                if number3 == 2 and wire3 == LENGTH_DELIMITED:
                    yield l_start, l_end


def detect_pb(data: bytes | bytearray, start: int = 0, end: int | None = None) -> Signal | None:
    """The signal of a serialized request (or a run of its top-level fields); None when it
    holds no leaf to tell by (an empty request is the same bytes for all three)."""
    stop = len(data) if end is None else end
    candidates = list(Signal)
    seen = 0
    try:
        for leaf_start, leaf_end in _leaves(data, start, stop):
            candidates = [s for s in candidates if _fits(s, data, leaf_start, leaf_end)]
            seen += 1
            if len(candidates) <= 1 or seen >= _LEAVES_CHECKED:
                break
    except ValueError:
        return None
    if not seen:
        return None
    # A tie (or nothing fits: a corrupt body) goes to the most common signal, traces first.
    return candidates[0] if candidates else Signal.TRACES
