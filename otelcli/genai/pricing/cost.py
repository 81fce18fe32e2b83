"""The cost of LLM calls: one usage record, or every span of a stream of OTLP batches.

Per span the work is one pass over its attributes picking the few keys that matter (the
dialect table's key index), one cached model resolution per (model, provider) and integer
arithmetic (see pricing.RATE_SCALE). Spans whose usage repeats their children's (agent roots,
Vercel outer spans, pydantic-ai agent runs, Logfire pending spans) are skipped with a reason.

Token fields follow semconv everywhere: input_tokens includes cache reads/writes, output_tokens
includes reasoning. Dollar parts split the bill: usd("input") is the uncached input only,
usd("reasoning") is non-zero only where a model prices reasoning separately.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from otelcli.choices import COST_DIMENSIONS
from otelcli.errors import UsageError
from otelcli.genai.dialects.normalize import (
    MAX_TOKEN_COUNT,
    DialectTable,
    Rename,
    in_usd,
    load_dialects,
    to_number,
    token_count,
)
from otelcli.genai.pricing.calls import MAX_RESPONSE_IDS, CallFacts, CallLedger, SetAside
from otelcli.genai.pricing.table import (
    PriceEntry,
    PriceTable,
    ProviderInfo,
    Rates,
    Resolution,
    cost_to_usd,
    now_ns,
)
from otelcli.otlp.values import attributes_to_dict, set_attribute, to_python

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otelcli.otlp.spans import SpanView

GROUP_DIMENSIONS = COST_DIMENSIONS
TIME_DIMENSIONS = ("day", "hour")  # by the span's start (UTC); their groups stay in time order
OTHER = "(other)"  # the key of the row that sums the groups --top leaves out

# Attributes written by enrichment.
COST_ATTRIBUTE = "gen_ai.usage.cost"
COST_BREAKDOWN_ATTRIBUTES = {
    "input": "gen_ai.usage.cost.input",
    "cache_read": "gen_ai.usage.cost.cache_read.input",
    "cache_write": "gen_ai.usage.cost.cache_creation.input",
    "output": "gen_ai.usage.cost.output",
    "reasoning": "gen_ai.usage.cost.reasoning.output",
}
COST_PRICE_ATTRIBUTE = "gen_ai.usage.cost.price_id"
REPORTED_COST_ATTRIBUTE = "gen_ai.usage.cost.reported"
# Cost attributes other tools write (compared with ours, never trusted blindly).
REPORTED_COST_KEYS = ("gen_ai.usage.cost", "llm.cost.total", "operation.cost")
_USD = Decimal(1)  # the factor of a reported cost already in USD

UNKNOWN = "unknown"
NO_MODEL = "(no model)"
# Why a span whose token counts are NaN, infinite or above MAX_TOKEN_COUNT is not priced.
NOT_A_COUNT = "usage value not a finite count"
# What the spans cannot tell, so the bill is a bound rather than the bill.
NO_CACHE_READS = (
    "no cache-read count on the span: all input priced at the full rate (an upper bound)"
)
NO_CACHE_WRITE_SPLIT = (
    "cache writes without the 5-minute/1-hour split: priced at the 5-minute rate (a lower bound)"
)

# Slots of the per-span scan.
(
    S_INPUT,
    S_OUTPUT,
    S_CACHE_READ,
    S_CACHE_WRITE,
    S_REASONING,
    S_REQUEST_MODEL,
    S_RESPONSE_MODEL,
    S_PROVIDER,
    S_COST,
    S_USER,
    S_SESSION,
    S_SERVICE_TIER,
    S_SERVER,
    S_RESPONSE_ID,
    S_CACHE_WRITE_1H,
) = range(15)
N_SLOTS = 15
TOKEN_SLOTS = (S_INPUT, S_OUTPUT, S_CACHE_READ, S_CACHE_WRITE, S_REASONING, S_CACHE_WRITE_1H)
_SLOT_OF_KEY = {
    "gen_ai.usage.input_tokens": S_INPUT,
    "gen_ai.usage.output_tokens": S_OUTPUT,
    "gen_ai.usage.cache_read.input_tokens": S_CACHE_READ,
    "gen_ai.usage.cache_creation.input_tokens": S_CACHE_WRITE,
    "gen_ai.usage.reasoning.output_tokens": S_REASONING,
    "gen_ai.request.model": S_REQUEST_MODEL,
    "gen_ai.response.model": S_RESPONSE_MODEL,
    "gen_ai.provider.name": S_PROVIDER,
    "gen_ai.usage.cost": S_COST,
    "user.id": S_USER,
    "session.id": S_SESSION,
    "openai.response.service_tier": S_SERVICE_TIER,
    "server.address": S_SERVER,
    "gen_ai.response.id": S_RESPONSE_ID,
}
_USAGE_SLOTS = (S_INPUT, S_OUTPUT, S_CACHE_READ)  # a span with none of these is no call
# what an attribute key means to the scan: (slot, rank, is_marker, key, is_count, is_usage)
_Hit = tuple[int, int, bool, str, bool, bool]
_NO_RANK = 1 << 30
_TEXT = frozenset((str, type(None)))
# what a span's attribute keys need read (CostCalculator._plan): False, or (hits by position,
# (positions to read and whether each is a count, slot <- read, marker key <- read, slot keys))
_Fast = tuple[
    tuple[tuple[int, bool], ...],
    tuple[tuple[int, int], ...],
    tuple[tuple[str, int], ...],
    list[str],
]
_Plan = tuple[tuple[tuple[int, _Hit], ...], _Fast | None] | Literal[False]
_MAX_PLANS = 4096  # distinct key sequences remembered (a capture has a few dozen)


class CostParts(NamedTuple):
    """The parts of one price in 1e-15 USD (input is the uncached input only)."""

    input: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int


class Usage(NamedTuple):
    """Token counts of one call, in semconv terms (input includes cache, output reasoning).

    A NamedTuple: built for every call, and sent between processes with --jobs."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0  # all cache writes (5-minute and 1-hour)
    cache_write_1h_tokens: int = 0  # the 1-hour part of cache_write_tokens
    reasoning_tokens: int = 0


# Usage and CostParts as plain tuples (what --jobs workers send: they pickle fastest).
UsageValues = tuple[int, int, int, int, int, int]
PartValues = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class CostBreakdown:
    """The price of one call. `unknown` = no price found: the dollars are None, never 0."""

    model: str
    provider: str | None
    usage: Usage
    price_id: str | None = None  # table entry, e.g. "openai/gpt-4o"
    matched_name: str | None = None  # the name candidate that matched
    price_source: str | None = None  # builtin | user:<file> | genai-prices
    provider_guessed: bool = False
    tier_above: int | None = None  # long-context tier applied (input tokens above this)
    cost_units: CostParts | None = field(default=None, repr=False)  # None when unknown
    notes: tuple[str, ...] = ()  # token-semantics heuristics that fired
    call: CallFacts | None = field(default=None, repr=False, compare=False)  # its identity

    def usd(self, part: str) -> Decimal | None:
        """One part of the bill (a CostParts field name) in dollars; None when unpriced."""
        return None if self.cost_units is None else cost_to_usd(getattr(self.cost_units, part))

    @property
    def total_usd(self) -> Decimal | None:
        return None if self.cost_units is None else cost_to_usd(sum(self.cost_units))

    @property
    def unknown(self) -> bool:
        return self.price_id is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "price_id": self.price_id,
            "matched_name": self.matched_name,
            "price_source": self.price_source,
            "unknown": self.unknown,
            "provider_guessed": self.provider_guessed,
            "tier_above_input_tokens": self.tier_above,
            "tokens": {
                "input": self.usage.input_tokens,
                "cache_read": self.usage.cache_read_tokens,
                "cache_write": self.usage.cache_write_tokens,
                "cache_write_1h": self.usage.cache_write_1h_tokens,
                "output": self.usage.output_tokens,
                "reasoning": self.usage.reasoning_tokens,
            },
            "usd": None
            if self.unknown
            else {
                **{part: _num(self.usd(part)) for part in CostParts._fields},
                "total": _num(self.total_usd),
            },
            "notes": list(self.notes),
        }


