"""Pre-encoded traces for load generation: encode once, then patch ids and times in bytes."""

from __future__ import annotations

import random
import struct
import threading
import time
from collections.abc import Mapping, Sequence

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelcli.errors import UsageError
from otelcli.otlp.build import RenderedSpan, fill_span, new_request
from otelcli.otlp.values import AttrValue
from otelcli.otlp.wire import encode_varint


def _field_header(number: int, length: int) -> bytes:
    return encode_varint(number << 3 | 2) + encode_varint(length)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _field_header(number, len(payload)) + payload


def _find_sentinels(
    data: bytes, markers: Mapping[bytes, tuple[str, int]], expected: Mapping[bytes, int]
) -> list[tuple[int, tuple[str, int]]] | None:
    """Sorted positions of every sentinel, or None if one also occurs by chance."""
    found: list[tuple[int, tuple[str, int]]] = []
    for value, marker in markers.items():
        positions = []
        start = 0
        while (position := data.find(value, start)) != -1:
            positions.append(position)
            start = position + 1
        if len(positions) != expected[value]:
            return None
        found.extend((position, marker) for position in positions)
    found.sort()
    for (pos_a, mark_a), (pos_b, _) in zip(found, found[1:], strict=False):
        if pos_a + (16 if mark_a[0] == "trace" else 8) > pos_b:
            return None
    return found


class TraceTemplate:
    """A trace serialised once; each copy in a batch is a new trace with fresh ids.

    The spans are encoded with sentinel ids and timestamps whose byte offsets are recorded.
    A batch writes the timestamps into the copy once, repeats the copy, then fills in the
    ids with strided slice assignments (one C-level copy per id byte position, however
    many copies), so no Python code runs per copy or per span.
    """

    def __init__(
        self,
        rendered: Sequence[RenderedSpan],
        *,
        service: str,
        resource_attrs: Mapping[str, AttrValue] | None,
        scope: tuple[str, str],
        seed: int | None,
    ) -> None:
        self.spans_per_copy = len(rendered)
        self._rng = random.Random(seed)
        self._trace_ns = max(span.end_ns for span in rendered)
        # every timestamp of a copy, as offsets from the trace start, in encoding order
        self._time_offsets: list[int] = []
        for span in rendered:
            self._time_offsets += [span.start_ns, span.end_ns]
            self._time_offsets += [event.time_ns for event in span.events]
        request, _ = new_request(service, resource_attrs, *scope)
        header = request.resource_spans[0]
        self._resource = _field(1, header.resource.SerializeToString())
        self._scope = _field(1, header.scope_spans[0].scope.SerializeToString())
        self._copy, self._id_slots, self._time_slots = self._encode_copy(rendered)
        self._scratch = bytearray()
        self._lock = threading.Lock()  # batch() may be called from several sender threads

    def _encode_copy(
        self, rendered: Sequence[RenderedSpan]
    ) -> tuple[bytes, list[tuple[int, int, int]], list[tuple[int, int]]]:
        """The copy's bytes, its id slots (offset, size, offset in the random pool) and its
        timestamp slots (offset, index into the time offsets)."""
        sentinel_rng = random.Random(0x5EED)
        n = len(rendered)
        while True:
            trace = sentinel_rng.randbytes(16)
            ids = [sentinel_rng.randbytes(8) for _ in range(n)]
            times = [sentinel_rng.randbytes(8) for _ in self._time_offsets]
            markers: dict[bytes, tuple[str, int]] = {trace: ("trace", 0)}
            markers.update({v: ("span", i) for i, v in enumerate(ids)})
            markers.update({v: ("time", i) for i, v in enumerate(times)})
            if len(markers) != 1 + n + len(times):
                continue
            # how often each sentinel must occur: the trace id in every span, a span id
            # once for itself and once per child, each timestamp once
            expected = {trace: n, **dict.fromkeys(ids, 1), **dict.fromkeys(times, 1)}
            for span in rendered:
                if span.parent is not None:
                    expected[ids[span.parent]] += 1
            records = []
            time_values = iter(struct.unpack(f"<{len(times)}Q", b"".join(times)))
            for index, span in enumerate(rendered):
                proto = Span()
                fill_span(
                    proto,
                    span,
                    trace_id=trace,
                    span_id=ids[index],
                    parent_id=ids[span.parent] if span.parent is not None else b"",
                    base_ns=0,
                )
                proto.start_time_unix_nano = next(time_values)
                proto.end_time_unix_nano = next(time_values)
                for event in proto.events:
                    event.time_unix_nano = next(time_values)
                records.append(_field(2, proto.SerializeToString()))
            copy = b"".join(records)
            found = _find_sentinels(copy, markers, expected)
            if found is not None:
                break
        # per copy the random pool holds the trace id (16 bytes), then 8 bytes per span
        id_slots = [
            (position, 16, 0) if kind == "trace" else (position, 8, 16 + 8 * index)
            for position, (kind, index) in found
            if kind != "time"
        ]
        time_slots = [(position, index) for position, (kind, index) in found if kind == "time"]
        return copy, id_slots, time_slots

    def _buffer(self, size: int) -> bytearray:
        """A scratch buffer kept between batches: fresh memory costs page faults."""
        if len(self._scratch) != size:
            self._scratch = bytearray(size)
        return self._scratch

    def _timed_copy(self, base_ns: int) -> bytes:
        copy = bytearray(self._copy)
        for position, index in self._time_slots:
            struct.pack_into("<Q", copy, position, base_ns + self._time_offsets[index])
        return bytes(copy)

    def batch(self, copies: int, *, now_ns: int | None = None) -> bytes:
        """Serialized ExportTraceServiceRequest holding `copies` traces that end at `now_ns`."""
        if copies < 1:
            raise UsageError(
                "a batch needs at least one trace", hint="use a batch size of 1 or more"
            )
        end_ns = time.time_ns() if now_ns is None else now_ns
        with self._lock:
            return self._batch(copies, end_ns)

    def _batch(self, copies: int, end_ns: int) -> bytes:
        copy = self._timed_copy(end_ns - self._trace_ns)
        size = len(copy)
        scope_spans_len = len(self._scope) + size * copies
        resource_spans_len = len(self._resource) + len(_field_header(2, scope_spans_len))
        resource_spans_len += scope_spans_len
        head = (
            _field_header(1, resource_spans_len)
            + self._resource
            + _field_header(2, scope_spans_len)
            + self._scope
        )
        out = self._buffer(len(head) + size * copies)
        view = memoryview(out)
        view[: len(head)] = head
        start = len(head)
        view[start : start + size] = copy
        done = 1
        while done < copies:  # double the filled part: log2(copies) memmoves
            more = min(done, copies - done)
            target = start + done * size
            view[target : target + more * size] = view[start : start + more * size]
            done += more
        view.release()
        stride = 16 + 8 * self.spans_per_copy
        pool = self._rng.randbytes(stride * copies)
        for position, width, source in self._id_slots:
            for byte in range(width):
                # byte `byte` of this id, in every copy at once
                out[start + position + byte :: size] = pool[source + byte :: stride]
        return bytes(out)
