"""validate's LLM-call count: cost's call identity without cost's pricing.

validate needs, of cost's per-span work, only what call identity reads: which spans are calls
(the same usage keys, precedence, skips and dialect decisions as cost), their usage conflicts
and the CallFacts the CallLedger matches. Pricing (rates, costs, breakdowns, report sums) is
left out. The reading mirrors CostCalculator._measure through its public pieces (key_slots,
span_context, inclusive_counts) and the counting mirrors CostCalculator._account, so the
count is the one `otelcli cost` reports as calls (tests compare the two on the corpus).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from otelcli.genai.dialects.normalize import MAX_TOKEN_COUNT, token_count
from otelcli.genai.pricing.calls import MAX_RESPONSE_IDS, CallFacts, CallLedger, SetAside
from otelcli.genai.pricing.cost import (
    N_SLOTS,
    S_CACHE_READ,
    S_CACHE_WRITE,
    S_CACHE_WRITE_1H,
    S_INPUT,
    S_OUTPUT,
    S_REASONING,
    S_REQUEST_MODEL,
    S_RESPONSE_ID,
    S_RESPONSE_MODEL,
    inclusive_counts,
)
from otelcli.otlp.values import to_python

if TYPE_CHECKING:
    from otelcli.genai.dialects.normalize import DialectTable
    from otelcli.genai.semconv.findings import Raw

_NO_RANK = 1 << 30  # as cost's scan: any real rank is lower


def _count(value: Any) -> int | None:
    """A token count as cost reads it (0 when absent; None when not a finite count)."""
    if type(value) is int and 0 < value <= MAX_TOKEN_COUNT:
        return value
    return 0 if value is None else token_count(value)


class CallIdentity:
    """measure() a span (in any process), then count() the calls in input order."""

    def __init__(self, dialects: DialectTable | None) -> None:
        from otelcli.genai.pricing.cost import CostCalculator
        from otelcli.genai.pricing.table import load_table

        # the calculator supplies the scan's key slots and the cached span contexts only
        self._cost = CostCalculator(
            load_table(None, use_fallback=False), max_examples=0, dialects=dialects
        )
        self._slots = self._cost.key_slots
        self._ledger = CallLedger()
        self._counted: OrderedDict[bytes, None] = OrderedDict()
        self.calls = 0

    def measure(
        self, span: Any, scope: str, attributes: Mapping[str, Any], raws: list[Raw]
    ) -> CallFacts | None:
        """The span's call facts, or None when cost would not count it; its usage conflicts
        go to raws."""
        index_get = self._slots.get
        hits: list[tuple[Any, Any]]
        if len(attributes) == len(span.attributes):
            hits = [(hit, v) for k, v in attributes.items() if (hit := index_get(k)) is not None]
        else:  # a key repeated: the values as cost's own scan reads them
            found = [(hit, kv) for kv in span.attributes if (hit := index_get(kv.key)) is not None]
            if not any(hit[5] for hit, _ in found):
                return None
            hits = []
            for hit, kv in found:
                v = kv.value
                hits.append((hit, (v.int_value if hit[4] else v.string_value) or to_python(v)))
        if not hits:
            return None
        values: list[Any] = [None] * N_SLOTS
        ranks = [_NO_RANK] * N_SLOTS
        keys: list[str] = [""] * N_SLOTS
        conflicts: list[tuple[int, str, Any, str, Any]] | None = None
        marker_values: list[tuple[str, Any]] | None = None
        for (slot, rank, is_marker, key, is_count, _), value in hits:
            if is_marker:
                if marker_values is None:
                    marker_values = [(key, value)]
                else:
                    marker_values.append((key, value))
            if slot < 0:
                continue
            if is_count and ranks[slot] != _NO_RANK and value != values[slot]:
                if conflicts is None:
                    conflicts = []
                conflicts.append((slot, keys[slot], values[slot], key, value))
            if rank < ranks[slot]:
                values[slot] = value
                ranks[slot] = rank
                keys[slot] = key
        raw_input, raw_output = values[S_INPUT], values[S_OUTPUT]
        cache_read = values[S_CACHE_READ]
        if raw_input is None and raw_output is None and cache_read is None:
            return None
        markers = dict(marker_values) if marker_values is not None else None
        name = span.name
        context = self._cost.span_context(scope, name, markers, values)
        if context.reason is not None:
            return None
        if conflicts is not None:
            for slot, key_a, value_a, key_b, value_b in conflicts:
                other, other_value = (key_b, value_b) if key_a == keys[slot] else (key_a, value_a)
                detail = f"{keys[slot]} = {values[slot]}, {other} = {other_value}"
                hint = f"cost uses {keys[slot]} (the documented precedence); send one count"
                raws.append(("usage_conflict", keys[slot], detail, hint))
        resolution = context.resolution
        input_count = _count(raw_input)
        output_count = _count(raw_output)
        read = _count(cache_read) if cache_read is not None else 0
        write = _count(values[S_CACHE_WRITE]) if values[S_CACHE_WRITE] is not None else 0
        write_1h = _count(values[S_CACHE_WRITE_1H]) if values[S_CACHE_WRITE_1H] is not None else 0
        reasoning = _count(values[S_REASONING]) if values[S_REASONING] is not None else 0
        if (
            input_count is None
            or output_count is None
            or read is None
            or write is None
            or write_1h is None
            or reasoning is None
        ):
            return None
        input_tokens, output_tokens, _ = inclusive_counts(
            input_count,
            output_count,
            read + write,
            reasoning,
            resolution.provider if resolution else None,
            context.usage_counts,
            self._cost.input_includes_cache,
        )
        request_model, response_model = values[S_REQUEST_MODEL], values[S_RESPONSE_MODEL]
        if type(request_model) is str:
            models = frozenset(
                (request_model, response_model) if type(response_model) is str else (request_model,)
            )
        else:
            models = frozenset((response_model,) if type(response_model) is str else ())
        response_id = values[S_RESPONSE_ID]
        return CallFacts(
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            scope,
            name,
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            models,
            (input_tokens, output_tokens),
            response_id if isinstance(response_id, str) and response_id else None,
            (values[S_CACHE_READ] is not None)
            + (values[S_CACHE_WRITE] is not None)
            + (values[S_CACHE_WRITE_1H] is not None)
            + (values[S_REASONING] is not None),
        )

    def count(self, call: CallFacts, raws: list[Raw]) -> None:
        """Count a call unless it is one already counted (double instrumentation to raws)."""
        aside = self._ledger.add(call)
        counted = self._counted
        if aside is not None:
            raws.append(_double(aside, call.span_id))
            if aside.dropped is call:
                return
            if counted.pop(aside.dropped.trace_id + aside.dropped.span_id, 0) is None:
                self.calls -= 1
        self.calls += 1
        counted[call.trace_id + call.span_id] = None
        if len(counted) > MAX_RESPONSE_IDS:
            counted.popitem(last=False)


def _double(aside: SetAside, current: bytes) -> Raw:
    other = aside.kept if aside.dropped.span_id == current else aside.dropped
    detail = f"span {other.span_id.hex()} ({other.scope or 'no scope'}): {aside.reason}"
    return ("double_instrumentation", None, detail, None)