def _time_bucket(start_ns: int, dimension: str) -> str:
    """The UTC day (2026-12-07) or hour (2026-12-07T15Z) a span started in."""
    if not start_ns:
        return UNKNOWN
    moment = datetime.fromtimestamp(start_ns / 1e9, tz=UTC)
    return moment.strftime("%Y-%m-%d" if dimension == "day" else "%Y-%m-%dT%HZ")


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@dataclass(slots=True)
class CostTotals:
    """Sums over spans. Costs are int units of 1e-15 USD; usd() gives Decimals."""

    spans: int = 0  # LLM spans with usage that were counted
    priced_spans: int = 0
    unknown_spans: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    input_cost: int = 0
    cache_read_cost: int = 0
    cache_write_cost: int = 0
    output_cost: int = 0
    reasoning_cost: int = 0

    @property
    def total_cost(self) -> int:
        return (
            self.input_cost
            + self.cache_read_cost
            + self.cache_write_cost
            + self.output_cost
            + self.reasoning_cost
        )

    @property
    def total_usd(self) -> Decimal:
        return cost_to_usd(self.total_cost)

    def usd(self, part: str) -> Decimal:
        """One part of the sums (a CostParts field name) in dollars."""
        return cost_to_usd(getattr(self, f"{part}_cost"))

    def add(self, other: CostTotals) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count(self, usage: UsageValues, parts: PartValues | None, sign: int = 1) -> None:
        """Add one call (sign -1: take it back out). Plain tuples do as well as Usage and
        CostParts (--jobs workers send plain ones)."""
        input_tokens, output_tokens, cache_read, cache_write, _, reasoning = usage
        self.spans += sign
        self.input_tokens += sign * input_tokens
        self.output_tokens += sign * output_tokens
        self.cache_read_tokens += sign * cache_read
        self.cache_write_tokens += sign * cache_write
        self.reasoning_tokens += sign * reasoning
        if parts is None:
            self.unknown_spans += sign
            return
        input_cost, cache_read_cost, cache_write_cost, output_cost, reasoning_cost = parts
        self.priced_spans += sign
        self.input_cost += sign * input_cost
        self.cache_read_cost += sign * cache_read_cost
        self.cache_write_cost += sign * cache_write_cost
        self.output_cost += sign * output_cost
        self.reasoning_cost += sign * reasoning_cost

    def add_all(self, counted: Sequence[Counted]) -> None:
        """count() every call of a batch: its columns summed at once."""
        if not counted:
            return
        units = [record[2] for record in counted if record[2] is not None]
        self.spans += len(counted)
        self.priced_spans += len(units)
        self.unknown_spans += len(counted) - len(units)
        tokens = [sum(column) for column in zip(*[record[1] for record in counted], strict=True)]
        self.input_tokens += tokens[0]
        self.output_tokens += tokens[1]
        self.cache_read_tokens += tokens[2]
        self.cache_write_tokens += tokens[3]
        self.reasoning_tokens += tokens[5]
        if units:
            costs = [sum(column) for column in zip(*units, strict=True)]
            self.input_cost += costs[0]
            self.cache_read_cost += costs[1]
            self.cache_write_cost += costs[2]
            self.output_cost += costs[3]
            self.reasoning_cost += costs[4]

    def to_dict(self) -> dict[str, Any]:
        return {
            "spans": self.spans,  # LLM calls: a call recorded by two spans counts once
            "priced_spans": self.priced_spans,
            "unknown_spans": self.unknown_spans,
            "tokens": {
                "input": self.input_tokens,
                "cache_read": self.cache_read_tokens,
                "cache_write": self.cache_write_tokens,
                "output": self.output_tokens,
                "reasoning": self.reasoning_tokens,
            },
            # nothing priced = unknown, never $0
            "usd": None
            if self.priced_spans == 0 and self.unknown_spans
            else {
                **{part: _num(self.usd(part)) for part in CostParts._fields},
                "total": _num(self.total_usd),
            },
        }


@dataclass(frozen=True, slots=True)
class SpanContext:
    """What a span with usage resolves to, before its token counts are looked at."""

    usage_counts: str
    reason: str | None  # why the span's usage repeats its children's (skipped), or None
    provider: str | None
    model: str  # the model name reported (NO_MODEL when there is none)
    resolution: Resolution | None
    service_tier: str | None
    fixed: tuple[PriceEntry, Rates] | None  # the rates when they cannot vary per span
    models: frozenset[str]  # the request and response model names reported


class PricedCall(NamedTuple):
    """One span with usage, read and priced: all of its accounting that needs none of the
    spans before it. Call identity (CostCalculator._account) decides whether it counts."""

    facts: CallFacts
    model: str
    provider: str | None
    usage: Usage
    units: CostParts | None
    notes: tuple[str, ...]
    bounds: tuple[str, ...]  # what the span cannot tell about its price
    cache_counts: bool  # the span reports a cache-read or cache-write count
    group: tuple[str, ...] | None  # its --by group
    compared: CostDisagreement | bool | None  # a reported cost: agrees, differs, or none
    reported_note: str | None = None  # how the reported cost was read, or why it was not


class CallReading(NamedTuple):
    """One span with usage, read and classified but not priced (CostCalculator.read_call)."""

    call: CallFacts
    context: SpanContext
    values: list[Any]  # per slot
    keys: list[str]  # per slot: the key the value was read under
    markers: dict[str, Any] | None
    usage: Usage
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SkippedSpan:
    trace_id: str
    span_id: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class UsageConflict:
    """One span carrying a count under two keys with different values."""

    trace_id: str
    span_id: str
    name: str
    used: str  # the key whose value was used (see dialects.json "usage" precedence)
    used_value: Any
    other: str
    other_value: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "name": self.name,
            "used": {"key": self.used, "value": self.used_value},
            "ignored": {"key": self.other, "value": self.other_value},
        }


@dataclass(frozen=True, slots=True)
class CostDisagreement:
    """A cost attribute already on the span that differs from ours."""

    trace_id: str
    span_id: str
    name: str
    model: str
    attribute: str
    reported_usd: Decimal
    computed_usd: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "name": self.name,
            "model": self.model,
            "attribute": self.attribute,
            "reported_usd": _num(self.reported_usd),
            "computed_usd": _num(self.computed_usd),
        }


