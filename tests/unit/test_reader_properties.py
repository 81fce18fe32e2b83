"""Readers either parse or fail with the clean InvalidInputError: never another exception."""

from __future__ import annotations

import gzip
import io
import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otelcli.errors import InvalidInputError
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.reader import read_batches
from tests.conftest import make_request

SAMPLE = make_request(3)
PB = SAMPLE.SerializeToString()
JSONL = orjson.dumps(request_to_dict(SAMPLE)) + b"\n" + orjson.dumps(request_to_dict(SAMPLE))
LP = len(PB).to_bytes(4, "big") + PB
SAMPLES = [PB, JSONL, LP, gzip.compress(PB), gzip.compress(JSONL), gzip.compress(LP)]


def read_all(data: bytes) -> int:
    try:
        return sum(1 for _ in read_batches(["-"], stdin=io.BytesIO(data)))
    except InvalidInputError as error:
        assert error.message and "\n" not in error.message
        return -1


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    read_all(data)


@settings(max_examples=300)
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated(sample: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(sample)))
    read_all(sample[:cut])


@settings(max_examples=400)
@given(st.sampled_from(SAMPLES), st.data())
def test_corrupted(sample: bytes, data: st.DataObject) -> None:
    corrupted = bytearray(sample)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(sample) - 1))
        corrupted[position] = data.draw(st.integers(min_value=0, max_value=255))
    read_all(bytes(corrupted))


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "resourceSpans",
                        "scopeSpans",
                        "spans",
                        "traceId",
                        "spanId",
                        "name",
                        "attributes",
                        "kind",
                        "x",
                    ]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_random_json_shapes(value: object) -> None:
    read_all(json.dumps(value).encode())
