"""validate's LLM-call count: cost's call identity without cost's pricing.

validate needs, of cost's per-span work, only what call identity reads: which spans are calls
(cost's own reading, CostCalculator.read_call: the same usage keys, precedence, skips and
dialect decisions), their usage conflicts and the CallFacts the CallLedger matches. Pricing is
left out; the counting mirrors CostCalculator._account, so the count is the one `otelcli cost`
reports as calls (tests compare the two on the corpus).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from otelcli.genai.pricing.calls import MAX_RESPONSE_IDS, CallFacts, CallLedger, SetAside

if TYPE_CHECKING:
    from otelcli.genai.dialects.normalize import DialectTable
    from otelcli.genai.pricing.cost import UsageConflict
    from otelcli.genai.semconv.findings import Raw


class CallIdentity:
    """measure() a span (in any process), then count() the calls in input order."""

    def __init__(self, dialects: DialectTable | None) -> None:
        from otelcli.genai.pricing.cost import CostCalculator
        from otelcli.genai.pricing.table import load_table

        self._cost = CostCalculator(
            load_table(None, use_fallback=False),
            max_examples=0,
            dialects=dialects,
            on_conflict=self._conflict,
        )
        self._raws: list[Raw] = []
        self._ledger = CallLedger()
        self._counted: OrderedDict[bytes, None] = OrderedDict()
        self.calls = 0

    def measure(
        self, span: Any, scope: str, raws: list[Raw], shape: tuple[str, ...] | None = None
    ) -> CallFacts | None:
        """The span's call facts, or None when cost would not count it; its usage conflicts
        go to raws. read_call reads the values it needs from the span (its plan per key
        sequence), as cost does: validate converts only the values its own checks read.
        `shape`: the span's attribute keys in order, if validate read them already."""
        self._raws = raws
        reading = self._cost.read_call(span, scope, shape)
        return None if reading is None else reading.call

    def _conflict(self, conflict: UsageConflict) -> None:
        detail = (
            f"{conflict.used} = {conflict.used_value}, {conflict.other} = {conflict.other_value}"
        )
        hint = f"cost uses {conflict.used} (the documented precedence); send one count"
        self._raws.append(("usage_conflict", conflict.used, detail, hint))

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
