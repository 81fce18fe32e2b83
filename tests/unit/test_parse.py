"""Hand-built spans: typed --attr values, W3C traceparent, times, durations, the span batch."""

from __future__ import annotations

import calendar
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otelcli.errors import UsageError
from otelcli.otlp.handmade import build_span
from otelcli.otlp.ids import TraceParent, format_traceparent, parse_traceparent
from otelcli.otlp.spans import iter_spans
from otelcli.parse import (
    parse_attr,
    parse_attrs,
    parse_duration,
    parse_kind,
    parse_status,
    parse_time,
    read_time,
    resolve_times,
)

SECOND = 1_000_000_000
NOW = 1_767_225_600 * SECOND


def utc(*fields: int) -> int:
    """Unix seconds of a UTC date, computed independently of the parser (calendar module)."""
    return calendar.timegm((*fields, 0, 0, 0)[:9])


# --- attributes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("k=1", 1),
        ("k=-7", -7),
        ("k=0", 0),
        ("k=1.5", 1.5),
        ("k=-0.25", -0.25),
        ("k=1e3", 1000.0),
        ("k=.5", 0.5),
        ("k=true", True),
        ("k=FALSE", False),
        ("k=hello world", "hello world"),
        ("k=", ""),
        ("k=007", "007"),  # a leading zero keeps it text (zip codes, ids)
        ("k=1.5.2", "1.5.2"),
        ("k=99999999999999999999", "99999999999999999999"),  # beyond int64: keep the digits
        ("k=nan", "nan"),
        ('k=["a","b"]', ["a", "b"]),
        ("k=[1,2,3]", [1, 2, 3]),
        ("k=[1,2.5]", [1.0, 2.5]),
        ("k=[true,false]", [True, False]),
        ("k=[]", []),
        ("k=a=b", "a=b"),
        ("k=[draft", "[draft"),
        ("k:str=1", "1"),
        ("k:string=true", "true"),
        ("k:int=42", 42),
        ("k:int=-9223372036854775808", -(2**63)),
        ("k:double=2", 2.0),
        ("k:float=1e-3", 0.001),
        ("k:bool=true", True),
        ("k:bool=0", False),
        ('k:json={"a":[1,{"b":null}]}', {"a": [1, {"b": None}]}),
        ('k:json=[1,"a"]', [1, "a"]),
        ('k:json="text"', "text"),
    ],
)
def test_attr_values_are_typed(item: str, expected: object) -> None:
    key, value = parse_attr(item)
    assert key == "k"
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in value] == [type(v) for v in expected]  # type: ignore[attr-defined]


def test_attr_keys_keep_colons_that_are_not_types() -> None:
    assert parse_attr("genkit:metadata:subtype=model") == ("genkit:metadata:subtype", "model")
    assert parse_attr("a:b:int=3") == ("a:b", 3)
    assert parse_attr("  spaced.key =x") == ("spaced.key", "x")


@pytest.mark.parametrize(
    "item",
    [
        "novalue",
        "=1",
        ":int=1",
        "k:int=abc",
        "k:int=1.5",
        "k:int=9223372036854775808",
        "k:double=abc",
        "k:bool=maybe",
        "k:json={bad",
        "k:json=null",
        "k:json=123456789012345678901234567890",
        'k=[1,"a"]',
        "k=[[1],[2]]",
        'k=[{"a":1}]',
        "k=[oops]",
    ],
)
def test_bad_attrs_are_usage_errors_with_a_hint(item: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_attr(item)
    assert info.value.hint


def test_later_attrs_replace_earlier_ones() -> None:
    assert parse_attrs(["a=1", "b=x", "a:str=2"]) == {"a": "2", "b": "x"}


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_int64_round_trips(number: int) -> None:
    assert parse_attr(f"n={number}") == ("n", number)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_round_trips(number: float) -> None:
    key, value = parse_attr(f"x={number!r}")
    assert isinstance(value, float) and value == number


@given(st.text())
def test_explicit_str_keeps_any_text(text: str) -> None:
    assert parse_attr("s:str=" + text) == ("s", text)


# --- traceparent ------------------------------------------------------------------------

W3C_EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_traceparent_from_the_w3c_example() -> None:
    parent = parse_traceparent(W3C_EXAMPLE)
    assert parent.trace_id == bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
    assert parent.span_id == bytes.fromhex("00f067aa0ba902b7")
    assert parent.flags == 1 and parent.sampled
    assert parent.format() == W3C_EXAMPLE
    unsampled = parse_traceparent(W3C_EXAMPLE[:-2] + "00")
    assert not unsampled.sampled
    assert parse_traceparent(f"  {W3C_EXAMPLE}\n") == parent


def test_later_traceparent_versions_may_append_fields() -> None:
    parent = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever")
    assert parent.span_id.hex() == "00f067aa0ba902b7"
    # what we print is always version 00
    assert parent.format().startswith("00-")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        W3C_EXAMPLE.upper(),
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
    ],
)
def test_invalid_traceparents_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_traceparent(value)
    assert info.value.hint