@dataclass
class CostReport:
    by: tuple[str, ...]
    total: CostTotals = field(default_factory=CostTotals)
    groups: dict[tuple[str, ...], CostTotals] = field(default_factory=dict)
    unknown_models: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, provider)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> spans
    skipped_examples: list[SkippedSpan] = field(default_factory=list)
    disagreements: list[CostDisagreement] = field(default_factory=list)
    disagreement_count: int = 0
    agreements: int = 0  # spans whose reported cost matched ours
    # how reported costs were read (cents), or why they were not compared -> spans
    reported_notes: dict[str, int] = field(default_factory=dict)
    heuristics: dict[str, int] = field(default_factory=dict)  # note -> spans
    # spans that are a call already counted (double instrumentation): reason -> spans
    set_aside: dict[str, int] = field(default_factory=dict)
    set_aside_examples: list[SetAside] = field(default_factory=list)
    conflicts: list[UsageConflict] = field(default_factory=list)
    conflict_count: int = 0
    unknowable: dict[str, int] = field(default_factory=dict)  # what spans cannot tell -> calls
    # calls without any cache count, per scope; a scope that reports cache counts on some
    # spans leaves them out when they are 0, so only the other scopes' calls are bounds
    no_cache_reads: dict[str, int] = field(default_factory=dict)
    cache_scopes: set[str] = field(default_factory=set)
    spans_seen: int = 0
    price_source: str = "builtin"

    def cannot_tell(self) -> dict[str, int]:
        """What the spans cannot tell -> the calls it concerns (their price is a bound)."""
        out = {k: v for k, v in self.unknowable.items() if v}
        unread = sum(n for s, n in self.no_cache_reads.items() if s not in self.cache_scopes)
        if unread:
            out[NO_CACHE_READS] = unread
        return dict(sorted(out.items()))

    def top(self, n: int | None = None) -> list[tuple[tuple[str, ...], CostTotals]]:
        """Groups by cost, highest first (ties by tokens, then key)."""
        ranked = sorted(
            self.groups.items(),
            key=lambda item: (-item[1].total_cost, -item[1].input_tokens, item[0]),
        )
        return ranked if n is None else ranked[:n]

    def shown_groups(self, top: int | None = None) -> list[dict[str, Any]]:
        """The groups a report lists: all, or the `top` costliest and one "(other)" row
        summing the rest, so that the rows add up to the total. Over time, in time order."""
        ranked = self.top()
        shown, rest = (ranked, []) if top is None else (ranked[:top], ranked[top:])
        if any(d in TIME_DIMENSIONS for d in self.by):
            shown.sort(key=lambda item: item[0])
        rows = [
            {"key": dict(zip(self.by, key, strict=True)), **totals.to_dict()}
            for key, totals in shown
        ]
        if rest:
            other = CostTotals()
            for _, totals in rest:
                other.add(totals)
            key = dict.fromkeys(self.by, OTHER)
            rows.append({"key": key, "other_groups": len(rest), **other.to_dict()})
        return rows

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        return {
            "by": list(self.by),
            "spans_seen": self.spans_seen,
            "total": self.total.to_dict(),
            "groups": self.shown_groups(top),
            "unknown_models": [
                {"model": model, "provider": provider, "spans": count}
                for (model, provider), count in sorted(
                    self.unknown_models.items(), key=lambda item: (-item[1], item[0])
                )
            ],
            "skipped": dict(sorted(self.skipped.items())),
            "disagreements": {
                "count": self.disagreement_count,
                "agreements": self.agreements,
                "examples": [d.to_dict() for d in self.disagreements],
                "notes": dict(sorted(self.reported_notes.items())),
            },
            "heuristics": dict(sorted(self.heuristics.items())),
            "set_aside": {
                "count": sum(self.set_aside.values()),
                "reasons": dict(sorted(self.set_aside.items())),
                "examples": [
                    {
                        "trace_id": a.dropped.trace_id.hex(),
                        "span_id": a.dropped.span_id.hex(),
                        "name": a.dropped.name,
                        "same_call_as": a.kept.span_id.hex(),
                        "kept_name": a.kept.name,
                        "reason": a.reason,
                    }
                    for a in self.set_aside_examples
                ],
            },
            "conflicts": {
                "count": self.conflict_count,
                "examples": [c.to_dict() for c in self.conflicts],
            },
            "cannot_tell": self.cannot_tell(),
            "price_source": self.price_source,
        }


# What one counted call added to a report, to take it back out when call identity drops it:
# (group, usage, units, (model, provider) when unpriced, notes, bounds, scope, cache counts
# reported, reported-cost note, reported-cost comparison).
Counted = tuple[
    tuple[str, ...] | None,
    UsageValues,
    PartValues | None,
    tuple[str, str] | None,
    tuple[str, ...],
    tuple[str, ...],
    str,
    bool,
    str | None,
    CostDisagreement | bool | None,
]
# positions in Counted
C_SCOPE: Final = 6
C_CACHE_COUNTS: Final = 7
C_COMPARED: Final = 9


class CostSlice(NamedTuple):
    """One batch measured in a --jobs worker (CostCalculator.measure_batch): its report with
    every call counted, and per call, in order, what call identity needs (CallFacts as plain
    tuples) and, pickled, what the call added (to take it back out when identity drops it)."""

    report: CostReport
    calls: list[tuple[Any, ...]]
    counted: PickledCounts


class PickledCounts:
    """A batch's Counted records, pickled in the worker and unpickled only if call identity
    takes one of its calls back out: the calling process never decodes the rest."""

    __slots__ = ("_data", "_records")

    def __init__(self, records: list[Counted]) -> None:
        import pickle  # only --jobs workers send these

        self._data = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
        self._records: list[Counted] | None = None

    def __getstate__(self) -> bytes:
        return self._data

    def __setstate__(self, data: bytes) -> None:
        self._data = data
        self._records = None

    def records(self) -> list[Counted]:
        if self._records is None:
            import pickle

            self._records = pickle.loads(self._data)
        return self._records


# ---------------------------------------------------------------------------------------------
# Arithmetic


def price_usage(
    resolution: Resolution | None,
    fixed: tuple[PriceEntry, Rates] | None,
    at: int,
    usage: Usage,
    service_tier: str | None,
) -> tuple[PriceEntry | None, int | None, CostParts | None, Rates | None]:
    """The one pricing path: (entry, tier applied, parts, rates) of an inclusive usage record."""
    if fixed is not None:
        return fixed[0], None, usage_costs(usage, fixed[1]), fixed[1]
    if resolution is not None:
        for entry in resolution.entries:
            found = entry.rates_at(at, usage.input_tokens, service_tier)
            if found is not None:
                rates, above = found
                return entry, above, usage_costs(usage, rates), rates
    return None, None, None, None


def usage_costs(usage: Usage, rates: Rates) -> CostParts:
    """The parts of the price of an inclusive usage record."""
    input_tokens = usage.input_tokens
    output_tokens = usage.output_tokens
    cache_read = usage.cache_read_tokens
    cache_write = usage.cache_write_tokens
    cache_write_1h = usage.cache_write_1h_tokens
    reasoning = usage.reasoning_tokens
    uncached = input_tokens - cache_read - cache_write
    if uncached < 0:
        uncached = 0
    input_rate = rates.input
    read_rate = rates.cache_read if rates.cache_read is not None else input_rate
    write_rate = rates.cache_write if rates.cache_write is not None else input_rate
    write_1h_rate = rates.cache_write_1h if rates.cache_write_1h is not None else write_rate
    write_1h = cache_write_1h if cache_write_1h < cache_write else cache_write
    if rates.reasoning is not None:
        priced_reasoning = reasoning if reasoning < output_tokens else output_tokens
        reasoning_cost = priced_reasoning * rates.reasoning
        output_cost = (output_tokens - priced_reasoning) * rates.output
    else:
        reasoning_cost = 0
        output_cost = output_tokens * rates.output
    # rate units are 1e-9 USD per 1e6 tokens -> tokens x rate is in 1e-15 USD
    return CostParts(
        uncached * input_rate,
        cache_read * read_rate,
        (cache_write - write_1h) * write_rate + write_1h * write_1h_rate,
        output_cost,
        reasoning_cost,
    )


_NO_NOTES: tuple[str, ...] = ()


