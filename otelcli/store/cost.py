"""`cost --from STORE`: the cost report of a trace store, computed inside ClickHouse.

The engine does the per-span work; Python prices groups. Two scans of the table, and a
third query only where the data asks for it:

1. census: the spans in scope, the attribute keys the table holds (later queries look only
   for those) and every class of spans with usage (scope, span name, dialect markers and the
   values the operation rules read), classified in Python by the file path's own
   CostCalculator: which classes are calls to count and which are skipped (aggregates...);
2. sums: token sums grouped by context (the class plus provider, server, models and service
   tier), by the per-span facts that change the reading (cache above input, reasoning above
   output), by price buckets (the price-validity dates, daily windows and long-context tiers
   of the whole price table) and by the --by dimensions. Within one group every span has the
   same rates and the same reading, so the group's price is the price of its sums. Each
   group brings what decides its context, resolved in Python once per context; over all the
   spans, the same scan tells whether two counted spans could be one call;
3. call identity (genai/pricing/calls.py) as a self-join, only if they could: spans that are
   a call already counted (same response id across scopes; parent and child, or another
   scope's span at the same time, with the same model and usage) come back summed by the
   same groups and are taken out before pricing, as the file path takes them back.

The result is the file path's CostReport, so the same renderers print it. Where the store
cannot reproduce the file path exactly (attribute types are lost to strings, stream order),
docs and tests say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from otelcli.genai.dialects.normalize import MAX_TOKEN_COUNT, OPERATION_KEY
from otelcli.genai.pricing.calls import (
    OVERLAPPING,
    PARENT_CHILD,
    SAME_RESPONSE_ID,
    CallFacts,
    SetAside,
)
from otelcli.genai.pricing.cost import (
    N_SLOTS,
    NO_CACHE_WRITE_SPLIT,
    NOT_A_COUNT,
    S_CACHE_READ,
    S_CACHE_WRITE,
    S_CACHE_WRITE_1H,
    S_COST,
    S_INPUT,
    S_OUTPUT,
    S_PROVIDER,
    S_REASONING,
    S_REQUEST_MODEL,
    S_RESPONSE_ID,
    S_RESPONSE_MODEL,
    S_SERVER,
    S_SERVICE_TIER,
    S_SESSION,
    S_USER,
    TOKEN_SLOTS,
    UNKNOWN,
    CostCalculator,
    CostDisagreement,
    CostParts,
    CostReport,
    CostTotals,
    SkippedSpan,
    SpanContext,
    Usage,
    inclusive_counts,
    price_usage,
    usage_costs,
)
from otelcli.genai.pricing.table import PriceEntry, PriceTable, Rates, cost_to_usd, now_ns
from otelcli.store.connection import Store
from otelcli.store.query import (
    SERVICE_SQL,
    StoreSource,
    any_key,
    keys_among,
    quote,
    u64_set,
)

NULL = "\\0"  # stands for an absent attribute in hashes (an attribute may be "")
MAX_EXAMPLES = 100
_NUMBER = r"'^\\s*-?\\d+(\\.\\d*)?\\s*$'"  # the file path's count pattern (dialects.normalize)
_DIMENSION_SQL = {
    "service": "service",
    "trace": "tid",
    "user": f"if(ifNull(s{S_USER}, '') = '', '{UNKNOWN}', s{S_USER})",
    "session": f"if(ifNull(s{S_SESSION}, '') = '', '{UNKNOWN}', s{S_SESSION})",
    "span-name": "name",
}
# context fields, in the order of the contexts query
_CONTEXT_SLOTS = (S_PROVIDER, S_SERVER, S_REQUEST_MODEL, S_RESPONSE_MODEL, S_SERVICE_TIER)
# sums per group, in query order
_SUMS = (
    "count() AS n",
    "sum(t_in) AS in_",
    "sum(t_out) AS out_",
    "sum(t_cr) AS cr_",
    "sum(t_cw) AS cw_",
    "sum(least(t_w1h, t_cw)) AS w1h_",
    "sum(t_r) AS r_",
    "min(at) AS at_",
    f"countIf(s{S_CACHE_READ} IS NULL AND s{S_CACHE_WRITE} IS NULL AND t_in > 0) AS no_cache_",
    f"countIf(t_cw > 0 AND s{S_CACHE_WRITE_1H} IS NULL) AS no_split_",
    f"countIf(s{S_CACHE_READ} IS NOT NULL OR s{S_CACHE_WRITE} IS NOT NULL) AS cache_keys_",
)
_TAKEN_BACK = 11  # the sums above are the ones identity takes back
_RATE_KEYS = 10  # the group keys that decide a span's reading and rates (no --by dimensions)


@dataclass
class _Group:
    key: tuple[Any, ...]  # ctx, nac, flags, buckets, dims
    sums: list[int]
    conflicts: int
    examples: list[list[str]]
    rate_key: int = 0


class StoreCost:
    """Builds and runs the queries of one `cost --from` report."""

    def __init__(
        self,
        store: Store,
        source: StoreSource,
        table: PriceTable,
        *,
        by: Sequence[str] = (),
        input_includes_cache: bool | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.calculator = CostCalculator(table, by=by, input_includes_cache=input_includes_cache)
        self.by = tuple(by)
        self.includes = input_includes_cache
        self.now = now_ns()
        dialects = self.calculator.dialects
        slots: dict[int, list[tuple[int, str]]] = {}
        markers: set[str] = set()
        for key, (slot, rank, is_marker, *_) in self.calculator.key_slots.items():
            if is_marker:
                markers.add(key)
            if slot >= 0:
                slots.setdefault(slot, []).append((rank, key))
        self.slot_keys = {s: [k for _, k in sorted(v)] for s, v in slots.items()}
        rules = {OPERATION_KEY}
        for dialect in dialects.dialects:
            for rule in (dialect.operation, dialect.operation_fallback, dialect.duplicates):
                if rule is not None and rule.attribute is not None:
                    rules.add(rule.attribute)
        self.rule_keys = sorted(rules)
        self.marker_keys = sorted(markers)
        self.contexts: dict[int, SpanContext] = {}
        self.counted_classes: list[int] = []  # classes of spans with usage that are calls
        self.scopes: dict[int, str] = {}
        self.reported = 0  # spans that carry a cost of their own
        # rate-key hash -> (adds cache, adds reasoning, rates: input, cache read, cache write,
        # 1-hour write, output, reasoning or -1), context
        self.priced: dict[int, tuple[int, ...]] = {}
        self.priced_context: dict[int, SpanContext] = {}

    # -- SQL -------------------------------------------------------------------------------

    def _slot(self, slot: int) -> str:
        """The slot's value: its first key present (an attribute may be ""), else NULL."""
        keys = self.slot_keys.get(slot, [])
        if not keys:
            return "CAST(NULL, 'Nullable(String)')"
        if len(keys) == 1:
            return _lookup(keys[0])
        return f"coalesce({', '.join(_lookup(k) for k in keys)})"

    def _conflicts(self) -> str:
        """Token slots reported under several keys with different values, per span."""
        parts = []
        for slot in TOKEN_SLOTS:
            keys = self.slot_keys.get(slot, [])
            if len(keys) < 2:
                continue
            values = ", ".join(_lookup(k) for k in keys)
            distinct = f"length(arrayDistinct(arrayFilter(x -> isNotNull(x), [{values}])))"
            parts.append(f"greatest({distinct} - 1, 0)")
        return " + ".join(parts) or "0"

    def _cost_key_sql(self) -> str:
        keys = self.slot_keys.get(S_COST, [])
        arms = "".join(f"mapContains(SpanAttributes, {quote(k)}), {quote(k)}, " for k in keys)
        return f",\n  multiIf({arms}'') AS cost_key"

    @staticmethod
    def _count_sql(column: str) -> str:
        """A reported count as the file path reads it: 0 when absent or no number, -1 when
        no finite count (above MAX_TOKEN_COUNT)."""
        number = f"toFloat64OrZero(trimBoth({column}))"
        digits = f"assumeNotNull(toUInt64OrNull({column}))"
        # the common case first: only digits (the pattern below is ~a third of the query)
        return (
            f"multiIf({column} IS NULL, 0, "
            f"isNotNull(toUInt64OrNull({column})) AND NOT startsWith({column}, '+'), "
            f"if({digits} > {MAX_TOKEN_COUNT}, -1, toInt64({digits})), "
            f"NOT match({column}, {_NUMBER}), 0, "
            f"if({number} > {MAX_TOKEN_COUNT}, -1, greatest(toInt64({number}), 0)))"
        )

    def spans_sql(self, *, cost_key: bool = False) -> str:
        """One row per span with usage: the slots, the context hash and the counts (and the
        key the span's own cost was read from, for the comparison)."""
        usage_keys = sorted(
            {k for s in (S_INPUT, S_OUTPUT, S_CACHE_READ) for k in self.slot_keys.get(s, [])}
        )
        slots = ",\n  ".join(f"{self._slot(s)} AS s{s}" for s in range(N_SLOTS))
        rules = ",\n  ".join(f"{_lookup(k)} AS r{i}" for i, k in enumerate(self.rule_keys))
        hashed = ", ".join(["cls", *(f"ifNull(s{s}, '{NULL}')" for s in _CONTEXT_SLOTS)])
        counts = {
            "t_in": S_INPUT,
            "t_out": S_OUTPUT,
            "t_cr": S_CACHE_READ,
            "t_cw": S_CACHE_WRITE,
            "t_r": S_REASONING,
            "t_w1h": S_CACHE_WRITE_1H,
        }
        count_sql = ",\n  ".join(f"{self._count_sql(f's{s}')} AS {n}" for n, s in counts.items())
        nac = " OR ".join(f"{n} < 0" for n in counts)
        return f"""SELECT
  TraceId AS tid, SpanId AS sid, ParentSpanId AS pid, ScopeName AS scope, SpanName AS name,
  toInt64(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
  start_ns + toInt64(Duration) AS end_ns,
  if(start_ns = 0, toInt64({self.now}), start_ns) AS at,
  {SERVICE_SQL} AS service,
  {slots},
  arraySort({keys_among("mapKeys(SpanAttributes)", self.marker_keys)}) AS mkeys,
  {rules},
  {self._class_sql()} AS cls,
  cityHash64({hashed}) AS ctx,
  {count_sql},
  ({nac}) AS nac,
  t_cr + t_cw AS t_c,
  {self._conflicts()} AS conflicts{self._cost_key_sql() if cost_key else ""}
FROM {self.source.table}
WHERE ({self.source.predicate()})
  AND {any_key("mapKeys(SpanAttributes)", usage_keys)}"""

    def _class_sql(self) -> str:
        """What decides a span's dialect and skip reason (CostCalculator.classify): scope,
        span name, the dialect markers present and the values the operation rules read."""
        rules = ", ".join(f"ifNull(r{i}, '{NULL}')" for i in range(len(self.rule_keys)))
        return f"cityHash64(ScopeName, SpanName, mkeys, {rules})"

    def census_sql(self) -> str:
        """Spans in scope, the attribute keys they use (the later query looks only for the
        keys the table holds: a fleet speaks a few dialects, not all of them), and each class
        of spans with usage, to be classified before the sums are taken."""
        usage_keys = sorted(
            {k for s in (S_INPUT, S_OUTPUT, S_CACHE_READ) for k in self.slot_keys.get(s, [])}
        )
        # only spans with usage are classified: the other spans' values are not read
        rules = ", ".join(
            f"if(usage, {_lookup(k)}, NULL) AS r{i}" for i, k in enumerate(self.rule_keys)
        )
        fields = ", ".join(f"any(r{i})" for i in range(len(self.rule_keys)))
        return f"""SELECT usage, cls, any(ScopeName), any(SpanName), any(mkeys), {fields},
  count(), groupUniqArrayArray(keys)
FROM (
  SELECT ScopeName, SpanName, mapKeys(SpanAttributes) AS keys,
    {any_key("keys", usage_keys)} AS usage,
    if(usage, arraySort({keys_among("keys", self.marker_keys)}), []) AS mkeys,
    {rules},
    if(usage, {self._class_sql()}, 0) AS cls
  FROM {self.source.table}
  WHERE {self.source.predicate()}
)
GROUP BY usage, cls"""

    def _keys(self, buckets: tuple[list[int], list[int], list[int]]) -> list[str]:
        times, daily, tiers = buckets
        keys = [
            "ctx",
            "nac",
            "t_c > t_in",
            "t_c > 0",
            "t_r > t_out",
            "t_r > 0",
            _passed("at", times),
            _passed("intDiv(at, 1000000000) % 86400", daily),
            _above("t_in", tiers),
            _above("t_in + t_c", tiers),
        ]
        keys.extend(_DIMENSION_SQL[d] for d in self.by if d in _DIMENSION_SQL)
        return keys

    def sums_sql(self, buckets: tuple[list[int], list[int], list[int]]) -> str:
        """The one pass over the spans with usage: per group the sums, examples and what
        decides the group's context; over all of them, whether call identity has work to do.

        A call can be counted twice only if two counted spans share a response id across
        scopes or a trace and a usage. The usage identity compares depends on the context
        (whether cache or reasoning is added in), so each span brings every usage it may
        have: fewer distinct (trace, usage) than spans bring means a possible repeat, and
        the exact self-join (identity_sql) then decides."""
        keys = self._keys(buckets)
        named = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        group = ", ".join(f"k{i}" for i in range(len(keys)))
        sums = ", ".join(_SUMS)
        rate_keys = ", ".join(f"k{i}" for i in range(_RATE_KEYS))
        fields = ", ".join(
            [
                "any(scope)",
                "any(name)",
                "any(mkeys)",
                *(f"any(r{i})" for i in range(len(self.rule_keys))),
                *(f"any(s{s})" for s in _CONTEXT_SLOTS),
            ]
        )
        counted = f"(NOT nac AND cls IN {u64_set(self.counted_classes)})"
        usages = (
            "if(t_c = 0 AND t_r = 0, [cityHash64(tid, t_in, t_out)],"
            " arrayDistinct([cityHash64(tid, t_in, t_out), cityHash64(tid, t_in + t_c, t_out),"
            " cityHash64(tid, t_in, t_out + t_r), cityHash64(tid, t_in + t_c, t_out + t_r)]))"
        )
        rid = f"ifNull(s{S_RESPONSE_ID}, '')"
        has_rid = f"{counted} AND {rid} != ''"
        return f"""SELECT {named}, {sums}, sum(conflicts), cityHash64({rate_keys}),
  groupArraySortedIf({MAX_EXAMPLES})(tuple(tid, sid, name), NOT {counted}),
  {fields}, countIf(s{S_COST} IS NOT NULL),
  sumIf(length({usages}), {counted}) - uniqExactArrayIf({usages}, {counted}),
  uniqExactIf(({rid}, scope), {has_rid}) - uniqExactIf({rid}, {has_rid}),
  grouping(k0)
FROM ({self.spans_sql()})
GROUP BY GROUPING SETS (({group}), ())"""

    def compare_sql(self, buckets: tuple[list[int], list[int], list[int]]) -> str:
        """Spans that carry a cost of their own, checked against ours per span: counts of
        agreements and disagreements, and the first disagreeing spans."""
        keys = self._keys(buckets)[:_RATE_KEYS]
        named = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        rate_keys = ", ".join(f"k{i}" for i in range(_RATE_KEYS))
        priced = list(self.priced.items())
        hashes = _u64([h for h, _ in priced])

        def column(index: int) -> str:
            return "[" + ", ".join(str(p[index]) for _, p in priced) + "]::Array(Int64)"

        add_cache, add_reasoning, r_in, r_read, r_write, r_1h, r_out, r_reason = (
            column(i) for i in range(8)
        )
        tolerance_usd = float(self.calculator.tolerance_usd)
        ratio = float(self.calculator.tolerance_ratio)
        return f"""SELECT countIf(agrees), countIf(NOT agrees),
  groupArraySortedIf({MAX_EXAMPLES})(tuple(tid, sid, name, ctx, reported_text, t_in, t_out, t_cr,
    t_cw, t_w1h, t_r, rk, cost_key), NOT agrees)
FROM (
  SELECT *, {named}, cityHash64({rate_keys}) AS rk, indexOf({hashes}, rk) AS g,
    s{S_COST} AS reported_text, toFloat64OrNull(trimBoth(s{S_COST})) AS reported,
    t_in + {add_cache}[g] * t_c AS u_in, t_out + {add_reasoning}[g] * t_r AS u_out,
    least(t_w1h, t_cw) AS u_1h,
    if({r_reason}[g] >= 0, least(t_r, u_out), 0) AS u_reason,
    (toFloat64(greatest(u_in - t_c, 0)) * {r_in}[g] + toFloat64(t_cr) * {r_read}[g]
      + toFloat64(t_cw - u_1h) * {r_write}[g] + toFloat64(u_1h) * {r_1h}[g]
      + toFloat64(u_out - u_reason) * {r_out}[g]
      + toFloat64(u_reason) * greatest({r_reason}[g], 0)) / 1e15 AS computed,
    abs(reported - computed) <= greatest({tolerance_usd}, abs(computed) * {ratio}) AS agrees
  FROM ({self.spans_sql(cost_key=True)})
  WHERE s{S_COST} IS NOT NULL AND NOT nac AND g > 0 AND isNotNull(reported)
    AND isFinite(reported)
)"""

    def _calls_sql(self) -> str:
        """The counted calls with the usage and models call identity compares."""
        counted = [h for h, c in self.contexts.items() if c.reason is None]
        excl_cache = [h for h in counted if _excludes(self.contexts[h], "cache")]
        excl_reasoning = [h for h in counted if _excludes(self.contexts[h], "reasoning")]
        if self.includes is None:
            add_cache = f"(t_c > t_in OR (t_c > 0 AND ctx IN {u64_set(excl_cache)}))"
        else:
            add_cache = "0" if self.includes else "1"
        add_reasoning = f"(t_r > t_out OR (t_r > 0 AND ctx IN {u64_set(excl_reasoning)}))"
        calls = f"""SELECT *,
  t_in + if({add_cache}, t_c, 0) AS u_in,
  t_out + if({add_reasoning}, t_r, 0) AS u_out,
  arrayFilter(m -> m != '{NULL}', [ifNull(s{S_REQUEST_MODEL}, '{NULL}'),
    ifNull(s{S_RESPONSE_MODEL}, '{NULL}')]) AS models,
  if(ifNull(s{S_RESPONSE_ID}, '') = '', concat('{NULL}', tid, sid), s{S_RESPONSE_ID})
    AS rid,
  (s{S_CACHE_READ} IS NOT NULL) + (s{S_CACHE_WRITE} IS NOT NULL)
    + (s{S_CACHE_WRITE_1H} IS NOT NULL) + (s{S_REASONING} IS NOT NULL) AS richness
FROM ({self.spans_sql()})
WHERE NOT nac AND ctx IN {u64_set(counted)}"""
        return calls

    def identity_sql(self, buckets: tuple[list[int], list[int], list[int]]) -> str:
        """The spans that are a call already counted, summed by the groups of sums_sql."""
        calls = self._calls_sql()
        family = "(b.sid = a.pid OR b.pid = a.sid)"
        overlap = (
            "(a.scope != b.scope AND a.start_ns > 0 AND a.end_ns > 0 AND b.start_ns > 0"
            " AND b.end_ns > 0 AND if(a.end_ns - a.start_ns <= b.end_ns - b.start_ns,"
            " b.start_ns <= a.start_ns AND a.end_ns <= b.end_ns,"
            " a.start_ns <= b.start_ns AND b.end_ns <= a.end_ns))"
        )
        # the ledger keeps the richer span, else the one it met first (a capture lists spans
        # as they end): b is preferred over a. A response id is matched against the call it
        # was first seen with: the best span of the id is kept, other scopes' spans of it
        # are set aside (a join of every pair would be quadratic in a repeated id)
        preferred = (
            "(b.richness > a.richness OR (b.richness = a.richness AND"
            " (b.end_ns < a.end_ns OR (b.end_ns = a.end_ns AND b.sid < a.sid))))"
        )
        keys = self._keys(buckets)
        named = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        group = ", ".join(f"k{i}" for i in range(len(keys)))
        sums = ", ".join(_SUMS)
        narrow = (
            "SELECT tid, sid, pid, scope, name, start_ns, end_ns, u_in, u_out, models, rid,"
            " richness FROM calls"
        )
        pair = "SELECT a.tid AS tid, a.sid AS sid, b.sid AS kept_sid, b.name AS kept_name"
        return f"""WITH calls AS ({calls}),
best AS (
  SELECT rid, argMin(tuple(sid, scope, name), tuple(-richness, end_ns, sid)) AS kept
  FROM ({narrow} WHERE NOT startsWith(rid, '{NULL}'))
  GROUP BY rid
  HAVING uniqExact(scope) > 1
),
pairs AS (
  SELECT a.tid AS tid, a.sid AS sid, best.kept.1 AS kept_sid, best.kept.3 AS kept_name,
    {quote(SAME_RESPONSE_ID)} AS reason, 1 AS priority
  FROM ({narrow}) AS a INNER JOIN best ON a.rid = best.rid
  WHERE a.scope != best.kept.2
  UNION ALL
  {pair}, if({family}, {quote(PARENT_CHILD)}, {quote(OVERLAPPING)}) AS reason,
    if({family}, 2, 3) AS priority
  FROM ({narrow}) AS a
  INNER JOIN ({narrow}) AS b ON a.tid = b.tid AND a.u_in = b.u_in AND a.u_out = b.u_out
  WHERE a.sid != b.sid AND {preferred}
    AND (empty(a.models) OR empty(b.models) OR hasAny(a.models, b.models))
    AND ({family} OR {overlap})
)
SELECT {named}, reason, {sums},
  groupArraySorted({MAX_EXAMPLES})(tuple(tid, sid, name, kept_sid, kept_name))
FROM calls
INNER JOIN (SELECT * FROM pairs ORDER BY priority LIMIT 1 BY tid, sid) AS dropped
  ON calls.tid = dropped.tid AND calls.sid = dropped.sid
GROUP BY {group}, reason"""

    # -- running -----------------------------------------------------------------------------

    def report(self) -> CostReport:
        report = self.calculator.report
        report.spans_seen = self._census()
        # every price change of the table: the contexts are known only after the pass
        buckets = _buckets(self.calculator.table.find())
        groups, repeats = self._sums(buckets)
        resolved = _buckets(self._entries())  # a fallback price can bring its own changes
        if any(not set(mine) <= set(all_) for mine, all_ in zip(resolved, buckets, strict=True)):
            times, daily, tiers = (sorted({*a, *b}) for a, b in zip(buckets, resolved, strict=True))
            buckets = (times, daily, tiers)
            groups, repeats = self._sums(buckets)
        if repeats and any(c.reason is None for c in self.contexts.values()):
            self._identity(buckets, groups, len(self._keys(buckets)))
        for group in groups.values():
            self._count(group, buckets)
        if self.reported and self.priced:
            self._compare(buckets)
        return report

    def _sums(
        self, buckets: tuple[list[int], list[int], list[int]]
    ) -> tuple[dict[tuple[Any, ...], _Group], bool]:
        """The groups of the one pass, and whether call identity may find a repeat."""
        groups: dict[tuple[Any, ...], _Group] = {}
        width = len(self._keys(buckets))
        self.reported = 0
        repeats = False
        for row in self.store.query(self.sums_sql(buckets)):
            if row[-1]:  # the grouping set of all spans: only its identity counts are read
                repeats = any(int(n) for n in row[-3:-1])
                continue
            key = tuple(row[:width])
            at = width + len(_SUMS)
            sums = [int(v) for v in row[width:at]]
            conflicts, rate_key, examples = int(row[at]), int(row[at + 1]), row[at + 2]
            groups[key] = _Group(key, sums, conflicts, examples, rate_key)
            self.span_context(int(key[0]), row[at + 3 : -3])
        return groups, repeats

    def _compare(self, buckets: tuple[list[int], list[int], list[int]]) -> None:
        report = self.calculator.report
        rows = self.store.query(self.compare_sql(buckets))
        if not rows:
            return
        agreements, disagreements, examples = rows[0]
        report.agreements += int(agreements)
        report.disagreement_count += int(disagreements)
        for tid, sid, name, ctx, text, t_in, t_out, cr, cw, w1h, r, rate_key, key in examples:
            if len(report.disagreements) >= self.calculator.max_examples:
                break
            add_cache, add_reasoning, *rates = self.priced[int(rate_key)]
            c = int(cr) + int(cw)
            usage = Usage(
                int(t_in) + (c if add_cache else 0),
                int(t_out) + (int(r) if add_reasoning else 0),
                int(cr),
                int(cw),
                min(int(w1h), int(cw)),
                int(r),
            )
            computed = cost_to_usd(sum(usage_costs(usage, _rates(rates))))
            report.disagreements.append(
                CostDisagreement(
                    trace_id=tid,
                    span_id=sid,
                    name=name,
                    model=self.contexts[int(ctx)].model,
                    attribute=key,
                    reported_usd=Decimal(str(float(text))),
                    computed_usd=computed,
                )
            )

    def _census(self) -> int:
        """Spans in scope; keeps the keys the table holds and the classes of spans with
        usage that are calls to count."""
        present: set[str] = set()
        spans = 0
        for usage, cls, scope, name, mkeys, *rule_values, n, keys in self.store.query(
            self.census_sql()
        ):
            spans += int(n)
            present.update(keys)
            if usage:
                markers = self._markers(mkeys, rule_values)
                if self.calculator.classify(scope, name, markers)[1] is None:
                    self.counted_classes.append(int(cls))
        self.slot_keys = {
            s: [k for k in keys if k in present] for s, keys in self.slot_keys.items()
        }
        self.marker_keys = [k for k in self.marker_keys if k in present]
        return spans

    def _markers(self, mkeys: list[str], rule_values: list[Any]) -> dict[str, Any] | None:
        """A span's dialect markers as CostCalculator reads them: detection reads which are
        there; the operation rules read their values."""
        rules = dict(zip(self.rule_keys, rule_values, strict=True))
        return {k: (rules[k] if k in rules else "") for k in mkeys} or None

    def span_context(self, ctx: int, fields: list[Any]) -> None:
        """The context of one group's spans (scope, name, markers, rule values, the context
        slots, spans with a cost of their own), worked out once per context."""
        self.reported += int(fields[-1])
        if ctx in self.contexts:
            return
        scope, name, mkeys = fields[0], fields[1], fields[2]
        rule_values = fields[3 : 3 + len(self.rule_keys)]
        slot_values = fields[3 + len(self.rule_keys) : -1]
        markers = self._markers(mkeys, rule_values)
        values: list[Any] = [None] * N_SLOTS
        for slot, value in zip(_CONTEXT_SLOTS, slot_values, strict=True):
            values[slot] = value
        self.contexts[ctx] = self.calculator.span_context(scope, name, markers, values)
        self.scopes[ctx] = scope

    def _entries(self) -> Iterable[PriceEntry]:
        for context in self.contexts.values():
            if context.reason is None and context.fixed is None and context.resolution:
                yield from context.resolution.entries

    def _identity(
        self,
        buckets: tuple[list[int], list[int], list[int]],
        groups: dict[tuple[Any, ...], _Group],
        width: int,
    ) -> None:
        report = self.calculator.report
        for row in self.store.query(self.identity_sql(buckets)):
            key = tuple(row[:width])
            reason = row[width]
            sums = [int(v) for v in row[width + 1 : width + 1 + len(_SUMS)]]
            group = groups.get(key)
            if group is not None:
                for i in range(_TAKEN_BACK):
                    if i != 7:  # the earliest start stays a member's
                        group.sums[i] -= sums[i]
            report.set_aside[reason] = report.set_aside.get(reason, 0) + sums[0]
            for tid, sid, name, kept_sid, kept_name in row[-1]:
                if len(report.set_aside_examples) >= MAX_EXAMPLES:
                    break
                report.set_aside_examples.append(
                    SetAside(_facts(tid, sid, name), _facts(tid, kept_sid, kept_name), reason)
                )

    def _count(self, group: _Group, buckets: tuple[list[int], list[int], list[int]]) -> None:
        report = self.calculator.report
        ctx, nac, cache_above, any_cache, reasoning_above, any_reasoning = group.key[:6]
        tier_raw, tier_with_cache = group.key[8], group.key[9]
        dims = group.key[10:]
        context = self.contexts[int(ctx)]
        n = group.sums[0]
        if context.reason is not None:
            self._skipped(context.reason, n, group.examples)
            return
        report.conflict_count += group.conflicts
        if nac:
            self._skipped(NOT_A_COUNT, n, group.examples)
            return
        if self.by:  # the file path lists a group a span opened, even if set aside
            self._group_totals(context, dims)
        if n <= 0:
            return
        in_, out_, cr, cw, w1h, r, at, no_cache, no_split, cache_keys = group.sums[1:11]
        # the file path's per-span reading, asked once for a span like every one of the group
        raw_in, raw_cache = (0, 1) if cache_above else (1, 1 if any_cache else 0)
        raw_out, raw_reasoning = (0, 1) if reasoning_above else (1, 1 if any_reasoning else 0)
        read_in, read_out, notes = inclusive_counts(
            raw_in,
            raw_out,
            raw_cache,
            raw_reasoning,
            context.resolution.provider if context.resolution else None,
            context.usage_counts,
            self.includes,
        )
        add_cache, add_reasoning = read_in != raw_in, read_out != raw_out
        usage = Usage(
            in_ + (cr + cw if add_cache else 0),
            out_ + (r if add_reasoning else 0),
            cr,
            cw,
            w1h,
            r,
        )
        tiers = buckets[2]
        bucket = int(tier_with_cache if add_cache else tier_raw)
        probe = Usage(input_tokens=tiers[bucket - 1] + 1 if bucket else 0)
        _, _, _, rates = price_usage(
            context.resolution, context.fixed, int(at), probe, context.service_tier
        )
        # one reading and one set of rates per group: the price of the sums is the sum of
        # the prices (a negative uncached input clamps the same way for all its spans)
        parts = usage_costs(usage, rates) if rates is not None else None
        if rates is not None:
            self.priced[group.rate_key] = (
                int(add_cache),
                int(add_reasoning),
                rates.input,
                rates.cache_read if rates.cache_read is not None else rates.input,
                rates.cache_write if rates.cache_write is not None else rates.input,
                _write_1h(rates),
                rates.output,
                rates.reasoning if rates.reasoning is not None else -1,
            )
        targets = [report.total]
        if self.by:
            targets.append(self._group_totals(context, dims))
        for target in targets:
            _add(target, n, usage, parts)
        scope = self.scopes[int(ctx)]
        if cache_keys:
            report.cache_scopes.add(scope)
        for note in notes:
            report.heuristics[note] = report.heuristics.get(note, 0) + n
        if rates is not None:
            if no_cache and rates.cache_read is not None and rates.cache_read < rates.input:
                report.no_cache_reads[scope] = report.no_cache_reads.get(scope, 0) + no_cache
            if (
                no_split
                and rates.cache_write_1h is not None
                and rates.cache_write_1h != rates.cache_write
            ):
                report.unknowable[NO_CACHE_WRITE_SPLIT] = (
                    report.unknowable.get(NO_CACHE_WRITE_SPLIT, 0) + no_split
                )
        if parts is None:
            unknown = (context.model, context.provider or UNKNOWN)
            report.unknown_models[unknown] = report.unknown_models.get(unknown, 0) + n

    def _group_totals(self, context: SpanContext, dims: tuple[Any, ...]) -> CostTotals:
        values = iter(dims)
        key = tuple(
            context.model
            if d == "model"
            else (context.provider or UNKNOWN)
            if d == "provider"
            else str(next(values))
            for d in self.by
        )
        return self.calculator.report.groups.setdefault(key, CostTotals())

    def _skipped(self, reason: str, n: int, examples: list[list[str]]) -> None:
        report = self.calculator.report
        report.skipped[reason] = report.skipped.get(reason, 0) + n
        for tid, sid, name in examples:
            if len(report.skipped_examples) >= MAX_EXAMPLES:
                break
            report.skipped_examples.append(SkippedSpan(tid, sid, name, reason))


