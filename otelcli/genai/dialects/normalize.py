"""Dialect detection and normalisation of GenAI span attributes to OTel GenAI semconv keys.

The knowledge lives in otelcli/data/dialects.json (OpenInference, OpenLLMetry, Vercel AI SDK,
OpenLIT, Logfire/pydantic-ai, Langfuse, Portkey); this module only reads it. `cost` and
`validate` share it: cost reads usage through `key_index()` without building dicts, validate
calls `normalize_span()`.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otelcli.otlp.spans import SpanView

USAGE_COUNTS_SEMCONV = "semconv"  # input includes cache reads/writes, output includes reasoning
USAGE_COUNTS_PROVIDER = "provider"  # the provider's raw counts (Anthropic input excludes cache)

PROVIDER_KEY = "gen_ai.provider.name"
OPERATION_KEY = "gen_ai.operation.name"
USAGE_PREFIX = "gen_ai.usage."
AGGREGATED_USAGE_PREFIX = "gen_ai.aggregated_usage."
# The largest token count of one call that is taken as a count (a million times the longest
# context window there is); larger values, NaN and infinities are no count at all.
MAX_TOKEN_COUNT = 10**12
_INT64 = range(-(1 << 63), 1 << 63)


@dataclass(frozen=True, slots=True)
class Rename:
    source: str
    target: str
    rank: int  # lower wins when several sources fill one target
    keep: bool = False  # the source stays even when originals are replaced
    scale: float | None = None
    value: str | None = None  # a conversion of the value ("url_host": the host of a URL)
    unit: str | None = None  # what a scaled value was read as ("cents"), for reports
    currency: str | None = None  # the key holding a reported cost's currency


@dataclass(frozen=True, slots=True)
class OperationRule:
    attribute: str | None  # attribute holding the dialect's span-type marker
    span_name: bool  # the span name may hold it too (Vercel operation ids, pydantic-ai v2)
    values: Mapping[str, str]  # marker value -> gen_ai.operation.name

    def operation(self, attributes: Mapping[str, Any], span_name: str) -> str | None:
        if self.attribute is not None:
            value = attributes.get(self.attribute)
            if isinstance(value, str):
                # Vercel's operation.name is "<operationId> <functionId>": match on the id.
                op = self.values.get(value) or self.values.get(value.split(" ", 1)[0])
                if op is not None:
                    return op
        if self.span_name and span_name:
            return self.values.get(span_name) or self.values.get(span_name.split(" ", 1)[0])
        return None


@dataclass(frozen=True)
class Dialect:
    id: str
    name: str
    scopes: tuple[str, ...]
    markers: frozenset[str]
    span_name_prefixes: tuple[str, ...]
    usage_counts: str
    renames: Mapping[str, Rename]
    operation: OperationRule | None
    operation_fallback: OperationRule | None
    aggregate_operations: Mapping[str, str]
    duplicates: OperationRule | None  # marker value -> reason the span is a duplicate
    send: Mapping[str, Any] = field(default_factory=dict)  # what writing it needs (otelcli send)
    namespaces: tuple[str, ...] = ()  # key prefixes the dialect owns (its own naming)
    own_keys: frozenset[str] = frozenset()  # whole keys it owns (bare analytics columns)
    request_parameters: str | None = None  # attribute holding the request's parameters (JSON)

    def operation_of(self, attributes: Mapping[str, Any], span_name: str) -> str | None:
        for rule in (self.operation, self.operation_fallback):
            if rule is not None and (op := rule.operation(attributes, span_name)) is not None:
                return op
        return None


@dataclass(frozen=True)
class NormalizedSpan:
    """A span's attributes in semconv terms, with what was renamed and how the span is typed."""

    dialect: str
    attributes: dict[str, Any]
    renamed: dict[str, str]  # source key -> semconv key, for the keys actually applied
    operation: str | None
    span_type: str  # llm, embedding, tool, agent, workflow, retrieval, rerank, other
    aggregate_reason: str | None = None  # set when usage on this span repeats its children's
    usage_counts: str = USAGE_COUNTS_SEMCONV