def inclusive_counts(
    input_tokens: int,
    output_tokens: int,
    cache: int,
    reasoning_tokens: int,
    provider: ProviderInfo | None,
    usage_counts: str,
    input_includes_cache: bool | None,
) -> tuple[int, int, tuple[str, ...]]:
    """(input incl. cache, output incl. reasoning, notes): see inclusive_usage."""
    notes: tuple[str, ...] = _NO_NOTES
    if input_includes_cache is not None:
        if not input_includes_cache:
            input_tokens += cache
    elif cache > input_tokens:
        input_tokens += cache
        notes = ("input excluded cache (cache tokens > input tokens)",)
    elif cache and usage_counts == "provider" and provider and not provider.input_includes_cache:
        input_tokens += cache
        notes = (f"input excluded cache ({provider.id} raw counts)",)
    if reasoning_tokens > output_tokens:
        output_tokens += reasoning_tokens
        notes += ("output excluded reasoning (reasoning tokens > output tokens)",)
    elif (
        reasoning_tokens
        and usage_counts == "provider"
        and provider
        and not provider.output_includes_reasoning
    ):
        output_tokens += reasoning_tokens
        notes += (f"output excluded reasoning ({provider.id} raw counts)",)
    return input_tokens, output_tokens, notes


def inclusive_usage(
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    *,
    provider: ProviderInfo | None = None,
    usage_counts: str = "semconv",
    input_includes_cache: bool | None = None,
) -> tuple[Usage, tuple[str, ...]]:
    """Read reported counts as semconv (inclusive) usage, saying which reading was used.

    Input excludes cache when told so, when the cache counts exceed the input (an exclusive
    report), or when the dialect copies raw provider counts of a provider whose input excludes
    cache (Anthropic, Bedrock). Output excludes reasoning when reasoning exceeds output or the
    raw provider counts say so (Gemini, xAI).
    """
    input_tokens, output_tokens, notes = inclusive_counts(
        input_tokens,
        output_tokens,
        cache_read_tokens + cache_write_tokens,
        reasoning_tokens,
        provider,
        usage_counts,
        input_includes_cache,
    )
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=min(cache_write_1h_tokens, cache_write_tokens),
        reasoning_tokens=reasoning_tokens,
    )
    return usage, notes


def cost_of(
    resolution: Resolution | None,
    usage: Usage,
    *,
    model: str,
    provider: str | None = None,
    ts_ns: int | None = None,
    service_tier: str | None = None,
    notes: tuple[str, ...] = (),
) -> CostBreakdown:
    """Price one (already inclusive) usage record against a resolution."""
    at = now_ns() if not ts_ns else ts_ns
    entry, above, parts, _ = price_usage(resolution, None, at, usage, service_tier)
    return _breakdown(model, provider, usage, resolution, entry, above, parts, notes)


def _breakdown(
    model: str,
    provider: str | None,
    usage: Usage,
    resolution: Resolution | None,
    entry: PriceEntry | None,
    above: int | None,
    parts: CostParts | None,
    notes: tuple[str, ...],
    call: CallFacts | None = None,
) -> CostBreakdown:
    priced = resolution is not None and entry is not None
    return CostBreakdown(
        model=model,
        provider=provider,
        usage=usage,
        price_id=entry.entry_id if entry else None,
        matched_name=resolution.matched_name if resolution and priced else None,
        price_source=entry.source if entry else None,
        provider_guessed=bool(resolution and priced and resolution.provider_guessed),
        tier_above=above,
        cost_units=parts,
        notes=notes,
        call=call,
    )


