"""Rewrite batches on their way through: filters, time shifts, fresh ids, attribute edits.

Everything works in place on one batch at a time, so a capture of any size streams through.
A time shift that would take a timestamp below 0 or past 2^64-1 ns (hostile or broken
timestamps, rebased to now) clamps it to that end and counts the span in `Rewrite.clamped`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelcli.otlp.values import AttrValue, attributes_to_dict, remove_attribute, set_attribute

_MAX_TIME = (1 << 64) - 1  # fixed64 nanoseconds
_PLAUSIBLE = 1 << 63  # times from here on are no real clock's (after the year 2262)


def _clamp(time_ns: int) -> int:
    """A shifted time brought back into what the fixed64 field holds."""
    return 0 if time_ns < 0 else min(time_ns, _MAX_TIME)


class IdRemapper:
    """Maps every trace and span id to a fresh one, consistently and without a lookup table.

    A keyed hash of the old id (the key is random per run) gives the same new id wherever the
    old one appears: parents, links, other batches, other files.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(16)

    def map(self, old: bytes) -> bytes:
        if not old:
            return old
        new = hashlib.blake2b(old, key=self._key, digest_size=len(old)).digest()
        return new if any(new) else b"\x01" * len(old)  # an all-zero id is invalid


@dataclass
class Rewrite:
    """What to change; empty settings change nothing (ids are kept bit-for-bit)."""

    time_shift_ns: int = 0
    ids: IdRemapper | None = None
    service: str | None = None
    resource_attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    drop_attributes: Sequence[str] = ()  # keys or glob patterns (gen_ai.input.*)
    trace_ids: frozenset[bytes] = frozenset()  # keep only these traces
    services: Sequence[str] = ()  # keep only these services (globs)
    since_ns: int | None = None  # keep spans that start at or after
    until_ns: int | None = None  # keep spans that start before
    clamped: int = 0  # spans with a shifted time outside 0..2^64-1, clamped into it

    @property
    def filters(self) -> bool:
        return bool(self.trace_ids or self.services or self.since_ns or self.until_ns)

    def _drops(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.drop_attributes)

    def apply(self, batch: ExportTraceServiceRequest) -> int:
        """Rewrite `batch` in place; returns how many spans the filters removed."""
        removed = 0
        for resource_spans in batch.resource_spans:
            resource = resource_spans.resource
            if self.services:
                service = attributes_to_dict(resource.attributes).get("service.name", "")
                if not any(fnmatch.fnmatchcase(str(service), p) for p in self.services):
                    removed += sum(len(ss.spans) for ss in resource_spans.scope_spans)
                    del resource_spans.scope_spans[:]
                    continue
            if self.service is not None:
                set_attribute(resource.attributes, "service.name", self.service)
            for key, value in self.resource_attributes.items():
                set_attribute(resource.attributes, key, value)
            for scope_spans in resource_spans.scope_spans:
                if self.filters:
                    kept = [span for span in scope_spans.spans if self._keeps(span)]
                    if len(kept) != len(scope_spans.spans):
                        removed += len(scope_spans.spans) - len(kept)
                        del scope_spans.spans[:]
                        scope_spans.spans.extend(kept)
                for span in scope_spans.spans:
                    self._rewrite_span(span)
        return removed

    def _keeps(self, span: Span) -> bool:
        start = span.start_time_unix_nano
        if self.trace_ids and span.trace_id not in self.trace_ids:
            return False
        if self.since_ns is not None and start < self.since_ns:
            return False
        return self.until_ns is None or start < self.until_ns

    def _rewrite_span(self, s: Span) -> None:
        if self.time_shift_ns:
            shift = self.time_shift_ns
            start = s.start_time_unix_nano + shift
            end = s.end_time_unix_nano + shift
            if 0 <= start <= _MAX_TIME and 0 <= end <= _MAX_TIME:
                s.start_time_unix_nano = start
                s.end_time_unix_nano = end
                clamped = False
            else:
                s.start_time_unix_nano = _clamp(start)
                s.end_time_unix_nano = _clamp(end)
                clamped = True
            for event in s.events:
                moved = event.time_unix_nano + shift
                if not 0 <= moved <= _MAX_TIME:
                    moved = _clamp(moved)
                    clamped = True
                event.time_unix_nano = moved
            if clamped:
                self.clamped += 1
        if self.ids is not None:
            remap = self.ids.map
            s.trace_id = remap(s.trace_id)
            s.span_id = remap(s.span_id)
            s.parent_span_id = remap(s.parent_span_id)
            for link in s.links:
                link.trace_id = remap(link.trace_id)
                link.span_id = remap(link.span_id)
        if self.drop_attributes:
            for key in [kv.key for kv in s.attributes if self._drops(kv.key)]:
                remove_attribute(s.attributes, key)
            for event in s.events:
                for key in [kv.key for kv in event.attributes if self._drops(kv.key)]:
                    remove_attribute(event.attributes, key)


def time_range(batches: Iterable[ExportTraceServiceRequest]) -> tuple[int, int]:
    """(earliest start, latest end) over spans with timestamps; (0, 0) when there are none.

    Timestamps at or past 2^63 ns (after the year 2262: no clock gives them, and int64
    consumers cannot hold them) are left out, so a shift to now computed from the range
    always fits an int64; such spans are clamped when shifted.
    """
    first = last = 0
    for batch in batches:
        for rs in batch.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    start = span.start_time_unix_nano
                    if start and start < _PLAUSIBLE and (not first or start < first):
                        first = start
                    end = span.end_time_unix_nano
                    if last < end < _PLAUSIBLE:
                        last = end
    return first, last