def _passed(value: str, bounds: list[int]) -> str:
    """How many of `bounds` are at or before `value` (a sum of comparisons: no lambda)."""
    return " + ".join(f"({value} >= {int(b)})" for b in bounds) or "0"


def _above(value: str, bounds: list[int]) -> str:
    """How many of `bounds` `value` is above."""
    return " + ".join(f"({value} > {int(b)})" for b in bounds) or "0"


def _lookup(key: str) -> str:
    """A span attribute's value, NULL when absent (one scan of the map, not two)."""
    return f"arrayElementOrNull(SpanAttributes, {quote(key)})"


def _buckets(entries: Iterable[PriceEntry]) -> tuple[list[int], list[int], list[int]]:
    """Where the prices of `entries` change: validity dates, daily window edges and
    long-context thresholds. Spans between the same changes have the same rates."""
    times: set[int] = set()
    daily: set[int] = set()
    tiers: set[int] = set()
    for entry in entries:
        for period in entry.periods:
            times.update(t for t in (period.start_ns, period.end_ns) if t is not None)
            if period.daily:
                daily.update(period.daily)
            tiers.update(above for above, _ in period.tiers)
        times.update(v.start_ns for v in entry.service_tiers if v.start_ns is not None)
    return sorted(times), sorted(daily), sorted(tiers)