@given(
    st.binary(min_size=16, max_size=16).filter(any),
    st.binary(min_size=8, max_size=8).filter(any),
    st.integers(min_value=0, max_value=255),
)
def test_format_and_parse_traceparent_round_trip(trace: bytes, span: bytes, flags: int) -> None:
    text = format_traceparent(trace, span, flags)
    assert parse_traceparent(text) == TraceParent(trace, span, flags)


# --- times and durations ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("now", NOW),
        ("NOW", NOW),
        ("1738324800", 1738324800 * SECOND),
        ("1738324800.5", 1738324800 * SECOND + 500_000_000),
        ("1738324800.123456789", 1738324800 * SECOND + 123_456_789),
        ("1738324800.000000001", 1738324800 * SECOND + 1),
        ("2025-01-31T12:00:00Z", utc(2025, 1, 31, 12, 0, 0) * SECOND),
        ("2025-01-31T12:00:00.123456789Z", utc(2025, 1, 31, 12, 0, 0) * SECOND + 123_456_789),
        ("2025-01-31T12:00:00.25Z", utc(2025, 1, 31, 12, 0, 0) * SECOND + 250_000_000),
        ("2025-01-31T14:00:00+02:00", utc(2025, 1, 31, 12, 0, 0) * SECOND),
        ("2025-01-31T07:30:00-04:30", utc(2025, 1, 31, 12, 0, 0) * SECOND),
        ("2025-01-31 12:00:00+00:00", utc(2025, 1, 31, 12, 0, 0) * SECOND),  # date --rfc-3339
        ("2025-01-31t12:00:00z", utc(2025, 1, 31, 12, 0, 0) * SECOND),
        ("2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0) * SECOND),
    ],
)
def test_times(value: str, expected: int) -> None:
    assert parse_time(value, now_ns=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2025-01-31T12:00:00",  # RFC 3339 needs an offset
        "2025-13-01T00:00:00Z",
        "2025-02-30T00:00:00Z",
        "2025-01-31T12:00:00.1234567891Z",
        "1738324800.1234567891",
        "-5",
        "1738324800000",  # milliseconds
        "1969-12-31T23:59:59Z",
    ],
)
def test_bad_times_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_time(value, now_ns=NOW)
    assert info.value.hint


