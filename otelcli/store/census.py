"""The key/type census of a trace store, for `otelcli validate --from STORE`.

Two kinds of query, each an aggregate inside the engine (never a row per span):

- the key census: every attribute key with how many spans carry it, how many distinct
  values it has and the longest (what decides whether its values are summarised);
- the shape census: spans grouped by what validate reads of them (scope, kind, status,
  name, and their attributes with each high-cardinality value replaced by its type class),
  with a count and a few example span ids per group; whether the span's parent is in the
  table is a column of it. Duplicate span ids are counted apart.

The exporter keeps attribute values as strings (Map(LowCardinality(String), String)): a
type class is the evidence a string gives ("5" reads as an int), re-typed from the
registry by the reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from otelcli.store.connection import Store
from otelcli.store.query import StoreSource, string_set

# A value replaced by its class is written as this marker and one letter:
# b boolean, i int, d double, a JSON array, o JSON object, e empty, s any other string.
CLASS_MARK = "\x00"
_CLASS = (
    "multiIf(v IN ('true', 'false'), 'b', isNotNull(toInt64OrNull(v)), 'i',"
    " isNotNull(toFloat64OrNull(v)), 'd', startsWith(v, '['), 'a', startsWith(v, '{'), 'o',"
    " v = '', 'e', 's')"
)
# groups read back at most; past it the census summarises more keys and asks again
MAX_GROUPS = 20_000


@dataclass(frozen=True, slots=True)
class KeyCensus:
    key: str
    spans: int
    distinct: int
    longest: int


@dataclass(frozen=True, slots=True)
class ShapeGroup:
    scope: str
    scope_version: str
    kind: str
    status: str
    name: str
    attributes: dict[str, str]  # values, or CLASS_MARK + a class letter
    spans: int
    orphans: int  # spans of the group whose parent is not in the table
    examples: tuple[tuple[str, str], ...]  # (trace id, span id), hex


@dataclass
class Census:
    spans: int = 0
    traces: int = 0
    keys: list[KeyCensus] = field(default_factory=list)
    groups: list[ShapeGroup] = field(default_factory=list)
    summarised: frozenset[str] = frozenset()  # keys whose values were replaced by a class
    duplicates: int = 0  # spans whose trace and span id an earlier span already has
    duplicate_examples: tuple[tuple[str, str], ...] = ()


def key_census(store: Store, source: StoreSource) -> list[KeyCensus]:
    rows = store.query(
        "SELECT k, count(), uniq(v), max(length(v))"
        f" FROM {source.table} ARRAY JOIN mapKeys(SpanAttributes) AS k,"
        f" mapValues(SpanAttributes) AS v WHERE {source.predicate()} GROUP BY k ORDER BY k"
    )
    return [KeyCensus(str(row[0]), *(int(n) for n in row[1:])) for row in rows]


def shape_groups(
    store: Store, source: StoreSource, summarised: Iterable[str], examples: int, limit: int
) -> list[ShapeGroup]:
    """Spans grouped by shape (at most `limit` + 1 groups read back)."""
    where = source.predicate()
    keys = sorted(summarised)
    shape = (
        f"mapApply((k, v) -> (k, if(k IN {string_set(keys)},"
        f" concat('\\0', {_CLASS}), v)), SpanAttributes)"
        if keys
        else "SpanAttributes"
    )
    # ids by a 64-bit hash: a set half the size and twice as fast; a missing parent passes
    # for present only if its hash meets another span's (odds ~ spans / 2^64 per orphan)
    parents = f"SELECT cityHash64(TraceId, SpanId) FROM {source.table} WHERE {where}"
    rows = store.query(
        f"SELECT ScopeName, ScopeVersion, SpanKind, StatusCode, SpanName, {shape} AS shape,"
        " count(),"
        f" countIf(ParentSpanId != '' AND cityHash64(TraceId, ParentSpanId) NOT IN ({parents})),"
        f" groupArraySorted({max(1, int(examples))})((TraceId, SpanId))"
        f" FROM {source.table} WHERE {where}"
        " GROUP BY ScopeName, ScopeVersion, SpanKind, StatusCode, SpanName, shape"
        # ties in a fixed order, and the smallest ids as examples: the same report each run
        " ORDER BY count() DESC, ScopeName, ScopeVersion, SpanKind, StatusCode, SpanName,"
        f" cityHash64(shape) LIMIT {int(limit) + 1}"
    )
    return [
        ShapeGroup(
            str(scope),
            str(version),
            str(kind),
            str(status),
            str(name),
            {str(k): str(v) for k, v in attributes.items()},
            int(spans),
            int(orphans),
            tuple((str(t), str(s)) for t, s in ids),
        )
        for scope, version, kind, status, name, attributes, spans, orphans, ids in rows
    ]


def totals(store: Store, source: StoreSource, examples: int) -> tuple[int, int, int, Any]:
    """(spans, traces, duplicate spans, example duplicate ids)."""
    [[spans, traces, duplicates, ids]] = store.query(
        "SELECT sum(n), uniqExact(TraceId), sum(n - 1),"
        f" groupArraySortedIf({max(1, int(examples))})((TraceId, SpanId), n > 1) FROM"
        f" (SELECT TraceId, SpanId, count() AS n FROM {source.table}"
        f" WHERE {source.predicate()} GROUP BY TraceId, SpanId)"
    )
    return int(spans or 0), int(traces), int(duplicates or 0), ids


def take_census(
    store: Store,
    source: StoreSource,
    *,
    examples: int = 3,
    distinct: tuple[int, ...] = (64, 8, 1),
    max_length: int = 256,
    limit: int = MAX_GROUPS,
) -> Census:
    """The census; keys with more distinct values than allowed (or long ones) are summarised
    by type class, allowing fewer distinct values until the groups fit in `limit`."""
    census = Census()
    census.spans, census.traces, census.duplicates, ids = totals(store, source, examples)
    census.duplicate_examples = tuple((str(t), str(s)) for t, s in ids)
    if not census.spans:
        return census
    census.keys = key_census(store, source)
    for allowed in distinct:
        summarised = frozenset(
            k.key for k in census.keys if k.distinct > allowed or k.longest > max_length
        )
        groups = shape_groups(store, source, summarised, examples, limit)
        census.groups, census.summarised = groups, summarised
        if len(groups) <= limit:
            break
    if len(census.groups) > limit:
        census.groups = census.groups[:limit]
    return census


def distinct_values(
    store: Store, source: StoreSource, keys: Iterable[str], examples: int, limit: int
) -> list[tuple[str, str, int, tuple[tuple[str, str], ...]]]:
    """(key, value, spans, example ids) of the given keys' distinct values, the commonest
    first (at most `limit` + 1 read back): values checked once each, counted by spans."""
    rows = store.query(
        f"SELECT k, v, count(), groupArraySorted({max(1, int(examples))})((TraceId, SpanId))"
        f" FROM {source.table} ARRAY JOIN mapKeys(SpanAttributes) AS k,"
        f" mapValues(SpanAttributes) AS v"
        f" WHERE ({source.predicate()}) AND k IN {string_set(sorted(keys))}"
        f" GROUP BY k, v ORDER BY count() DESC, k, v LIMIT {int(limit) + 1}"
    )
    return [
        (str(k), str(v), int(n), tuple((str(t), str(s)) for t, s in ids)) for k, v, n, ids in rows
    ]
