"""otlp/batching.py: splitting and re-chunking keep every span, in order, under its own
resource and scope."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.otlp.batching import rechunk, split_request
from otelcli.otlp.spans import count_spans, iter_spans
from tests.conftest import make_request


def _batch(shape: list[list[int]], base: int = 0) -> ExportTraceServiceRequest:
    """Resources of scopes of N spans; each span's name says where it came from."""
    request = ExportTraceServiceRequest()
    for r, scopes in enumerate(shape):
        rs = request.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = f"svc-{base + r}"
        for s, count in enumerate(scopes):
            ss = rs.scope_spans.add()
            ss.scope.name = f"scope-{s}"
            for i in range(count):
                ss.spans.add(name=f"{base + r}/{s}/{i}", span_id=bytes([1 + i % 250]) * 8)
    return request


def _where(batches: list[ExportTraceServiceRequest]) -> list[tuple[str, str, str]]:
    """(span name, service, scope) of every span, in order."""
    return [
        (view.name, str(view.service_name), view.scope.name)
        for batch in batches
        for view in iter_spans(batch)
    ]


shapes = st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=3), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(shapes)
def test_split_request_halves_keep_every_span_in_place(shape: list[list[int]]) -> None:
    batch = _batch(shape)
    first, second = split_request(batch)
    total = count_spans(batch)
    assert count_spans(first) == total // 2
    assert count_spans(second) == total - total // 2
    assert _where([first, second]) == _where([batch])


@settings(max_examples=60, deadline=None)
@given(st.lists(shapes, min_size=1, max_size=4), st.integers(1, 9))
def test_rechunk_cuts_at_the_limit_and_loses_nothing(
    shape_list: list[list[list[int]]], limit: int
) -> None:
    batches = [_batch(shape, base=10 * n) for n, shape in enumerate(shape_list)]
    expected = _where(batches)
    chunks = list(rechunk((_batch(s, base=10 * n) for n, s in enumerate(shape_list)), limit))
    assert all(0 < count_spans(chunk) <= limit for chunk in chunks)
    assert _where(chunks) == expected
    assert len(chunks) == math.ceil(len(expected) / limit)


def test_rechunk_passes_a_batch_of_exactly_the_limit_through_unchanged() -> None:
    batch = make_request(spans=4)
    (only,) = rechunk([batch], 4)
    assert only is batch


def test_rechunk_of_nothing_is_nothing() -> None:
    assert list(rechunk([ExportTraceServiceRequest()], 5)) == []
