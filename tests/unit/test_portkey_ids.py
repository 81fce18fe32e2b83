"""Portkey id mapping: pinned against outputs of Portkey's gateway, plus the rule's properties."""

from __future__ import annotations

import hashlib
import re

from hypothesis import given
from hypothesis import strategies as st

from otelcli.portkey.ids import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    derived_id,
    is_valid_hex_id,
    portkey_span_id,
    portkey_trace_id,
    to_hex_id,
)


def test_known_portkey_outputs() -> None:
    # The documented examples: x-portkey-trace-id 1729 and x-portkey-span-id 11.
    assert portkey_trace_id("1729") == "98b1690510df1bf21fe13018a2641b19"
    assert portkey_span_id("11") == "4fc82b26aecb47d2"


def test_hyphenated_uuid_trace_id_becomes_its_hex_form() -> None:
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert portkey_trace_id(uuid) == "550e8400e29b41d4a716446655440000"


def test_hyphens_are_stripped_before_hashing() -> None:
    expected = hashlib.sha256(b"testrequest").hexdigest()[:32]
    assert portkey_trace_id("test-request") == expected
    assert portkey_trace_id("test-request") == portkey_trace_id("testrequest")


def test_hex_of_the_right_length_is_kept_but_only_lower_case() -> None:
    assert portkey_span_id("00f067aa0ba902b7") == "00f067aa0ba902b7"
    upper = "00F067AA0BA902B7"
    assert portkey_span_id(upper) == hashlib.sha256(upper.encode()).hexdigest()[:16]


def test_decimal_span_ids_from_the_python_sdk() -> None:
    # 64-bit OTel span ids sent as decimal: the first 16 digits are valid hex, so kept.
    assert portkey_span_id("12801218372391038154") == "1280121837239103"
    # A short decimal is not 16 characters long, so it is hashed.
    assert portkey_span_id("9876543210") == hashlib.sha256(b"9876543210").hexdigest()[:16]


def test_truncation_happens_before_hashing() -> None:
    shared = "x" * 40
    assert portkey_trace_id(shared + "first") == portkey_trace_id(shared + "second")
    assert portkey_span_id("run-2024-agent-planner-A") == portkey_span_id("run2024agentplannerB")


def test_truncation_counts_utf16_units_like_javascript() -> None:
    # 15 ASCII characters + an emoji (2 UTF-16 units): the cut splits the pair, and Node
    # hashes the lone surrogate as U+FFFD.
    value = "a" * 15 + "\N{GRINNING FACE}"
    expected = hashlib.sha256(("a" * 15 + "\ufffd").encode()).hexdigest()[:16]
    assert portkey_span_id(value) == expected
    assert portkey_span_id("é") == hashlib.sha256("é".encode()).hexdigest()[:16]


def test_empty_ids_map_to_none() -> None:
    assert portkey_trace_id("") is None
    assert portkey_trace_id(None) is None
    assert portkey_span_id("---") is None


@given(st.text(min_size=1))
def test_every_id_maps_to_lower_hex_of_the_right_length(value: str) -> None:
    for length in (TRACE_ID_HEX_LEN, SPAN_ID_HEX_LEN):
        mapped = to_hex_id(value, length)
        if value.replace("-", ""):
            assert mapped is not None
            assert re.fullmatch(f"[0-9a-f]{{{length}}}", mapped)
            assert to_hex_id(mapped, length) == mapped  # mapping is idempotent
        else:
            assert mapped is None


@given(st.text())
def test_derived_ids_are_usable_and_stable(seed: str) -> None:
    for length in (TRACE_ID_HEX_LEN, SPAN_ID_HEX_LEN):
        value = derived_id(seed, length)
        assert is_valid_hex_id(value, length)
        assert derived_id(seed, length) == value


def test_all_zero_ids_are_not_valid_otlp_ids() -> None:
    assert not is_valid_hex_id("0" * 32, TRACE_ID_HEX_LEN)
    assert is_valid_hex_id("0" * 31 + "1", TRACE_ID_HEX_LEN)