def _excludes(context: SpanContext, what: str) -> bool:
    """The dialect copies raw provider counts of a provider whose input excludes cache (or
    whose output excludes reasoning): the file path's reading of one such span says so."""
    info = context.resolution.provider if context.resolution else None
    cache, reasoning = (1, 0) if what == "cache" else (0, 1)
    read_in, read_out, _ = inclusive_counts(
        1, 1, cache, reasoning, info, context.usage_counts, None
    )
    return read_in + read_out > 2


def _write_1h(rates: Rates) -> int:
    write = rates.cache_write if rates.cache_write is not None else rates.input
    return rates.cache_write_1h if rates.cache_write_1h is not None else write


def _rates(values: list[int]) -> Rates:
    """Effective rates (fallbacks applied) back as Rates, for one span's exact price."""
    r_in, r_read, r_write, r_1h, r_out, r_reason = values
    return Rates(r_in, r_out, r_read, r_write, r_1h, r_reason if r_reason >= 0 else None)


def _u64(values: list[int]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]::Array(UInt64)"


def _facts(tid: str, sid: str, name: str) -> CallFacts:
    return CallFacts(
        bytes.fromhex(tid),
        bytes.fromhex(sid),
        b"",
        "",
        name,
        0,
        0,
        frozenset(),
        (0, 0),
        None,
        0,
    )


def _add(totals: CostTotals, n: int, usage: Usage, parts: CostParts | None) -> None:
    totals.spans += n
    totals.input_tokens += usage.input_tokens
    totals.output_tokens += usage.output_tokens
    totals.cache_read_tokens += usage.cache_read_tokens
    totals.cache_write_tokens += usage.cache_write_tokens
    totals.reasoning_tokens += usage.reasoning_tokens
    if parts is None:
        totals.unknown_spans += n
        return
    totals.priced_spans += n
    totals.input_cost += parts.input
    totals.cache_read_cost += parts.cache_read
    totals.cache_write_cost += parts.cache_write
    totals.output_cost += parts.output
    totals.reasoning_cost += parts.reasoning


def store_cost_report(
    store: Store,
    source: StoreSource,
    table: PriceTable,
    *,
    by: Sequence[str] = (),
    input_includes_cache: bool | None = None,
) -> CostReport:
    return StoreCost(
        store, source, table, by=by, input_includes_cache=input_includes_cache
    ).report()