def test_millisecond_epochs_get_a_pointed_hint() -> None:
    with pytest.raises(UsageError) as info:
        parse_time("1738324800000")
    assert info.value.hint and "millisecond" in info.value.hint


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-04T10:15:01.120Z", 1_741_083_301_120_000_000),
        ("2025-03-04T11:15:01.120+01:00", 1_741_083_301_120_000_000),
        ("2025-03-04T10:15:01.123456789Z", 1_741_083_301_123_456_789),
        (1741083301, 1_741_083_301_000_000_000),
        (1741083301.5, 1_741_083_301_500_000_000),
        (1741083301120, 1_741_083_301_120_000_000),
        ("1741083301120000", 1_741_083_301_120_000_000),
        (1741083301120000000, 1_741_083_301_120_000_000),
        ("2025-03-04 10:15:01,120", 1_741_083_301_120_000_000),
        ("2025-03-04T11:15+0100", 1_741_083_300_000_000_000),
        ("2025-02-30T00:00:00Z", None),
        ("yesterday", None),
        (True, None),
        (None, None),
    ],
)
def test_times_in_recorded_data(value: object, expected: int | None) -> None:
    """HAR files and logs: ISO 8601 with any zone, or an epoch in s, ms, µs or ns."""
    assert read_time(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250ms", 250_000_000),
        ("1.5s", 1_500_000_000),
        ("2m", 120 * SECOND),
        ("1h30m", 5400 * SECOND),
        ("1m0.5s", 60 * SECOND + 500_000_000),
        (".5s", 500_000_000),
        ("100us", 100_000),
        ("10µs", 10_000),
        ("42ns", 42),
        ("0", 0),
        ("0s", 0),
    ],
)
def test_durations(value: str, expected: int) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["250", "", "-1s", "1d", "s", "1.5.2s", "1 s", "ms5"])
def test_bad_durations_are_usage_errors(value: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(value)
    assert info.value.hint


def test_unitless_duration_hint_asks_for_a_unit() -> None:
    with pytest.raises(UsageError) as info:
        parse_duration("250")
    assert info.value.hint and "unit" in info.value.hint


@given(
    st.integers(min_value=0, max_value=10**6), st.sampled_from(["ns", "us", "ms", "s", "m", "h"])
)
def test_integer_durations_scale_by_their_unit(number: int, unit: str) -> None:
    scale = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
    assert parse_duration(f"{number}{unit}") == number * scale[unit]


def test_resolve_times_from_any_two() -> None:
    start = "2025-01-31T12:00:00Z"
    t0 = utc(2025, 1, 31, 12, 0, 0) * SECOND
    assert resolve_times(now_ns=NOW) == (NOW, NOW)
    assert resolve_times(duration="2s", now_ns=NOW) == (NOW - 2 * SECOND, NOW)
    assert resolve_times(start=start, duration="250ms", now_ns=NOW) == (t0, t0 + 250_000_000)
    assert resolve_times(end=start, duration="1m", now_ns=NOW) == (t0 - 60 * SECOND, t0)
    assert resolve_times(start=start, end="now", now_ns=NOW) == (t0, NOW)
    assert resolve_times(start=start, now_ns=NOW) == (t0, NOW)
    assert resolve_times(end=start, now_ns=NOW) == (t0, t0)
    with pytest.raises(UsageError):
        resolve_times(start="now", end=start, now_ns=NOW)  # ends before it starts
    with pytest.raises(UsageError):
        resolve_times(start=start, end="now", duration="1s", now_ns=NOW)


# --- the span ---------------------------------------------------------------------------


def test_kinds_and_statuses() -> None:
    assert [parse_kind(k) for k in ("internal", "SERVER", "client", "producer", "consumer")] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert [parse_status(s) for s in ("unset", "OK", "error", "2")] == [0, 1, 2, 2]
    with pytest.raises(UsageError):
        parse_kind("sideways")
    with pytest.raises(UsageError):
        parse_status("fine")


def test_span_without_parent_starts_a_trace() -> None:
    made = build_span(
        name="deploy",
        kind="internal",
        attributes=parse_attrs(["n=3", "ratio=0.5", "ok=true", 'tags=["a","b"]', "who=me"]),
        service="ci",
        resource_attributes={"deployment.environment.name": "prod", "service.name": "x"},
        start_ns=NOW - SECOND,
        end_ns=NOW,
        status="error",
        status_message="exit 1",
        rng=random.Random(1),
    )
    (view,) = iter_spans(made.request)
    assert view.name == "deploy" and view.kind_name == "INTERNAL"
    assert view.parent_span_id == ""
    assert (view.start_ns, view.end_ns) == (NOW - SECOND, NOW)
    assert view.status_code == 2 and view.status_message == "exit 1"
    assert view.resource_attributes == {"deployment.environment.name": "prod", "service.name": "ci"}
    kinds = {kv.key: kv.value.WhichOneof("value") for kv in view.span.attributes}
    assert kinds == {
        "n": "int_value",
        "ratio": "double_value",
        "ok": "bool_value",
        "tags": "array_value",
        "who": "string_value",
    }
    assert (
        made.context.trace_id.hex() == view.trace_id and made.context.span_id.hex() == view.span_id
    )
    assert any(made.context.trace_id) and any(made.context.span_id)
    assert made.context.sampled
    assert view.span.flags & 0x300 == 0x100  # local root: is-remote known, not remote


def test_span_with_parent_joins_the_trace_and_chains() -> None:
    parent = parse_traceparent(W3C_EXAMPLE[:-2] + "00")
    first = build_span(name="step 1", start_ns=NOW, end_ns=NOW, parent=parent, trace_state="k=v")
    (view,) = iter_spans(first.request)
    assert view.trace_id == parent.trace_id.hex()
    assert view.parent_span_id == parent.span_id.hex()
    assert view.span_id != parent.span_id.hex()
    assert view.span.trace_state == "k=v"
    assert view.kind_name == "CLIENT"  # otel-cli's default
    assert view.span.flags == 0x300  # parent remote, not sampled
    assert not first.context.sampled
    # a shell script passes the printed traceparent on to the next span
    printed = first.context.format()
    second = build_span(name="step 2", start_ns=NOW, end_ns=NOW, parent=parse_traceparent(printed))
    (child,) = iter_spans(second.request)
    assert child.trace_id == view.trace_id and child.parent_span_id == view.span_id


def test_span_ids_are_deterministic_with_an_rng() -> None:
    def make(seed: int) -> bytes:
        made = build_span(name="x", start_ns=NOW, end_ns=NOW, rng=random.Random(seed))
        data: bytes = made.request.SerializeToString()
        return data

    assert make(5) == make(5) and make(5) != make(6)


def test_bad_spans_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        build_span(name=" ", start_ns=NOW, end_ns=NOW)
    with pytest.raises(UsageError):
        build_span(name="x", start_ns=NOW, end_ns=NOW - 1)
    with pytest.raises(UsageError):
        build_span(name="x", kind="diagonal", start_ns=NOW, end_ns=NOW)


def test_double_attrs_reach_the_wire_exactly() -> None:
    made = build_span(name="x", start_ns=NOW, end_ns=NOW, attributes=parse_attrs(["pi=3.14159"]))
    (view,) = iter_spans(made.request)
    assert math.isclose(view.attributes["pi"], 3.14159)