@dataclass
class DialectTable:
    dialects: tuple[Dialect, ...]
    common: Mapping[str, Rename]
    operation_types: Mapping[str, str]
    provider_names: Mapping[str, str]
    server_addresses: tuple[tuple[str, str], ...]
    # usage facts beyond the renames: "cache_write_1h" / "cache_write_5m" -> keys
    usage_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # semconv request attribute -> the request parameter names behind it
    request_parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_id: dict[str, Dialect] = field(init=False)
    _scope_cache: dict[str, Dialect | None] = field(init=False, default_factory=dict)
    _duplicate_rules: tuple[OperationRule, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self.by_id = {d.id: d for d in self.dialects}
        self._duplicate_rules = tuple(d.duplicates for d in self.dialects if d.duplicates)

    @property
    def semconv(self) -> Dialect:
        return self.by_id["semconv"]

    def dialect_for_scope(self, scope_name: str) -> Dialect | None:
        try:
            return self._scope_cache[scope_name]
        except KeyError:
            pass
        found = None
        if scope_name:
            for dialect in self.dialects:
                if any(fnmatch.fnmatchcase(scope_name, glob) for glob in dialect.scopes):
                    found = dialect
                    break
        self._scope_cache[scope_name] = found
        return found

    def detect(self, scope_name: str, keys: Iterable[str], span_name: str = "") -> Dialect:
        """By content: a dialect's marker attributes first; then the scope name (a hint: a
        library may rename its scopes, and scopes are shared); then span-name prefixes;
        then the semconv markers; else semconv."""
        key_set = keys if isinstance(keys, (set, frozenset, dict)) else set(keys)
        semconv = self.semconv
        for dialect in self.dialects:
            if dialect is not semconv and not dialect.markers.isdisjoint(key_set):
                return dialect
        by_scope = self.dialect_for_scope(scope_name)
        if by_scope is not None:
            return by_scope
        for dialect in self.dialects:
            if span_name and span_name.startswith(dialect.span_name_prefixes or ("\0",)):
                return dialect
        return self.semconv

    def canonical_provider(self, value: str) -> str:
        """Dialect provider values (openai.chat, Anthropic, azure-openai, ...) -> semconv names."""
        lowered = value.strip().lower()
        if lowered in self.provider_names:
            return self.provider_names[lowered]
        head = lowered.split(".", 1)[0]  # Vercel's "<provider>.<api>" ids
        return self.provider_names.get(head, lowered)

    def provider_from_address(self, address: str) -> str | None:
        host = address.lower()
        for pattern, provider in self.server_addresses:
            if (pattern.startswith(".") and host.endswith(pattern)) or pattern in host:
                return provider
        return None

    def for_send(self, name: str) -> Dialect:
        """The dialect `otelcli send --dialect NAME` writes: its send name, else its id."""
        for dialect in self.dialects:
            if dialect.send and dialect.send.get("name", dialect.id) == name:
                return dialect
        raise KeyError(f"no dialect is sent as {name!r}")

    def write_key(
        self, dialect: Dialect, semconv_key: str, variant: str | None = None
    ) -> str | None:
        """The key a writer of the dialect uses for a semconv key (or a plain fact of its send
        section), or None when the dialect has none.

        Reverse lookup of the renames: the dialect's own key, or where several read as the
        semconv key the one its send section prefers (its `variants[variant]`, then `write`);
        a common alias only where preferred. Then the send section's `keys`, then its
        `semconv_keys` (written as they are).
        """
        send = dialect.send
        prefer: list[str] = [*send.get("variants", {}).get(variant, ()), *send.get("write", ())]
        own = [r.source for r in dialect.renames.values() if r.target == semconv_key]
        if len(own) == 1:
            return own[0]
        shared = [r.source for r in self.common.values() if r.target == semconv_key]
        for key in prefer:
            if key in own or (not own and key in shared):
                return key
        if own:
            raise ValueError(f"{dialect.id}: several keys read as {semconv_key}: {own}")
        keys: Mapping[str, str] = send.get("keys", {})
        if semconv_key in keys:
            return keys[semconv_key]
        if semconv_key in send.get("semconv_keys", ()):
            return semconv_key
        return None

    def operation_value(self, rule: OperationRule, operation: str) -> str | None:
        """The rule's marker value for an operation (the reverse of its `values`); an
        operation it has no value for takes the value of the first one of the same type."""
        for value, op in rule.values.items():
            if op == operation:
                return value
        kind = self.operation_types.get(operation)
        for value, op in rule.values.items():
            if kind is not None and self.operation_types.get(op) == kind:
                return value
        return None

    def operation_of(
        self, dialect: Dialect, attributes: Mapping[str, Any], span_name: str
    ) -> str | None:
        op = attributes.get(OPERATION_KEY)
        if isinstance(op, str) and op:
            return op
        return dialect.operation_of(attributes, span_name)

    def span_type(self, operation: str | None) -> str:
        if operation is None:
            return "other"
        return self.operation_types.get(operation, "other")

    def aggregate_reason(
        self, dialect: Dialect, operation: str | None, attributes: Mapping[str, Any], span_name: str
    ) -> str | None:
        """Why usage on this span must not be summed with its children's, or None."""
        for rule in self._duplicate_rules:  # e.g. Logfire pending spans, whatever the scope
            reason = rule.operation(attributes, "")
            if reason is not None:
                return reason
        if operation is None:
            return None
        return dialect.aggregate_operations.get(operation) or self.semconv.aggregate_operations.get(
            operation
        )

    def normalize(
        self,
        attributes: Mapping[str, Any],
        *,
        scope_name: str = "",
        span_name: str = "",
        dialect: str | None = None,
        keep_originals: bool = True,
    ) -> NormalizedSpan:
        chosen = self.by_id[dialect] if dialect else self.detect(scope_name, attributes, span_name)
        best: dict[str, Rename] = {}
        for key in attributes:
            rename = chosen.renames.get(key) or self.common.get(key)
            if rename is None or rename.target in attributes:
                continue  # a semconv key already present wins over any alias
            if rename.currency and not in_usd(attributes.get(rename.currency)):
                continue  # gen_ai.usage.cost is USD: another currency is no such cost
            current = best.get(rename.target)
            if current is None or rename.rank < current.rank:
                best[rename.target] = rename
        applied = {r.source: r.target for r in best.values()}
        if keep_originals:
            out = dict(attributes)
        else:
            dropped = {
                key
                for key in attributes
                if (r := chosen.renames.get(key) or self.common.get(key)) is not None and not r.keep
            }
            out = {k: v for k, v in attributes.items() if k not in dropped}
        for target, rename in best.items():
            out[target] = _converted(target, attributes[rename.source], rename.scale, rename.value)
        source = chosen.request_parameters
        if source is not None and source in attributes:
            self._fill_from_request(parameters(attributes[source]), source, out, applied)
        provider = out.get(PROVIDER_KEY)
        if isinstance(provider, str):
            out[PROVIDER_KEY] = self.canonical_provider(provider)
        operation = self.operation_of(chosen, attributes, span_name)
        if operation is not None and OPERATION_KEY not in out:
            out[OPERATION_KEY] = operation
        reason = None
        if any(k.startswith(USAGE_PREFIX) for k in out):
            reason = self.aggregate_reason(chosen, operation, attributes, span_name)
        return NormalizedSpan(
            dialect=chosen.id,
            attributes=out,
            renamed=applied,
            operation=operation,
            span_type=self.span_type(operation),
            aggregate_reason=reason,
            usage_counts=chosen.usage_counts,
        )

    def _fill_from_request(
        self,
        request: Mapping[str, Any] | None,
        source: str,
        out: dict[str, Any],
        applied: dict[str, str],
    ) -> None:
        """Request attributes nothing else filled, from the parameters the span records."""
        if not request:
            return
        for target, names in self.request_parameters.items():
            if target in out:
                continue
            for name in names:
                value = _request_value(target, request_parameter(request, name))
                if value is not None:
                    out[target] = value
                    applied[f"{source}.{name}"] = target
                    break

    def request_sources(self) -> tuple[str, ...]:
        """Every attribute some dialect records a request's parameters in."""
        return tuple(d.request_parameters for d in self.dialects if d.request_parameters)

    def key_index(self) -> dict[str, tuple[str, int]]:
        """source key -> (semconv key, rank), across every dialect; semconv keys rank 0.

        Lets hot paths pick the values they need in one pass over a span's attributes,
        without detecting the dialect first. Lower rank wins.
        """
        index: dict[str, tuple[str, int]] = {}
        renames = [*self.common.values()]
        for dialect in self.dialects:
            renames.extend(dialect.renames.values())
        for rename in renames:
            index.setdefault(rename.target, (rename.target, 0))
        for rename in renames:
            if rename.source not in index or index[rename.source][1] > rename.rank:
                index[rename.source] = (rename.target, rename.rank)
        return index

    def marker_keys(self) -> frozenset[str]:
        """Every attribute the dialect detection, operation and duplicate rules look at."""
        keys: set[str] = {OPERATION_KEY}
        for dialect in self.dialects:
            keys |= dialect.markers
            for rule in (dialect.operation, dialect.operation_fallback, dialect.duplicates):
                if rule is not None and rule.attribute is not None:
                    keys.add(rule.attribute)
        return frozenset(keys)


FINISH_REASONS_KEY = "gen_ai.response.finish_reasons"
_LIST_TARGETS = ("gen_ai.request.stop_sequences", "gen_ai.request.encoding_formats")
_OUTPUT_TYPES = {"text": "text", "json_object": "json", "json_schema": "json", "json": "json"}
NOT_SENT = object()  # a request parameter the request did not hold


def parameters(value: Any) -> Mapping[str, Any] | None:
    """A request's recorded parameters (a JSON object, as text or structured), or None."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.startswith("{"):
        return _parsed_parameters(value)
    return None


@lru_cache(maxsize=4096)  # bounded: captures repeat a few parameter sets, or never repeat
def _parsed_parameters(text: str) -> Mapping[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def request_parameter(request: Mapping[str, Any], name: str) -> Any:
    """A parameter by name (a dotted name reaches into objects: reasoning.effort), or
    NOT_SENT."""
    value: Any = request
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return NOT_SENT
        value = value[part]
    return value


def _request_value(target: str, value: Any) -> Any:
    """A parameter's value as the semconv attribute holds it; None when it has none."""
    if value is NOT_SENT or value is None:
        return None
    if target == "gen_ai.request.stream":
        return True if value is True else None  # set if and only if the request streams
    if target == "gen_ai.output.type":
        kind = value.get("type") if isinstance(value, Mapping) else value
        return _OUTPUT_TYPES.get(kind) if isinstance(kind, str) else None
    if target in _LIST_TARGETS:
        value = [value] if isinstance(value, str) else value
        ok = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        return value if ok else None
    if isinstance(value, (str, int, float)):  # bool is an int
        return value
    return None


def _converted(target: str, value: Any, scale: float | None, how: str | None = None) -> Any:
    if how == "url_host" and isinstance(value, str):
        from urllib.parse import urlsplit

        return urlsplit(value).hostname or value
    if target == FINISH_REASONS_KEY and isinstance(value, str):
        return [value]  # dialects record one reason; semconv keeps a list
    if target.startswith(USAGE_PREFIX) and isinstance(value, str):
        number = to_number(value)
        # only what an OTLP int or double holds as it is: other text stays text
        if (type(number) is int and number in _INT64) or (
            type(number) is float and math.isfinite(number)
        ):
            value = number
    if scale is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value * scale
    return value


def in_usd(currency: Any) -> bool:
    """Whether a reported cost's currency (None: not said) is USD, otelcli's currency."""
    return currency is None or str(currency).strip().upper() == "USD"


# ASCII digits and spaces only, as exporters write numbers (and as a store's engine reads
# them): "٣" is no token count on either path
_NUMBER = re.compile(r"^\s*-?\d+(\.\d*)?\s*$", re.ASCII)


def to_number(value: Any) -> int | float | None:
    """Token counts arrive as ints, floats or (from stringifying exporters) strings.

    The number may still be NaN, infinite or beyond any count: see token_count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.match(value):
        if "." in value:
            return float(value)
        try:
            return int(value)
        except ValueError:  # more digits than int() converts: a float, infinite
            return float(value)
    return None


def token_count(value: Any) -> int | None:
    """A reported token count as an int: 0 for what is no number, or a negative one (as if
    not reported); None for a number that is no finite count (NaN, infinite, or above
    MAX_TOKEN_COUNT), which callers report rather than add up."""
    if type(value) is int:
        if value <= 0:
            return 0
        return value if value <= MAX_TOKEN_COUNT else None
    number = to_number(value)
    if number is None:
        return 0
    if (isinstance(number, float) and not math.isfinite(number)) or number > MAX_TOKEN_COUNT:
        return None
    return int(number) if number > 0 else 0


def _rule(raw: Mapping[str, Any] | None) -> OperationRule | None:
    if raw is None:
        return None
    return OperationRule(
        attribute=raw.get("attribute"),
        span_name=bool(raw.get("span_name", False)),
        values=dict(raw["values"]),
    )


def _renames(raw: Mapping[str, Any], base_rank: int) -> dict[str, Rename]:
    out: dict[str, Rename] = {}
    for position, (source, spec) in enumerate(raw.items()):
        if isinstance(spec, str):
            spec = {"to": spec}
        low = bool(spec.get("low", False))
        out[source] = Rename(
            source=source,
            target=spec["to"],
            rank=base_rank + (10_000 if low else 0) + position,
            keep=bool(spec.get("keep", False)),
            scale=spec.get("scale"),
            value=spec.get("value"),
            unit=spec.get("unit"),
            currency=spec.get("currency"),
        )
    return out


def parse_dialect_table(raw: Mapping[str, Any]) -> DialectTable:
    dialects = []
    for position, d in enumerate(raw["dialects"]):
        dialects.append(
            Dialect(
                id=d["id"],
                name=d["name"],
                scopes=tuple(d.get("scopes", ())),
                markers=frozenset(d.get("markers", ())),
                span_name_prefixes=tuple(d.get("span_name_prefixes", ())),
                usage_counts=d.get("usage_counts", USAGE_COUNTS_SEMCONV),
                renames=_renames(d.get("attributes", {}), 1_000 + 100 * position),
                operation=_rule(d.get("operation")),
                operation_fallback=_rule(d.get("operation_fallback")),
                aggregate_operations=dict(d.get("aggregate_operations", {})),
                duplicates=_rule(d.get("duplicates")),
                send=dict(d.get("send", {})),
                namespaces=tuple(d.get("namespaces", ())),
                own_keys=frozenset(d.get("own_keys", ())),
                request_parameters=d.get("request_parameters"),
            )
        )
    return DialectTable(
        dialects=tuple(dialects),
        common=_renames(raw["common"]["attributes"], 100),
        operation_types=dict(raw["operation_types"]),
        provider_names={k.lower(): v for k, v in raw["provider_names"].items()},
        server_addresses=tuple(raw["server_addresses"].items()),
        usage_keys={
            name: tuple(keys)
            for name, keys in raw.get("usage", {}).items()
            if name.startswith("cache_write_")
        },
        request_parameters={
            key: tuple(names)
            for key, names in raw.get("request_parameters", {}).items()
            if key != "about"
        },
    )


@cache
def load_dialects() -> DialectTable:
    """The packaged dialect table (read once per process)."""
    text = resources.files("otelcli.data").joinpath("dialects.json").read_text("utf-8")
    return parse_dialect_table(json.loads(text))


def detect_dialect(view: SpanView) -> str:
    table = load_dialects()
    return table.detect(view.scope_name, view.attributes, view.name).id


def normalize_span(
    view: SpanView, *, keep_originals: bool = True, dialect: str | None = None
) -> NormalizedSpan:
    """The span's attributes under semconv keys (originals kept unless keep_originals=False)."""
    return load_dialects().normalize(
        view.attributes,
        scope_name=view.scope_name,
        span_name=view.name,
        dialect=dialect,
        keep_originals=keep_originals,
    )


def span_type(view: SpanView) -> str:
    return normalize_span(view).span_type
