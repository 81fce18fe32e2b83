"""otlp/rewrite.py: filters, time shifts, fresh ids and attribute edits on one batch."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.rewrite import IdRemapper, Rewrite, time_range
from otelcli.otlp.spans import iter_spans
from tests.conftest import make_request


def _two_services() -> ExportTraceServiceRequest:
    batch = make_request(spans=3, service="checkout")
    batch.MergeFrom(make_request(spans=2, service="search", trace_byte=9))
    return batch


def test_nothing_set_changes_nothing() -> None:
    batch = _two_services()
    before = batch.SerializeToString()
    assert Rewrite().apply(batch) == 0
    assert batch.SerializeToString() == before


def test_new_ids_are_consistent_across_parents_links_and_batches() -> None:
    ids = IdRemapper(key=b"k" * 16)
    first, second = make_request(spans=3), make_request(spans=3)
    link = first.resource_spans[0].scope_spans[0].spans[2].links.add()
    link.trace_id, link.span_id = bytes([1]) * 16, bytes([1, 1]) * 4
    old = {v.span.span_id for v in iter_spans(first)}
    Rewrite(ids=ids).apply(first)
    Rewrite(ids=ids).apply(second)
    spans = [v.span for v in iter_spans(first)]
    assert {s.span_id for s in spans}.isdisjoint(old)
    assert spans[1].parent_span_id == spans[0].span_id == spans[2].links[0].span_id
    assert spans[2].links[0].trace_id == spans[0].trace_id
    assert [v.span.span_id for v in iter_spans(second)] == [s.span_id for s in spans]
    assert IdRemapper(key=b"j" * 16).map(spans[0].trace_id) != ids.map(spans[0].trace_id)


def test_an_id_never_maps_to_all_zeros_and_empty_stays_empty() -> None:
    ids = IdRemapper()
    assert ids.map(b"") == b""
    assert all(any(ids.map(bytes([n]) * 8)) for n in range(256))


def test_time_shift_moves_spans_and_events_together() -> None:
    batch = make_request(spans=2)
    span = batch.resource_spans[0].scope_spans[0].spans[1]
    span.events.add(name="e", time_unix_nano=span.start_time_unix_nano + 10)
    before = (span.start_time_unix_nano, span.end_time_unix_nano, span.events[0].time_unix_nano)
    Rewrite(time_shift_ns=5_000).apply(batch)
    after = (span.start_time_unix_nano, span.end_time_unix_nano, span.events[0].time_unix_nano)
    assert after == tuple(t + 5_000 for t in before)


def test_filters_count_what_they_remove() -> None:
    start = 1_700_000_000_000_000_000
    assert Rewrite(services=("check*",)).apply(_two_services()) == 2
    assert Rewrite(trace_ids=frozenset({bytes([9]) * 16})).apply(_two_services()) == 3
    # spans start at +0, +1000, +2000 ns in each trace
    assert Rewrite(since_ns=start + 1000).apply(_two_services()) == 2
    assert Rewrite(until_ns=start + 1000).apply(_two_services()) == 3
    kept = _two_services()
    Rewrite(services=("search",), until_ns=start + 1000).apply(kept)
    assert [v.name for v in iter_spans(kept)] == ["op-0"]


def test_attribute_edits() -> None:
    batch = make_request(spans=2, attributes={"gen_ai.input.messages": "[]", "keep": 1})
    event = batch.resource_spans[0].scope_spans[0].spans[0].events.add(name="e")
    event.attributes.add(key="gen_ai.input.x").value.string_value = "secret prompt"
    Rewrite(
        service="renamed",
        resource_attributes={"deployment.environment": "staging"},
        drop_attributes=("gen_ai.input.*",),
    ).apply(batch)
    views = list(iter_spans(batch))
    assert all("gen_ai.input.messages" not in v.attributes for v in views)
    assert all("keep" in v.attributes for v in views)
    assert not batch.resource_spans[0].scope_spans[0].spans[0].events[0].attributes
    assert views[0].resource_attributes["service.name"] == "renamed"
    assert views[0].resource_attributes["deployment.environment"] == "staging"


def test_time_range_ignores_untimed_spans() -> None:
    batch = make_request(spans=2)
    batch.resource_spans[0].scope_spans[0].spans.add(name="untimed")
    first, last = time_range([batch])
    spans = batch.resource_spans[0].scope_spans[0].spans
    assert first == spans[0].start_time_unix_nano
    assert last == max(s.end_time_unix_nano for s in spans)
    assert time_range([]) == (0, 0)
