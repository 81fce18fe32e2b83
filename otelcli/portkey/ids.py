"""Free-form Portkey trace and span ids -> OTLP hex ids, exactly as Portkey's gateway maps them.

The gateway's rule: drop every '-', keep the first N characters (N = 32 for a trace id, 16 for
a span id), keep the result when it is already lower-case hex of length N, otherwise take the
first N hex digits of SHA-256 of those characters. Using the same rule means a trace id in our
output equals the one Portkey shows for the same requests.
"""

from __future__ import annotations

import hashlib
import re

TRACE_ID_HEX_LEN = 32
SPAN_ID_HEX_LEN = 16

_HEX = {TRACE_ID_HEX_LEN: re.compile(r"[0-9a-f]{32}"), SPAN_ID_HEX_LEN: re.compile(r"[0-9a-f]{16}")}


def _js_prefix(text: str, length: int) -> str:
    """The first `length` UTF-16 code units, as JavaScript's String.slice counts them.

    A surrogate pair cut in half becomes U+FFFD, which is what Node's UTF-8 encoder hashes.
    """
    if text.isascii():
        return text[:length]
    units = text.encode("utf-16-le", "surrogatepass")[: 2 * length]
    return units.decode("utf-16-le", "replace")


def to_hex_id(value: str | None, length: int) -> str | None:
    """Map a free-form id to `length` lower-case hex digits; None for an empty id."""
    if not value:
        return None
    prefix = _js_prefix(value.replace("-", ""), length)
    if not prefix:
        return None
    if _HEX[length].fullmatch(prefix):
        return prefix
    return hashlib.sha256(prefix.encode("utf-8")).hexdigest()[:length]


def portkey_trace_id(value: str | None) -> str | None:
    """x-portkey-trace-id -> 32 hex digits (None when empty)."""
    return to_hex_id(value, TRACE_ID_HEX_LEN)


def portkey_span_id(value: str | None) -> str | None:
    """x-portkey-span-id / x-portkey-parent-span-id -> 16 hex digits (None when empty)."""
    return to_hex_id(value, SPAN_ID_HEX_LEN)


def derived_id(seed: str, length: int) -> str:
    """A deterministic id for a record that has none (never all zeros)."""
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:length]
    return digest if digest.strip("0") else "1".rjust(length, "0")


def is_valid_hex_id(value: str, length: int) -> bool:
    """A usable OTLP id: lower-case hex of the right length and not all zeros."""
    return bool(_HEX[length].fullmatch(value)) and value.strip("0") != ""
