"""Call identity: which spans with usage are one LLM call.

Two instrumentation libraries tracing the same call (the Anthropic SDK's own tracing under
OpenInference or OpenLLMetry, say) write two spans with the same tokens. They are one call when

- spans from different scopes carry the same response id ("same response id");
- one is the other's parent and both name the same model and usage ("parent and child");
- spans from different scopes in one trace name the same model and usage and one runs within
  the other's time ("same call, overlapping").

The richer span (more token facts: cache reads and writes, their split, reasoning) is kept; the
other is set aside with the reason. cost, tail's totals and validate all count through this.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

SAME_RESPONSE_ID = "same response id as a span of another library (double instrumentation)"
PARENT_CHILD = "parent and child record the same model and usage (double instrumentation)"
OVERLAPPING = "another library's span records the same model and usage at the same time"

# Bounded memory over a stream: the calls of this many recent traces (and response ids).
MAX_TRACES = 20_000
MAX_RESPONSE_IDS = 200_000


class CallFacts(NamedTuple):
    """What identifies one span's call (a NamedTuple: one is built per call, and sent
    between processes with --jobs)."""

    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    scope: str
    name: str
    start_ns: int
    end_ns: int
    models: frozenset[str]  # request and response model names reported
    usage: tuple[int, int]  # (input incl. cache, output incl. reasoning)
    response_id: str | None
    richness: int  # token facts the span carries; the richer span is kept

    def same_model(self, other: CallFacts) -> bool:
        return not self.models or not other.models or bool(self.models & other.models)


@dataclass(frozen=True, slots=True)
class SetAside:
    """A span not counted because `kept` is the same call."""

    dropped: CallFacts
    kept: CallFacts
    reason: str


class CallLedger:
    """Feeds spans one at a time; says when a span is a call already seen.

    add() returns None for a new call, or a SetAside. When the new span is the richer one it
    replaces the kept span (the SetAside's `dropped` is then the earlier span, which the caller
    must take back out of its sums).
    """

    def __init__(self) -> None:
        self._traces: OrderedDict[bytes, list[CallFacts]] = OrderedDict()
        self._responses: OrderedDict[str, CallFacts] = OrderedDict()

    def add(self, facts: CallFacts) -> SetAside | None:
        match = self._match(facts)
        if match is None:
            self._remember(facts)
            return None
        return self._settle(facts, match)

    def _settle(self, facts: CallFacts, match: tuple[CallFacts, str]) -> SetAside:
        """The SetAside of a call that matched one seen; the richer one is remembered."""
        earlier, reason = match
        if facts.richness > earlier.richness:
            self._forget(earlier)
            self._remember(facts)
            return SetAside(earlier, facts, reason)
        return SetAside(facts, earlier, reason)

    def add_all(self, calls: Iterable[CallFacts]) -> list[tuple[int, SetAside]]:
        """add() each call, in order: the SetAsides by position (a --jobs merge feeds whole
        batches)."""
        return [
            (i, aside) for i, facts in enumerate(calls) if (aside := self.add(facts)) is not None
        ]

    def _match(self, facts: CallFacts) -> tuple[CallFacts, str] | None:
        if facts.response_id:
            other = self._responses.get(facts.response_id)
            if other is not None and other.scope != facts.scope:
                return other, SAME_RESPONSE_ID
        for other in self._traces.get(facts.trace_id, ()):
            if other.usage != facts.usage or not other.same_model(facts):
                continue
            if other.span_id == facts.parent_id or other.parent_id == facts.span_id:
                return other, PARENT_CHILD
            if other.scope != facts.scope and _overlap(other, facts):
                return other, OVERLAPPING
        return None

    def _remember(self, facts: CallFacts) -> None:
        calls = self._traces.get(facts.trace_id)
        if calls is None:
            calls = self._traces[facts.trace_id] = []
            if len(self._traces) > MAX_TRACES:
                self._traces.popitem(last=False)
        calls.append(facts)
        if facts.response_id:
            self._responses[facts.response_id] = facts
            if len(self._responses) > MAX_RESPONSE_IDS:
                self._responses.popitem(last=False)

    def _forget(self, facts: CallFacts) -> None:
        calls = self._traces.get(facts.trace_id)
        if calls is not None and facts in calls:
            calls.remove(facts)
        if facts.response_id and self._responses.get(facts.response_id) is facts:
            del self._responses[facts.response_id]


def _overlap(a: CallFacts, b: CallFacts) -> bool:
    """One span runs within the other (clocks of two libraries in one process)."""
    if not (a.start_ns and a.end_ns and b.start_ns and b.end_ns):
        return False
    inner, outer = (a, b) if a.end_ns - a.start_ns <= b.end_ns - b.start_ns else (b, a)
    return outer.start_ns <= inner.start_ns and inner.end_ns <= outer.end_ns