def price_call(
    table: PriceTable,
    model: str,
    input_tokens: int,
    output_tokens: int,
    *,
    cached_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    reasoning_tokens: int = 0,
    provider: str | None = None,
    at: datetime | None = None,
    service_tier: str | None = None,
    input_includes_cache: bool | None = None,
) -> CostBreakdown:
    """Quick mode: the price of one call from its token counts.

    input_tokens is the whole prompt including cached tokens (semconv); a cached count larger
    than the input is read as exclusive. `at` selects the price of that day (default now).
    """
    for name, value in (
        ("input", input_tokens),
        ("output", output_tokens),
        ("cached", cached_tokens),
        ("cache write", cache_write_tokens),
        ("reasoning", reasoning_tokens),
    ):
        if value < 0:
            raise UsageError(
                f"{name} tokens must not be negative (got {value})",
                "pass token counts as non-negative integers",
            )
    dialects = load_dialects()
    canonical = dialects.canonical_provider(provider) if provider else None
    resolution = table.resolve(model, canonical)
    usage, notes = inclusive_usage(
        input_tokens,
        output_tokens,
        cached_tokens,
        cache_write_tokens,
        reasoning_tokens,
        cache_write_1h_tokens,
        input_includes_cache=input_includes_cache,
    )
    ts_ns = None
    if at is not None:
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        ts_ns = int(moment.timestamp() * 10**9)
    return cost_of(
        resolution,
        usage,
        model=model,
        provider=canonical,
        ts_ns=ts_ns,
        service_tier=service_tier,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# Spans


def _int(value: Any) -> int | None:
    """A token count (0 when absent, no number or negative); None when not a finite count."""
    if type(value) is int and 0 < value <= MAX_TOKEN_COUNT:
        return value
    return 0 if value is None else token_count(value)


class CostCalculator:
    """Accumulates a CostReport over spans; optionally writes the cost onto each priced span."""

    def __init__(
        self,
        table: PriceTable,
        *,
        by: Sequence[str] = (),
        input_includes_cache: bool | None = None,
        tolerance_usd: Decimal = Decimal("0.000001"),
        tolerance_ratio: Decimal = Decimal("0.01"),
        max_examples: int = 100,
        dialects: DialectTable | None = None,
        identity: bool = True,
        on_set_aside: Callable[[SetAside], None] | None = None,
        on_conflict: Callable[[UsageConflict], None] | None = None,
    ) -> None:
        """identity=False prices every span on its own (tail's per-span view does; its trace
        totals then count calls with a CallLedger of their own)."""
        unknown = [d for d in by if d not in GROUP_DIMENSIONS]
        if unknown:
            raise UsageError(
                f"cannot group by {', '.join(unknown)}",
                f"--by takes {', '.join(GROUP_DIMENSIONS)}",
            )
        self.table = table
        self.by = tuple(by)
        self.input_includes_cache = input_includes_cache
        self.tolerance_usd = tolerance_usd
        self.tolerance_ratio = tolerance_ratio
        self.max_examples = max_examples
        self.dialects = dialects or load_dialects()
        self.report = CostReport(by=self.by, price_source=table.source)
        # attribute key -> (slot, rank, is_marker, key); only the keys this report reads
        unused = {S_USER: "user", S_SESSION: "session"}
        index: dict[str, tuple[int, int, bool, str]] = {}
        markers = self.dialects.marker_keys()
        for source, (target, rank) in self.dialects.key_index().items():
            slot = _SLOT_OF_KEY.get(target)
            if slot is not None:
                index[source] = (slot, rank, source in markers, source)
        for key in _SLOT_OF_KEY:
            index.setdefault(key, (_SLOT_OF_KEY[key], 0, key in markers, key))
        for rank, key in enumerate(self.dialects.usage_keys.get("cache_write_1h", ())):
            index.setdefault(key, (S_CACHE_WRITE_1H, rank, key in markers, key))
        for key in markers:
            index.setdefault(key, (-1, _NO_RANK, True, key))
        for key, (slot, _, is_marker, _) in list(index.items()):
            if slot in unused and unused[slot] not in self.by:  # only --by user/session reads them
                if is_marker:
                    index[key] = (-1, _NO_RANK, True, key)
                else:
                    del index[key]
        # a dialect's reported-cost key in another unit or currency: key -> how to read it
        self._cost_readings: dict[str, tuple[str, Rename]] = {
            rename.source: (dialect.id, rename)
            for dialect in self.dialects.dialects
            for rename in dialect.renames.values()
            if rename.target == COST_ATTRIBUTE and (rename.scale or rename.currency)
        }
        for _, rename in self._cost_readings.values():
            if rename.currency:
                index.setdefault(rename.currency, (-1, _NO_RANK, True, rename.currency))
        self.key_slots: dict[str, _Hit] = {
            key: (*hit, hit[0] in TOKEN_SLOTS, hit[0] in _USAGE_SLOTS) for key, hit in index.items()
        }
        self._providers: dict[str, str] = {}
        self._classified: dict[tuple[Any, ...], tuple[str, str | None]] = {}
        self._contexts: dict[tuple[Any, ...], SpanContext] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._ledger = CallLedger() if identity else None
        self.on_set_aside = on_set_aside
        self.on_conflict = on_conflict
        # what each counted call added, to take it back when a richer span of it arrives
        self._counted: OrderedDict[bytes, Counted | tuple[PickledCounts, int]] = OrderedDict()

    # -- one span ---------------------------------------------------------------------------

    def add_span(self, view: SpanView, *, enrich: bool = False) -> CostBreakdown | None:
        """Count one span; returns its breakdown if it carries usage and was not skipped."""
        return self._add(view.span, view.scope, view.resource_attributes, view, enrich, True)

    def _add(
        self,
        span: Span,
        scope: InstrumentationScope,
        resource_attributes: Mapping[str, Any],
        view: SpanView | None,
        enrich: bool,
        want: bool,
    ) -> CostBreakdown | None:
        self.report.spans_seen += 1
        measured = self._measure(span, scope, resource_attributes, scope.name)
        if measured is None:
            return None
        priced, resolution, entry, above = measured
        if not self._account(priced) or not (want or enrich):
            return None
        breakdown = _breakdown(
            priced.model,
            priced.provider,
            priced.usage,
            resolution,
            entry,
            above,
            priced.units,
            priced.notes,
            priced.facts,
        )
        if enrich and priced.units is not None:
            if view is None:
                from otelcli.otlp.spans import SpanView

                view = SpanView(resource_attributes, scope, span)
            write_cost(view, breakdown)
        return breakdown

    def read_call(
        self, span: Span, scope: str, shape: tuple[str, ...] | None = None
    ) -> CallReading | None:
        """Read and classify one span, unpriced: its call facts and usage, or None unless it
        is a call to count (skips and usage conflicts go to the report). `shape`: the span's
        attribute keys in order, if the caller read them already (validate has)."""
        keys: list[str]
        conflicts: list[tuple[int, str, Any, str, Any]] | None
        marker_values: list[tuple[str, Any]] | None
        # one pass over the keys; what they mean is worked out once per key sequence
        if shape is None:
            kvs: Any = list(span.attributes)
            shape = tuple([kv.key for kv in kvs])
        else:
            kvs = span.attributes  # only the values read are indexed
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plan(shape)
        if plan is False:
            return None  # no usage key: nothing to convert
        found, fast = plan
        if fast is None:  # a count under two keys: the values decide, in order
            hits = []
            for i, hit in found:
                v = kvs[i].value
                hits.append((hit, (v.int_value if hit[4] else v.string_value) or to_python(v)))
            values, keys, conflicts, marker_values = _resolve(hits)
        else:
            reads, assign, marker_reads, keys = fast
            # a non-default int (or text) can only be the oneof's value; else ask
            got = []
            for i, is_count in reads:
                v = kvs[i].value
                got.append((v.int_value if is_count else v.string_value) or to_python(v))
            values = [None] * N_SLOTS
            for slot, r in assign:
                values[slot] = got[r]
            conflicts = None
            marker_values = [(k, got[r]) for k, r in marker_reads] if marker_reads else None
        raw_input, raw_output = values[S_INPUT], values[S_OUTPUT]
        cache_read = values[S_CACHE_READ]
        if raw_input is None and raw_output is None and cache_read is None:
            return None
        markers = dict(marker_values) if marker_values is not None else None
        name = span.name
        context = self.span_context(scope, name, markers, values)
        if context.reason is not None:
            self._skip(span, context.reason)
            return None
        if conflicts is not None:
            self._conflicts(span, conflicts, keys, values)
        resolution = context.resolution
        cache_write, reasoning = values[S_CACHE_WRITE], values[S_REASONING]
        cache_write_1h = values[S_CACHE_WRITE_1H]
        # the common case inline: a positive int count (None: not a finite count)
        if not (type(raw_input) is int and 0 < raw_input <= MAX_TOKEN_COUNT):
            raw_input = _int(raw_input)
        if not (type(raw_output) is int and 0 < raw_output <= MAX_TOKEN_COUNT):
            raw_output = _int(raw_output)
        cache_read = _int(cache_read) if cache_read is not None else 0
        cache_write = _int(cache_write) if cache_write is not None else 0
        cache_write_1h = _int(cache_write_1h) if cache_write_1h is not None else 0
        reasoning = _int(reasoning) if reasoning is not None else 0
        if (
            raw_input is None
            or raw_output is None
            or cache_read is None
            or cache_write is None
            or cache_write_1h is None
            or reasoning is None
        ):
            self._skip(span, NOT_A_COUNT)
            return None
        input_tokens, output_tokens, notes = inclusive_counts(
            raw_input,
            raw_output,
            cache_read + cache_write,
            reasoning,
            resolution.provider if resolution else None,
            context.usage_counts,
            self.input_includes_cache,
        )
        usage = Usage(
            input_tokens,
            output_tokens,
            cache_read,
            cache_write,
            cache_write_1h if cache_write_1h < cache_write else cache_write,
            reasoning,
        )
        trace_id = span.trace_id
        span_id = span.span_id
        response_id = values[S_RESPONSE_ID]
        call = CallFacts(
            trace_id,
            span_id,
            span.parent_span_id,
            scope,
            name,
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            context.models,
            (input_tokens, output_tokens),
            response_id if isinstance(response_id, str) and response_id else None,
            (values[S_CACHE_READ] is not None)
            + (values[S_CACHE_WRITE] is not None)
            + (values[S_CACHE_WRITE_1H] is not None)
            + (values[S_REASONING] is not None),
        )
        return CallReading(call, context, values, keys, markers, usage, notes)

    def _measure(
        self,
        span: Span,
        scope_message: InstrumentationScope,
        resource_attributes: Mapping[str, Any],
        scope_name: str,
    ) -> tuple[PricedCall, Resolution | None, PriceEntry | None, int | None] | None:
        """Read, classify and price one span: all that does not depend on the spans before
        it. Skips and usage conflicts go to the report; None unless it is a call to count.
        `scope_name`: scope_message.name (read once per scope by the caller)."""
        reading = self.read_call(span, scope_name)
        if reading is None:
            return None
        call, context, values, keys, markers, usage, notes = reading
        scope, name = call.scope, call.name
        provider = context.provider
        resolution = context.resolution
        start = span.start_time_unix_nano
        at = start or now_ns() if context.fixed is None else 0
        entry, above, units, rates = price_usage(
            resolution, context.fixed, at, usage, context.service_tier
        )
        model_name = context.model
        group_key = None
        if self.by:
            from otelcli.otlp.spans import SpanView

            view = SpanView(resource_attributes, scope_message, span)
            group_key = tuple(
                self._dimension(view, d, model_name, provider, values) for d in self.by
            )
        compared: CostDisagreement | bool | None = None
        reported_note = None
        reported = values[S_COST]
        if reported is not None and units is not None:
            scale, reported_note = self._reading(keys[S_COST], scope, name, markers)
            if scale is not None:
                compared = self._compare(
                    span, model_name, cost_to_usd(sum(units)), reported, keys[S_COST], scale
                )
        priced = PricedCall(
            call,
            model_name,
            provider,
            usage,
            units,
            notes,
            _bounds(values, usage, rates) if rates is not None else (),
            values[S_CACHE_READ] is not None or values[S_CACHE_WRITE] is not None,
            group_key,
            compared,
            reported_note,
        )
        return priced, resolution, entry, above

    def _plan(self, shape: tuple[str, ...]) -> _Plan:
        """What a span with these attribute keys (in this order) needs read: False when none
        is a usage key; else the hits by position, and, unless a count comes under two keys
        (then the values decide), where each slot's and marker's value comes from."""
        index_get = self.key_slots.get
        found = tuple((i, hit) for i, k in enumerate(shape) if (hit := index_get(k)) is not None)
        plan: _Plan = False
        if any(hit[5] for _, hit in found):
            counts = [hit[0] for _, hit in found if hit[4]]
            fast = None
            if len(counts) == len(set(counts)):
                # the winner of each slot: lower rank, then the first (as _resolve)
                ranks = [_NO_RANK] * N_SLOTS
                keys = [""] * N_SLOTS
                winner: dict[int, int] = {}
                for i, (slot, rank, _, key, _, _) in found:
                    if slot >= 0 and rank < ranks[slot]:
                        ranks[slot], keys[slot], winner[slot] = rank, key, i
                markers = [(hit[3], i) for i, hit in found if hit[2]]
                positions = sorted({*winner.values(), *(i for _, i in markers)})
                read_of = {i: r for r, i in enumerate(positions)}
                is_count = {i: hit[4] for i, hit in found}
                fast = (
                    tuple((i, is_count[i]) for i in positions),
                    tuple((slot, read_of[i]) for slot, i in sorted(winner.items())),
                    tuple((key, read_of[i]) for key, i in markers),
                    keys,
                )
            plan = (found, fast)
        if len(self._plans) < _MAX_PLANS:
            self._plans[shape] = plan
        return plan

    def _account(self, priced: PricedCall) -> bool:
        """Count a priced call unless call identity says it was counted already."""
        group = priced.group
        if group is not None and group not in self.report.groups:
            self.report.groups[group] = CostTotals()  # listed even when its calls are dropped
        ledger = self._ledger
        if ledger is None:
            self._count(priced, priced.usage, priced.units, priced.notes)
            return True
        call = priced.facts
        aside = ledger.add(call)
        if aside is not None:
            self._set_aside(aside)
            if aside.dropped is call:
                return False
            self._take_back(aside.dropped)
        counted = self._counted
        counted[call.trace_id + call.span_id] = self._count(
            priced, priced.usage, priced.units, priced.notes
        )
        if len(counted) > MAX_RESPONSE_IDS:
            counted.popitem(last=False)
        return True

    def _count(
        self,
        priced: PricedCall,
        usage: UsageValues,
        units: PartValues | None,
        notes: tuple[str, ...],
        total: bool = True,
    ) -> Counted:
        """Add a call to the report; returns what it added. `total=False`: all but the
        report's total (measure_batch sums a batch's calls at once)."""
        report = self.report
        scope = priced.facts.scope
        bounds = priced.bounds
        if priced.cache_counts:
            report.cache_scopes.add(scope)
        for note in notes:
            report.heuristics[note] = report.heuristics.get(note, 0) + 1
        for bound in bounds:
            if bound == NO_CACHE_READS:
                table = report.no_cache_reads
                table[scope] = table.get(scope, 0) + 1
            else:
                report.unknowable[bound] = report.unknowable.get(bound, 0) + 1
        if total:
            report.total.count(usage, units)
        group = priced.group
        if group is not None:
            totals = report.groups.get(group)
            if totals is None:
                totals = report.groups[group] = CostTotals()
            totals.count(usage, units)
        unknown_key = None
        if units is None:
            unknown_key = (priced.model, priced.provider or UNKNOWN)
            report.unknown_models[unknown_key] = report.unknown_models.get(unknown_key, 0) + 1
        compared, reported_note = priced.compared, priced.reported_note
        if reported_note is not None:
            notes_of = report.reported_notes
            notes_of[reported_note] = notes_of.get(reported_note, 0) + 1
        if compared is True:
            report.agreements += 1
        elif isinstance(compared, CostDisagreement):
            report.disagreement_count += 1
            if len(report.disagreements) < self.max_examples:
                report.disagreements.append(compared)
        return (
            group,
            usage,
            units,
            unknown_key,
            notes,
            bounds,
            scope,
            priced.cache_counts,
            reported_note,
            compared,
        )

    def _set_aside(self, aside: SetAside) -> None:
        report = self.report
        report.set_aside[aside.reason] = report.set_aside.get(aside.reason, 0) + 1
        if len(report.set_aside_examples) < self.max_examples:
            report.set_aside_examples.append(aside)
        if self.on_set_aside is not None:
            self.on_set_aside(aside)

    def _take_back(self, facts: CallFacts) -> None:
        """Take a counted span back out of the sums: the same call came in a richer span."""
        counted = self._counted.pop(facts.trace_id + facts.span_id, None)
        if counted is None:
            return
        if isinstance(counted[0], PickledCounts):  # counted by merge(): (its batch's, position)
            counted = counted[0].records()[counted[1]]
        self._subtract(counted, whole=False)

    def _subtract(self, counted: Counted, *, whole: bool) -> None:
        """Take what a call added back out of the sums; `whole`: also its reported-cost
        tallies (a call dropped on arrival, which a single process never counted). The
        cache scopes and disagreement examples are merge()'s."""
        group, usage, units, unknown_key, notes, bounds, scope, _, reported_note, compared = counted
        report = self.report
        report.total.count(usage, units, -1)
        if group is not None:
            report.groups[group].count(usage, units, -1)
        if unknown_key is not None:
            _decrement(report.unknown_models, unknown_key)
        if NO_CACHE_READS in bounds:
            _decrement(report.no_cache_reads, scope)
            bounds = tuple(b for b in bounds if b != NO_CACHE_READS)
        for note in notes:
            _decrement(report.heuristics, note)
        for bound in bounds:
            _decrement(report.unknowable, bound)
        if not whole:
            return
        if reported_note is not None:
            _decrement(report.reported_notes, reported_note)
        if compared is True:
            report.agreements -= 1
        elif isinstance(compared, CostDisagreement):
            report.disagreement_count -= 1

    def _conflicts(
        self,
        span: Span,
        found: list[tuple[int, str, Any, str, Any]],
        keys: list[str],
        values: list[Any],
    ) -> None:
        report = self.report
        for slot, key_a, value_a, key_b, value_b in found:
            other, other_value = (key_b, value_b) if key_a == keys[slot] else (key_a, value_a)
            report.conflict_count += 1
            conflict = UsageConflict(
                span.trace_id.hex(),
                span.span_id.hex(),
                span.name,
                keys[slot],
                values[slot],
                other,
                other_value,
            )
            if len(report.conflicts) < self.max_examples:
                report.conflicts.append(conflict)
            if self.on_conflict is not None:
                self.on_conflict(conflict)

    def _skip(self, span: Span, reason: str) -> None:
        report = self.report
        report.skipped[reason] = report.skipped.get(reason, 0) + 1
        if len(report.skipped_examples) < self.max_examples:
            report.skipped_examples.append(
                SkippedSpan(span.trace_id.hex(), span.span_id.hex(), span.name, reason)
            )

    def span_context(
        self, scope: str, name: str, markers: dict[str, Any] | None, values: list[Any]
    ) -> SpanContext:
        """Everything about a span with usage that does not depend on its token counts.

        Cached per distinct (scope, name, markers, model, provider, tier): the dialect
        decisions, the provider and the model resolution are pure functions of those.
        """
        raw_provider, server = values[S_PROVIDER], values[S_SERVER]
        request_model, response_model = values[S_REQUEST_MODEL], values[S_RESPONSE_MODEL]
        tier = values[S_SERVICE_TIER]
        key: tuple[Any, ...] = ()
        # Only text is a safe cache key here: 1, 1.0 and True are equal keys but different
        # model names. Other values are rare; they are worked out without the cache.
        if (
            type(raw_provider) in _TEXT
            and type(server) in _TEXT
            and type(request_model) in _TEXT
            and type(response_model) in _TEXT
            and type(tier) in _TEXT
        ):
            try:
                key = (
                    scope,
                    name,
                    raw_provider,
                    server,
                    request_model,
                    response_model,
                    tier,
                    *(markers.items() if markers else ()),
                )
                return self._contexts[key]
            except TypeError:  # an unhashable marker value
                key = ()
            except KeyError:
                pass
        usage_counts, reason = self.classify(scope, name, markers)
        provider = self._provider(raw_provider, server)
        model = str(response_model or request_model or "")
        table = self.table
        resolution = table.resolve(model, provider) if model else None
        if resolution is None and request_model and request_model != model:
            resolution = table.resolve(str(request_model), provider)
        service_tier = tier if isinstance(tier, str) and tier else None
        fixed = None
        if resolution is not None and resolution.entries:
            first = resolution.entries[0]
            if (
                len(first.periods) == 1
                and not first.strict_dates
                and not first.periods[0].tiers
                and not first.service_tiers
            ):  # rates_at would return these rates whatever the time or token count
                fixed = (first, first.periods[0].rates)
        names: tuple[str, ...]
        if type(request_model) is str:
            names = (
                (request_model, response_model) if type(response_model) is str else (request_model,)
            )
        else:
            names = (response_model,) if type(response_model) is str else ()
        context = SpanContext(
            usage_counts,
            reason,
            provider,
            model or NO_MODEL,
            resolution,
            service_tier,
            fixed,
            frozenset(names),
        )
        if key:
            self._contexts[key] = context
        return context

    def classify(
        self, scope: str, name: str, markers: Mapping[str, Any] | None
    ) -> tuple[str, str | None]:
        """(usage_counts, aggregate reason) of a span with usage; cached per marker set."""
        found = markers or {}
        try:
            key: tuple[Any, ...] = (scope, name, *found.items())
            return self._classified[key]
        except TypeError:  # an unhashable marker value: classify without the cache
            key = ()
        except KeyError:
            pass
        dialects = self.dialects
        dialect = dialects.detect(scope, found, name)
        operation = dialects.operation_of(dialect, found, name)
        result = (dialect.usage_counts, dialects.aggregate_reason(dialect, operation, found, name))
        if key:
            self._classified[key] = result
        return result

    def _provider(self, raw: Any, server: Any) -> str | None:
        text = raw if isinstance(raw, str) and raw else None
        if text is None:
            if isinstance(server, str) and server:
                return self.dialects.provider_from_address(server)
            return None
        try:
            return self._providers[text]
        except KeyError:
            canonical = self.dialects.canonical_provider(text)
            self._providers[text] = canonical
            return canonical

    @staticmethod
    def _dimension(
        view: SpanView, dimension: str, model: str, provider: str | None, values: list[Any]
    ) -> str:
        if dimension == "model":
            return model
        if dimension == "provider":
            return provider or UNKNOWN
        if dimension == "service":
            return view.service_name
        if dimension == "trace":
            return view.span.trace_id.hex()
        if dimension == "user":
            return str(values[S_USER]) if values[S_USER] not in (None, "") else UNKNOWN
        if dimension == "session":
            return str(values[S_SESSION]) if values[S_SESSION] not in (None, "") else UNKNOWN
        if dimension in TIME_DIMENSIONS:
            return _time_bucket(view.span.start_time_unix_nano, dimension)
        return view.span.name

    def _reading(
        self, source: str, scope: str, name: str, markers: Mapping[str, Any] | None
    ) -> tuple[Decimal | None, str | None]:
        """(the factor to USD, a note on how the cost was read) for a reported cost key;
        no factor when it is not to be compared: a currency other than USD, or a dialect's
        bare key on a span of another dialect."""
        reading = self._cost_readings.get(source)
        if reading is None:
            return _USD, None
        dialect_id, rename = reading
        found = markers or {}
        dialect = self.dialects.detect(scope, found, name)
        if dialect.id != dialect_id:
            return None, None
        currency = found.get(rename.currency) if rename.currency else None
        if not in_usd(currency):
            return None, (
                f"{source} in {currency} ({rename.currency}), not USD: not compared with "
                "otelcli's USD price"
            )
        if rename.scale is None:
            return _USD, None
        scale = Decimal(str(rename.scale))
        unit = rename.unit or f"x{scale} USD"
        return scale, f"{source} read as {unit} ({dialect.name}): {scale} USD each"

    def _compare(
        self,
        span: Span,
        model: str,
        computed: Decimal,
        reported: Any,
        source: str,
        scale: Decimal = _USD,
    ) -> CostDisagreement | bool | None:
        """True when a reported cost matches ours, the disagreement when it does not, None
        when there is nothing to compare (no number, NaN or infinite). `scale`: the
        reported unit in USD (0.01 for cents)."""
        number = to_number(reported)
        if number is None or not _finite(number):
            return None
        reported_usd = Decimal(str(number)) * scale
        allowed = max(self.tolerance_usd, abs(computed) * self.tolerance_ratio)
        if abs(reported_usd - computed) <= allowed:
            return True
        return CostDisagreement(
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            name=span.name,
            model=model,
            attribute=source,
            reported_usd=reported_usd,
            computed_usd=computed,
        )

    # -- streams ----------------------------------------------------------------------------

    def add_batch(self, batch: ExportTraceServiceRequest, *, enrich: bool = False) -> None:
        add = self._add
        for resource_spans in batch.resource_spans:
            resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                for span in scope_spans.spans:
                    add(span, scope, resource_attributes, None, enrich, False)

    def measure_batch(self, batch: ExportTraceServiceRequest) -> CostSlice:
        """add_batch's work on one batch with every call counted, before call identity (a
        worker process can run it); merge() then applies identity, batches in order.
        Callbacks are not called."""
        kept = self.report
        report = self.report = CostReport(by=self.by, price_source=kept.price_source)
        measure, count = self._measure, self._count
        calls: list[tuple[Any, ...]] = []
        counted: list[Counted] = []
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one object per note set: pickled once
        spans = 0
        try:
            for resource_spans in batch.resource_spans:
                resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    scope = scope_spans.scope
                    scope_name = scope.name  # one str for the scope's calls: pickled once
                    scope_spans_spans = scope_spans.spans
                    spans += len(scope_spans_spans)
                    for span in scope_spans_spans:
                        measured = measure(span, scope, resource_attributes, scope_name)
                        if measured is None:
                            continue
                        priced = measured[0]
                        notes = priced.notes
                        if notes:
                            notes = shared.setdefault(notes, notes)
                        units = priced.units
                        calls.append(tuple(priced.facts))
                        counted.append(
                            count(
                                priced,
                                tuple(priced.usage),  # type: ignore[arg-type]
                                None if units is None else tuple(units),  # type: ignore[arg-type]
                                notes,
                                False,
                            )
                        )
        finally:
            self.report = kept
        report.total.add_all(counted)
        report.spans_seen = spans
        return CostSlice(report, calls, PickledCounts(counted))

    def merge(self, part: CostSlice) -> None:
        """Count one measured batch: exactly what add_batch would have counted."""
        batch, calls, counted = part
        report = self.report
        report.spans_seen += batch.spans_seen
        _add_counts(report.skipped, batch.skipped)
        room = self.max_examples - len(report.skipped_examples)
        report.skipped_examples.extend(batch.skipped_examples[:room])
        report.conflict_count += batch.conflict_count
        room = self.max_examples - len(report.conflicts)
        report.conflicts.extend(batch.conflicts[:room])
        # the batch's sums with every call counted; the calls identity drops come back out
        report.total.add(batch.total)
        for key, totals in batch.groups.items():
            group = report.groups.get(key)
            if group is None:
                group = report.groups[key] = CostTotals()
            group.add(totals)
        for table, counts in (
            (report.unknown_models, batch.unknown_models),
            (report.heuristics, batch.heuristics),
            (report.unknowable, batch.unknowable),
            (report.no_cache_reads, batch.no_cache_reads),
            (report.reported_notes, batch.reported_notes),
        ):
            _add_counts(table, counts)
        report.agreements += batch.agreements
        report.disagreement_count += batch.disagreement_count
        dropped = self._identify(calls, counted) if self._ledger is not None else []
        cache_scopes, disagreements = batch.cache_scopes, batch.disagreements
        if dropped:  # a single process never counted these: out of the sums and examples
            records = counted.records()
            for i in dropped:
                self._subtract(records[i], whole=True)
            left_out = set(dropped)
            kept = [record for i, record in enumerate(records) if i not in left_out]
            cache_scopes = {record[C_SCOPE] for record in kept if record[C_CACHE_COUNTS]}
            disagreements = [
                compared
                for record in kept
                if isinstance(compared := record[C_COMPARED], CostDisagreement)
            ]
        report.cache_scopes.update(cache_scopes)
        room = self.max_examples - len(report.disagreements)
        report.disagreements.extend(disagreements[:room])

    def _identify(self, calls: list[tuple[Any, ...]], counted: PickledCounts) -> list[int]:
        """Call identity over a batch's calls, in order (as _account): the calls it drops on
        arrival, by position; the earlier calls it replaces are taken back out."""
        assert self._ledger is not None
        new = tuple.__new__  # CallFacts from a plain tuple without its Python __new__
        facts = [new(CallFacts, values) for values in calls]
        asides = dict(self._ledger.add_all(facts))
        remembered = self._counted
        keys = [values[0] + values[1] for values in calls]  # trace id + span id
        if not asides and len(keys) <= MAX_RESPONSE_IDS and remembered.keys().isdisjoint(keys):
            # no call is dropped and none was counted before: what the loop below would do,
            # at once (the batch's own keys are the newest, so only older ones are evicted)
            n = len(keys)
            refs = zip(itertools.repeat(counted, n), range(n), strict=True)
            remembered.update(zip(keys, refs, strict=True))
            for _ in range(len(remembered) - MAX_RESPONSE_IDS):
                remembered.popitem(last=False)
            return []
        dropped = []
        for i, call in enumerate(facts):
            aside = asides.get(i)
            if aside is not None:
                self._set_aside(aside)
                if aside.dropped is call:
                    dropped.append(i)
                    continue
                self._take_back(aside.dropped)
            remembered[keys[i]] = (counted, i)
            if len(remembered) > MAX_RESPONSE_IDS:
                remembered.popitem(last=False)
        return dropped


def _add_counts(table: dict[Any, int], counts: Mapping[Any, int]) -> None:
    for key, n in counts.items():
        table[key] = table.get(key, 0) + n


def _decrement(table: dict[Any, int], key: Any) -> None:
    table[key] -= 1
    if not table[key]:
        del table[key]


def _resolve(
    hits: list[tuple[_Hit, Any]],
) -> tuple[
    list[Any], list[str], list[tuple[int, str, Any, str, Any]] | None, list[tuple[str, Any]] | None
]:
    """(slot values, the key of each, count conflicts, marker values) of a span's hits."""
    values: list[Any] = [None] * N_SLOTS
    ranks = [_NO_RANK] * N_SLOTS
    keys: list[str] = [""] * N_SLOTS
    conflicts: list[tuple[int, str, Any, str, Any]] | None = None
    marker_values: list[tuple[str, Any]] | None = None
    for (slot, rank, is_marker, key, is_count, _), value in hits:
        if is_marker:  # kept only if the span turns out to have usage
            if marker_values is None:
                marker_values = [(key, value)]
            else:
                marker_values.append((key, value))
        if slot < 0:
            continue
        if is_count and ranks[slot] != _NO_RANK and value != values[slot]:
            # two keys, two counts: the precedence decides, the report says so
            if conflicts is None:
                conflicts = []
            conflicts.append((slot, keys[slot], values[slot], key, value))
        if rank < ranks[slot]:  # lower rank wins, then the first
            values[slot] = value
            ranks[slot] = rank
            keys[slot] = key
    return values, keys, conflicts, marker_values


def _bounds(values: list[Any], usage: Usage, rates: Rates) -> tuple[str, ...]:
    """What this span cannot tell about its own price (the bill is then a bound)."""
    no_reads = (
        values[S_CACHE_READ] is None
        and values[S_CACHE_WRITE] is None
        and usage.input_tokens
        and rates.cache_read is not None
        and rates.cache_read < rates.input
    )
    no_split = (
        usage.cache_write_tokens
        and values[S_CACHE_WRITE_1H] is None
        and rates.cache_write_1h is not None
        and rates.cache_write_1h != rates.cache_write
    )
    return _BOUNDS[bool(no_reads), bool(no_split)]


# one tuple object per combination: --jobs workers pickle it once per batch
_BOUNDS = {
    (False, False): (),
    (True, False): (NO_CACHE_READS,),
    (False, True): (NO_CACHE_WRITE_SPLIT,),
    (True, True): (NO_CACHE_READS, NO_CACHE_WRITE_SPLIT),
}


def _finite(number: int | float) -> bool:
    return not isinstance(number, float) or math.isfinite(number)


def write_cost(view: SpanView, b: CostBreakdown) -> None:
    """Enrich a span the way a gateway would: total, breakdown and the price entry used.

    A different cost already on the span is kept under gen_ai.usage.cost.reported.
    """
    if b.total_usd is None or b.price_id is None:
        return
    attributes = view.span.attributes
    for kv in attributes:
        if kv.key == COST_ATTRIBUTE:
            existing = to_number(to_python(kv.value))
            if existing is not None and (
                not _finite(existing) or Decimal(str(existing)) != b.total_usd
            ):
                set_attribute(attributes, REPORTED_COST_ATTRIBUTE, existing)
            break
    set_attribute(attributes, COST_ATTRIBUTE, float(b.total_usd))
    for part, key in COST_BREAKDOWN_ATTRIBUTES.items():
        value = b.usd(part)
        if value:
            set_attribute(attributes, key, float(value))
    set_attribute(attributes, COST_PRICE_ATTRIBUTE, b.price_id)
    if view._attributes is not None:  # keep a converted view in step with the span
        view._attributes = None


def cost_report(
    batches: Iterable[ExportTraceServiceRequest],
    table: PriceTable,
    *,
    by: Sequence[str] = (),
    input_includes_cache: bool | None = None,
) -> CostReport:
    """The cost of every span in a stream of batches."""
    calculator = CostCalculator(table, by=by, input_includes_cache=input_includes_cache)
    for batch in batches:
        calculator.add_batch(batch)
    return calculator.report


def enrich_batches(
    batches: Iterable[ExportTraceServiceRequest], calculator: CostCalculator
) -> Iterator[ExportTraceServiceRequest]:
    """Yield each batch after writing gen_ai.usage.cost onto its priced spans.

    The calculator's report fills as the stream is consumed.
    """
    for batch in batches:
        calculator.add_batch(batch, enrich=True)
        yield batch
