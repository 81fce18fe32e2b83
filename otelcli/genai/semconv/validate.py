"""Check spans against a GenAI semantic-conventions rule table.

Per attribute: unknown keys in the registry's namespaces (with hints from a table of renames
and aliases), keys newer than the table, otelcli's own enrichment keys, deprecated keys (with
their replacement), types, enum values, template keys, naming rules (a dialect's own keys
follow its naming). Per span: its type (from gen_ai.operation.name, the span kind for
invoke_agent, mcp.method.name for MCP, and the provider refinement), then required /
recommended / opt-in attributes, conditional ones only when their condition holds on the span
(conditions.py), span kind, span name, error.type against the status, known-wrong values,
content attributes against their JSON schemas and token-count sanity. Spans with token counts
go through cost's call identity: LLM calls counted once, double instrumentation and
conflicting counts reported. Per capture: duplicate span ids and orphans.

Work per key is cached (a capture repeats the same few dozen keys), per span type precomputed
in rules.py, and findings are counted by set (findings.py). A span is checked by its key
sequence (_Plan): its attributes are not converted; the types come from the oneof of the values
a check reads or type-checks, only the values later checks read are converted, and what depends
only on the keys, the value types and those few values (type and enum findings, the span type
and its span-level checks) is worked out once per distinct combination. Per span remain the
value checks (token counts, content), call identity and ids. A span with a key twice, or any
span once the caches are full, is checked on its converted attributes (the same findings).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from otelcli.genai.dialects.normalize import MAX_TOKEN_COUNT
from otelcli.genai.semconv.conditions import SpanFacts, load_conditions
from otelcli.genai.semconv.findings import Raw, SpanRef, ValidationReport
from otelcli.genai.semconv.hints import class_repr, load_hints
from otelcli.genai.semconv.rules import RuleTable, SpanType
from otelcli.otlp.spans import (
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    SpanView,
    status_name,
)
from otelcli.otlp.values import attributes_to_dict, to_python

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.dialects.capture import CaptureNormalizer
    from otelcli.genai.dialects.normalize import Dialect, DialectTable
    from otelcli.genai.pricing.calls import CallFacts
    from otelcli.genai.semconv.identity import CallIdentity

# Weaver's naming rule for attribute keys.
_NAME = re.compile(r"^[a-z][a-z0-9]*([._][a-z0-9]+)*$")
_KIND_NAMES = ("internal", "internal", "server", "client", "producer", "consumer")  # 0 = unset
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "double": (float, int),
    "boolean": (bool,),
    "enum": (str, int),
    "enum_int": (str, int),
}
_ARRAY_TYPES = {"string[]": (str,), "int[]": (int,), "double[]": (float, int), "boolean[]": (bool,)}
INPUT, OUTPUT = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"
CACHE_READ, CACHE_WRITE = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
)
CACHE_WRITE_NEW = "gen_ai.usage.cache_write.input_tokens"  # the name after the snapshot
REASONING = "gen_ai.usage.reasoning.output_tokens"
REQUEST_MODEL, RESPONSE_MODEL = "gen_ai.request.model", "gen_ai.response.model"
_USAGE = "gen_ai.usage."


@dataclass(slots=True)
class _KeyInfo:
    """Everything about one attribute key that does not depend on its value."""

    static: tuple[Raw, ...]
    accept: tuple[type, ...] | None  # exact Python types a scalar value may have
    element: tuple[type, ...] | None  # for array types: the element types
    expected: str | None  # type name for messages
    members: frozenset[Any] | None
    schema: str | None  # content attribute with a JSON schema
    owned: bool  # in the registry's namespaces (makes a span a GenAI span)
    template: str | None
    token: bool


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        inner = {_type_name(v) for v in value}
        return f"{inner.pop()}[]" if len(inner) == 1 else "array"
    if isinstance(value, dict):
        return "kvlist"
    if isinstance(value, bytes):
        return "bytes"
    return "empty"


@dataclass(slots=True)
class _Shape:
    static: tuple[Raw, ...]
    scalars: tuple[tuple[str, tuple[type, ...], frozenset[Any] | None], ...]
    others: tuple[tuple[str, _KeyInfo], ...]  # arrays and content attributes
    tokens: tuple[str, ...]  # gen_ai.usage.* counts present
    owned: bool
    templates: frozenset[str]
    usage: bool = False  # a token count cost reads (only such spans can be LLM calls)


@dataclass(slots=True)
class _Plan:
    """A key sequence's checks by position, so a span's values are read only where a check
    needs them (a value's type from the oneof's name, without converting it)."""

    keys: tuple[str, ...]  # the key sequence
    shape: _Shape
    template: dict[str, Any]  # every key -> _UNREAD: the span's attributes before any read
    touched: tuple[int, ...]  # positions of the values read or type-checked
    reads: tuple[tuple[str, int], ...]  # keys whose values later checks read (in touched)
    scalars: tuple[tuple[int, str, frozenset[str | None], frozenset[Any] | None], ...]
    others: tuple[tuple[int, str, _KeyInfo], ...]  # arrays and content attributes
    enums: tuple[str, ...]  # scalars with members (their values are read)
    span_reads: tuple[str, ...]  # the values the span-level checks read (not token counts)
    # (value types, enum values) -> the scalars' findings
    checked: dict[tuple[Any, ...], tuple[Raw, ...]] = field(default_factory=dict)
    # (kind, status, name, values, their types) -> (span type, findings, not evaluated)
    spans: dict[tuple[Any, ...], tuple[SpanType | None, tuple[Raw, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )


class _Unread:
    """The value of a key no check reads (shows in a report if one ever did)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unread>"


_UNREAD = _Unread()
# an AnyValue's oneof field -> the Python type to_python gives it
_ONEOF_TYPES: dict[str | None, type] = {
    "string_value": str,
    "int_value": int,
    "double_value": float,
    "bool_value": bool,
    "array_value": list,
    "kvlist_value": dict,
    "bytes_value": bytes,
    None: type(None),
}

_MAX_SHAPES = 20_000
_MAX_VALUES = 4096  # per key sequence: distinct value combinations whose findings are kept
_UNHASHABLE = frozenset(("array_value", "kvlist_value"))
# findings reported on the first span with the key in a run (a worker sees only its part)
_ONCE_PER_KEY = frozenset(("not_stable", "content_not_checked"))
ONCE_PER_KEY = _ONCE_PER_KEY  # public: a store's census reports them once too


class _Inspected(NamedTuple):
    """One span's checks that need none of the spans before it (Validator._inspect)."""

    raws: list[Raw]
    call: CallFacts | None  # its LLM call, for call identity
    after: Sequence[Raw]  # findings that follow the call's
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    name: str
    span_type: str | None


class ValidateSlice(NamedTuple):
    """One batch inspected (Validator.inspect_batch), for Validator.merge."""

    spans: list[_Inspected]
    counts: tuple[int, int]  # spans, GenAI spans
    span_types: Counter[str]
    dialects: Counter[str]
    not_evaluated: Counter[str]
    new_keys: bool  # keys new to the worker: once-per-key findings to check


def _first_time_only(seen: _Inspected, once: set[tuple[str, str | None]]) -> _Inspected:
    """Drop once-per-key findings another worker already reported for an earlier span."""
    kept = []
    for raw in seen.raws:
        if raw[0] in _ONCE_PER_KEY:
            if (raw[0], raw[1]) in once:
                continue
            once.add((raw[0], raw[1]))
        kept.append(raw)
    return seen._replace(raws=kept)


@dataclass
class Options:
    dialects: bool = True  # detect and report instrumentation dialects
    normalized: bool = False  # check each span as `normalize --replace` rewrites it
    content: bool = True  # check content attributes against their JSON schemas
    require: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # policy extras
    explain: bool = False  # list the requirements whose condition a span cannot tell


class Validator:
    """Feeds a ValidationReport span by span; call finish() after the last batch."""

    def __init__(self, rules: RuleTable, report: ValidationReport, options: Options | None = None):
        self.rules = rules
        self.report = report
        self.options = options or Options()
        self._keys: dict[str, _KeyInfo] = {}
        self._shapes: dict[tuple[str, ...], _Shape] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._detected: dict[tuple[str, tuple[str, ...]], Dialect | None] = {}
        self.seen_spans: set[bytes] = set()  # trace_id + span_id of every span (events join them)
        self._traces: set[bytes] = set()
        self._waiting: dict[bytes, list[SpanRef]] = {}  # trace + parent id -> children
        self._dialects: DialectTable | None = None
        self._dialect_keys: dict[str, tuple[str, int]] = {}
        self._markers: frozenset[str] = frozenset()
        self._prefixes: tuple[str, ...] = ()
        self._dialect_namespaces: tuple[str, ...] = ()
        self._dialect_own_keys: frozenset[str] = frozenset()
        self._content = _ContentChecker(rules.schemas) if self.options.content else None
        self._required_extra: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
        self._missing: dict[tuple[str, frozenset[str]], tuple[Raw, ...]] = {}
        self._conditions = load_conditions()
        # (span type, conditional keys missing, span signature) -> verdicts
        self._verdicts: dict[Any, tuple[tuple[Raw, ...], tuple[tuple[str, str], ...]]] = {}
        self._hints = load_hints()
        self._own_keys = _enrichment_keys()
        self._usage_keys = _usage_keys()
        self._calls: CallIdentity | None = None  # LLM calls, counted as cost counts them
        self._once: set[tuple[str, str | None]] = set()  # once-per-key findings merged
        self._dialect_raws: dict[tuple[str, ...], Raw] = {}
        self._normalizer: CaptureNormalizer | None = None
        if self.options.normalized:
            from otelcli.genai.dialects.capture import CaptureNormalizer

            self._normalizer = CaptureNormalizer(replace=True)
        if self.options.dialects or self.options.normalized:
            from otelcli.genai.dialects.normalize import load_dialects

            self._dialects = load_dialects()
            self._dialect_keys = self._dialects.key_index()
            others = [d for d in self._dialects.dialects if d.id != "semconv"]
            # Most spans speak semconv: rule that out with one set operation per span.
            self._markers = frozenset().union(*(d.markers for d in others))
            self._prefixes = tuple(p for d in others for p in d.span_name_prefixes)
            # keys a dialect owns follow its naming (Vercel's camelCase ai.*), not Weaver's
            self._dialect_namespaces = tuple(p for d in others for p in d.namespaces)
            self._dialect_own_keys = frozenset().union(*(d.own_keys for d in others))
        self._value_keys = self._span_value_keys()

    # -- stream -----------------------------------------------------------------------------

    def check_batches(self, batches: Iterable[ExportTraceServiceRequest]) -> ValidationReport:
        for batch in batches:
            self.check_batch(batch)
        return self.finish()

    def check_batch(
        self,
        batch: ExportTraceServiceRequest,
        each: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        """Check every span of a batch; `each`: called with every span's attributes as
        check_span returns them."""
        for seen, attributes in self._inspect_batch(batch):
            self._settle(seen)
            if each is not None:
                each(attributes)

    def _inspect_batch(
        self, batch: ExportTraceServiceRequest
    ) -> Iterator[tuple[_Inspected, Mapping[str, Any]]]:
        """_inspect on every span, read from the batch without a SpanView per span."""
        planned = self._normalizer is None
        for resource_spans in getattr(batch, "resource_spans", ()):
            resource: dict[str, Any] | None = None  # converted only for the per-span path
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                scope_name = scope.name
                for span in scope_spans.spans:
                    done = self._inspect_planned(span, scope_name) if planned else None
                    if done is None:
                        if resource is None:
                            resource = attributes_to_dict(resource_spans.resource.attributes)
                        done = self._inspect_converted(SpanView(resource, scope, span))
                    yield done

    def _calculator(self) -> CallIdentity:
        """The cost path's call identity: same spans set aside, same usage precedence."""
        from otelcli.genai.semconv.identity import CallIdentity

        self._calls = CallIdentity(self._dialects)
        return self._calls

    def finish(self) -> ValidationReport:
        for children in self._waiting.values():
            for child in children:
                self.report.add([("orphan_span", None, None, None)], child)
        self._waiting.clear()
        self.report.traces = len(self._traces)
        self.report.llm_calls = self._calls.calls if self._calls else 0
        return self.report

    # -- one span ---------------------------------------------------------------------------

    def check_span(self, view: SpanView) -> None:
        """Check one span."""
        self._settle(self._inspect(view)[0])

    def _inspect(self, view: SpanView) -> tuple[_Inspected, Mapping[str, Any]]:
        """Every check of one span that needs none of the spans before it."""
        if self._normalizer is None:
            done = self._inspect_planned(view.span, view.scope.name)
            if done is not None:
                return done
        return self._inspect_converted(view)

    def _inspect_planned(
        self, span: Any, scope: str
    ) -> tuple[_Inspected, Mapping[str, Any]] | None:
        """_inspect by the span's key sequence (_Plan); None when it has no plan and gets
        none (a key twice, or the cache full): the caller converts the span instead."""
        kvs = span.attributes
        keys = tuple([kv.key for kv in kvs])
        plan = self._plans.get(keys)
        if plan is None and (len(self._plans) >= _MAX_SHAPES or len(set(keys)) != len(keys)):
            return None
        report = self.report
        report.spans += 1
        name = span.name
        raws: list[Raw] = []
        if self._dialects is not None:
            found = self._detect(scope, keys, name)
            if found is not None:
                report.dialects[found.id] += 1
                raws.append(self._dialect_finding(found.name, keys))
        if plan is None:
            plan = self._plan(keys, raws)
        shape = plan.shape
        if shape.static:
            raws.extend(shape.static)
        values = [kvs[i].value for i in plan.touched]
        kinds = tuple([value.WhichOneof("value") for value in values])
        attributes = plan.template.copy()
        for key, j in plan.reads:
            kind = kinds[j]
            value = values[j]
            if kind == "string_value":
                attributes[key] = value.string_value
            elif kind == "int_value":
                attributes[key] = value.int_value
            else:
                attributes[key] = to_python(value)
        if _UNHASHABLE.isdisjoint(kinds):  # then the findings are those of the types and enums
            cache_key = (kinds, *[attributes[key] for key in plan.enums])
            scalar_raws = plan.checked.get(cache_key)
            if scalar_raws is None:
                scalar_raws = tuple(self._check_scalars(plan, kvs, []))
                if len(plan.checked) < _MAX_VALUES:
                    plan.checked[cache_key] = scalar_raws
            raws.extend(scalar_raws)
        else:
            self._check_scalars(plan, kvs, raws)
        for i, key, info in plan.others:
            self._check_other(key, to_python(kvs[i].value), info, raws)
        if shape.tokens:
            _check_tokens(attributes, shape.tokens, raws)
        return self._inspect_span(
            span, name, scope, attributes, raws, shape.owned, shape.templates, shape.usage, plan
        ), attributes

    def _check_scalars(self, plan: _Plan, kvs: Any, raws: list[Raw]) -> list[Raw]:
        """Types and enum values of the scalars, by position."""
        for i, key, kinds, members in plan.scalars:
            value = kvs[i].value
            if value.WhichOneof("value") not in kinds:
                raws.append(_mismatch(key, to_python(value), self._keys[key]))
            elif members is not None:
                read = to_python(value)
                if read not in members:
                    raws.append(("undefined_enum_value", key, f"{read!r}", None))
        return raws

    def _detect(self, scope: str, keys: tuple[str, ...], name: str) -> Dialect | None:
        """The span's dialect unless semconv (most spans: ruled out by one set operation);
        cached per scope and keys where the span name cannot change it."""
        dialects = self._dialects
        assert dialects is not None
        named = bool(self._prefixes) and name.startswith(self._prefixes)
        if not named:
            try:
                return self._detected[scope, keys]
            except KeyError:
                pass
        found: Dialect | None = None
        if not (
            self._markers.isdisjoint(keys)
            and not named
            and dialects.dialect_for_scope(scope) is None
        ):
            detected = dialects.detect(scope, keys, name)
            found = None if detected.id == "semconv" else detected
        if not named and len(self._detected) < _MAX_SHAPES:
            self._detected[scope, keys] = found
        return found

    def _plan(self, keys: tuple[str, ...], raws: list[Raw]) -> _Plan:
        """The checks of a key sequence by position (its run-wide findings go to raws)."""
        shape = self._shapes.get(keys)
        if shape is None:
            shape = self._shape(keys, raws)
        wanted = self._value_keys
        scalars = []
        others = []
        touched = []
        reads = []
        for i, key in enumerate(keys):
            info = self._keys[key]
            read = (
                key in wanted
                or info.token
                or (info.accept is not None and info.members is not None)
            )
            if read or info.accept is not None:
                touched.append(i)
            if read:
                reads.append((key, len(touched) - 1))
            if info.accept is not None:
                kinds = frozenset(k for k, t in _ONEOF_TYPES.items() if t in info.accept)
                scalars.append((i, key, kinds, info.members))
            if info.element is not None or info.schema is not None:
                others.append((i, key, info))
        plan = _Plan(
            keys,
            shape,
            dict.fromkeys(keys, _UNREAD),
            tuple(touched),
            tuple(reads),
            tuple(scalars),
            tuple(others),
            tuple(key for _, key, _, members in scalars if members is not None),
            tuple(key for key, _ in reads if key in wanted and not key.startswith(_USAGE)),
        )
        if len(self._plans) < _MAX_SHAPES:
            self._plans[keys] = plan
        return plan

    def _span_value_keys(self) -> frozenset[str]:
        """Every key whose value a span check after the attribute checks reads (its type,
        operation, provider, name, status, conditions, hints) or the usage tally does; the
        others are only type-checked by position."""
        rules = self.rules
        conditions = self._conditions
        keys = {
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "mcp.method.name",
            "error.type",
            "gen_ai.tool.name",
            "gen_ai.prompt.name",
            REQUEST_MODEL,
            RESPONSE_MODEL,
            INPUT,
            OUTPUT,
            CACHE_READ,
            CACHE_WRITE,
            CACHE_WRITE_NEW,
            REASONING,
            *self._hints.discouraged,
            *conditions.streaming_flags,
            *conditions.streaming_evidence,
            *conditions.request_sources,
            *conditions.referenced,
        }
        for span_type in (*rules.spans.values(), *rules.refinements.values()):
            keys.update(text for text, is_key in span_type.name_parts if is_key)
        return frozenset(keys)

    def _inspect_converted(self, view: SpanView) -> tuple[_Inspected, Mapping[str, Any]]:
        """_inspect on the span's attributes converted to a dict (and with --normalized, on
        the span as normalize rewrites it)."""
        report = self.report
        report.spans += 1
        dialects = self._dialects
        original = view  # the usage tally reads the span as sent
        mapped_from = None
        if self._normalizer is not None:
            # exactly what `normalize --replace` writes, checked as a file of it would be
            span = type(view.span)()
            span.CopyFrom(view.span)
            mapped_from = self._normalizer.normalize_view(
                SpanView(view.resource_attributes, view.scope, span)
            ).dialect
            view = SpanView(view.resource_attributes, view.scope, span)
        span = view.span
        name = span.name
        attributes = view.attributes
        raws: list[Raw] = []
        if mapped_from is not None and mapped_from != "semconv":
            report.dialects[mapped_from] += 1
        if dialects is not None:
            found = self._detect(view.scope.name, tuple(attributes), name)
            if found is not None:
                if mapped_from is None:
                    report.dialects[found.id] += 1
                raws.append(self._dialect_finding(found.name, attributes))
        owned, templates, usage = self.check_attributes(attributes, raws)
        return self._inspect_span(
            span, name, view.scope.name, attributes, raws, owned, templates, usage
        ), original.attributes

    def _inspect_span(
        self,
        span: Any,
        name: str,
        scope: str,
        attributes: Mapping[str, Any],
        raws: list[Raw],
        owned: bool,
        templates: frozenset[str],
        usage: bool,
        plan: _Plan | None = None,
    ) -> _Inspected:
        """_inspect after the attribute checks: the span's type and its span-level checks."""
        report = self.report
        span_type = None
        status = span.status.code
        if owned:
            report.genai_spans += 1
            if plan is None:
                unknown: list[str] = []
                span_type = self._check_genai_span(span, name, attributes, templates, raws, unknown)
                for key in unknown:
                    report.not_evaluated[key] += 1
            else:
                span_type = self._genai_planned(
                    plan, span, status, name, attributes, templates, raws
                )
            if span_type is not None:
                report.span_types[span_type.name] += 1
        call = None
        if usage:  # one LLM call, two spans; two counts on one span: as cost sees them (the
            # usage conflicts now, whether it is a call already counted when it is settled)
            calls = self._calls or self._calculator()
            call = calls.measure(span, scope, raws, plan.keys if plan is not None else None)
        after: Sequence[Raw] = ()
        end_before_start = span.end_time_unix_nano < span.start_time_unix_nano
        if end_before_start or status != STATUS_UNSET:
            after = self._after(attributes, status, end_before_start)
        return _Inspected(
            raws,
            call,
            after,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            name,
            span_type.name if span_type else None,
        )

    @staticmethod
    def _after(attributes: Mapping[str, Any], status: int, end_before_start: bool) -> list[Raw]:
        """A span's findings that follow its call's: status and timing."""
        after: list[Raw] = []
        if not attributes and status == STATUS_ERROR:
            after.append(("error_span_without_attributes", None, None, None))
        if end_before_start:
            after.append(("end_before_start", None, None, None))
        if not STATUS_UNSET <= status <= STATUS_ERROR:
            after.append(("invalid_status_code", None, f"{status}", None))
        return after

    def _settle(self, seen: _Inspected) -> None:
        """The checks that need the spans before this one: call identity, ids."""
        raws, call, after, trace_id, span_id, parent, name, span_type = seen
        if call is not None:
            assert self._calls is not None
            self._calls.count(call, raws)
        if after:
            raws.extend(after)
        # ids: duplicates now, orphans once the whole capture has been seen
        key = trace_id + span_id
        seen_spans = self.seen_spans
        ref = None
        if key in seen_spans:
            raws.append(("duplicate_span_id", None, None, None))
        else:
            seen_spans.add(key)
            self._traces.add(trace_id)
            if self._waiting:
                self._waiting.pop(key, None)  # children that arrived before this parent
        if parent and trace_id + parent not in seen_spans:
            ref = SpanRef(trace_id, span_id, name, span_type)
            self._waiting.setdefault(trace_id + parent, []).append(ref)
        if raws:
            self.report.add(raws, ref or SpanRef(trace_id, span_id, name, span_type))

    # -- --jobs -----------------------------------------------------------------------------

    def inspect_batch(
        self,
        batch: ExportTraceServiceRequest,
        each: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> ValidateSlice:
        """_inspect on every span of one batch (a worker process can run it); merge() then
        settles them, batches in order: the report is the one check_batch would fill.
        `each`: called with every span's attributes as check_span returns them."""
        kept = self.report
        self.report = report = ValidationReport(level_for=kept.level_for)
        keys = self._keys
        known = len(keys)
        try:
            spans = []
            for seen, attributes in self._inspect_batch(batch):
                spans.append(seen)
                if each is not None:
                    each(attributes)
        finally:
            self.report = kept
        return ValidateSlice(
            spans,
            (report.spans, report.genai_spans),
            report.span_types,
            report.dialects,
            report.not_evaluated,
            len(keys) > known,
        )

    def merge(self, part: ValidateSlice) -> None:
        report = self.report
        report.spans += part.counts[0]
        report.genai_spans += part.counts[1]
        report.span_types.update(part.span_types)
        report.dialects.update(part.dialects)
        report.not_evaluated.update(part.not_evaluated)
        if self._calls is None:
            self._calculator()
        once = self._once if part.new_keys else None
        for seen in part.spans:
            if once is not None and seen.raws:
                seen = _first_time_only(seen, once)
            self._settle(seen)

    # -- attributes -------------------------------------------------------------------------

    def check_attributes(
        self, attributes: Mapping[str, Any], raws: list[Raw]
    ) -> tuple[bool, frozenset[str], bool]:
        """Attribute-level checks; returns (span has registry-namespace keys, templates present,
        span has token counts)."""
        names = tuple(attributes)
        shape = self._shapes.get(names)
        if shape is None:
            shape = self._shape(names, raws)
        if shape.static:
            raws.extend(shape.static)
        for key, accept, members in shape.scalars:
            value = attributes[key]
            if type(value) not in accept:
                raws.append(_mismatch(key, value, self._keys[key]))
            elif members is not None and value not in members:
                raws.append(("undefined_enum_value", key, f"{value!r}", None))
        for key, info in shape.others:
            self._check_other(key, attributes[key], info, raws)
        if shape.tokens:
            _check_tokens(attributes, shape.tokens, raws)
        return shape.owned, shape.templates, shape.usage

    def _check_other(self, key: str, value: Any, info: _KeyInfo, raws: list[Raw]) -> None:
        """An array's element types; a content attribute against its JSON schema."""
        if info.element is not None and not (
            type(value) is list and all(type(v) in info.element for v in value)
        ):
            raws.append(_mismatch(key, value, info))
        if info.schema is not None and self._content is not None:
            problem = self._content.check(info.schema, value)
            if problem is not None:
                raws.append(problem)

    def _shape(self, names: tuple[str, ...], raws: list[Raw]) -> _Shape:
        """What a set of keys needs checked (cached: spans of one kind share their keys)."""
        static: list[Raw] = []
        scalars = []
        others = []
        tokens = []
        templates = set()
        owned = False
        for key in names:
            info = self._keys.get(key)
            if info is None:
                info = self._keys[key] = self._key_info(key, raws)
            static.extend(info.static)
            owned = owned or info.owned
            if info.template is not None:
                templates.add(info.template)
            if info.accept is not None:
                scalars.append((key, info.accept, info.members))
            if info.element is not None or info.schema is not None:
                others.append((key, info))
            if info.token:
                tokens.append(key)
        shape = _Shape(
            tuple(static),
            tuple(scalars),
            tuple(others),
            tuple(tokens),
            owned,
            frozenset(templates),
            not self._usage_keys.isdisjoint(names),
        )
        if len(self._shapes) < _MAX_SHAPES:
            self._shapes[names] = shape
        return shape

    def _key_info(self, key: str, raws: list[Raw]) -> _KeyInfo:
        """Classify a key seen for the first time; run-wide findings go to this span's raws."""
        rules = self.rules
        static: list[Raw] = []
        rule = rules.attributes.get(key)
        template = None
        owned = rules.owns(key)
        if rule is None:
            template_rule = rules.template_for(key)
            if template_rule is not None:
                template = template_rule.key
                rule = template_rule
                static.append(("template_attribute", key, f"template {template}.<key>", None))
        if rule is not None and rule.deprecated is not None:
            deprecation = rule.deprecated
            hint = (
                f"use {deprecation.renamed_to} instead"
                if deprecation.renamed_to
                else (deprecation.note or "remove it")
            )
            static.append(("deprecated_attribute", key, deprecation.reason, hint))
        accept = element = members = None
        expected = None
        schema = None
        if rule is None and key in self._own_keys:
            static.append(("otelcli_attribute", key, None, None))
        elif rule is None and (upcoming := self._hints.upcoming.get(key)) is not None:
            static.append(("upcoming_attribute", key, upcoming.note, None))
            expected = upcoming.type
            accept = _TYPES.get(expected)
        elif rule is None:
            static.extend(self._unknown_key(key, owned))
        if rule is not None and rule.stability != "stable" and rule.deprecated is None:
            raws.append(("not_stable", key, f"stability {rule.stability}", None))
        static.extend(self._naming(key, template))
        if rule is not None and rule.deprecated is None:
            expected = rule.value_type
            accept = _TYPES.get(expected)
            element = _ARRAY_TYPES.get(expected)
            members = rule.members
            if expected == "any" and key in self.rules.schemas:
                schema = key
                if self._content is not None and not self._content.available:
                    raws.append(("content_not_checked", key, None, None))
        return _KeyInfo(
            static=tuple(static),
            accept=accept,
            element=element,
            expected=expected,
            members=members,
            schema=schema,
            owned=owned,
            template=template,
            token=key.startswith(_USAGE) and expected == "int",
        )

    def _unknown_key(self, key: str, owned: bool) -> list[Raw]:
        if owned:
            return [("unknown_attribute", key, None, self._unknown_hint(key))]
        namespace = next(
            (
                ns
                for ns in sorted(self.rules.key_namespaces, key=len, reverse=True)
                if key.startswith(ns)
            ),
            None,
        )
        if namespace is not None:
            return [("extends_namespace", key, f"namespace {namespace.rstrip('.')}", None)]
        return []

    def _unknown_hint(self, key: str) -> str | None:
        known = self._hints.hint(key)
        if known is not None:
            return known
        mapped = self._dialect_keys.get(key)
        if mapped is not None and mapped[0] != key:
            return f"a dialect key: the semconv equivalent is {mapped[0]}"
        current = [name for name, rule in self.rules.attributes.items() if rule.deprecated is None]
        close = difflib.get_close_matches(key, current, n=1, cutoff=0.8)
        return f"did you mean {close[0]}?" if close else None

    def _naming(self, key: str, template: str | None) -> list[Raw]:
        out: list[Raw] = []
        if key in self._dialect_own_keys or (
            self._dialect_namespaces and key.startswith(self._dialect_namespaces)
        ):
            return out
        if "." not in key:
            out.append(("missing_namespace", key, None, None))
        if template is None and not _NAME.match(key):
            out.append(("invalid_name", key, None, None))
        parts = key.split(".")
        for size in range(1, len(parts)):
            prefix = ".".join(parts[:size])
            defined = self.rules.attributes.get(prefix)
            if (
                defined is not None
                and defined.deprecated is None
                and not defined.type.startswith("template[")
            ):
                out.append(("illegal_namespace", key, f"{prefix} is an attribute", None))
                break
        return out

    def _dialect_finding(self, name: str, attributes: Iterable[str]) -> Raw:
        """Cached per dialect and key sequence: spans of one library repeat theirs."""
        cache_key = (name, *attributes)
        found = self._dialect_raws.get(cache_key)
        if found is None:
            found = self._dialect_raw(name, attributes)
            if len(self._dialect_raws) < _MAX_SHAPES:
                self._dialect_raws[cache_key] = found
        return found

    def _dialect_raw(self, name: str, attributes: Iterable[str]) -> Raw:
        mapped = []
        for key in attributes:
            target = self._dialect_keys.get(key)
            if target is not None and target[0] != key:
                mapped.append(f"{key} -> {target[0]}")
        detail = f"{name} ({len(mapped)} key{'s' if len(mapped) != 1 else ''} map to semconv)"
        return ("dialect", None, detail, "; ".join(mapped) or None)

    # -- span level -------------------------------------------------------------------------

    def classify(self, kind: str, attributes: Mapping[str, Any]) -> SpanType | None:
        """The span type of a GenAI span (kind: client, server, internal, ...) with its
        provider refinement; None when unknown."""
        rules = self.rules
        span_type: SpanType | None = None
        if "mcp.method.name" in attributes and kind in rules.mcp_spans:
            span_type = rules.mcp_spans[kind]
        else:
            operation = attributes.get("gen_ai.operation.name")
            candidates = rules.by_operation.get(operation) if isinstance(operation, str) else None
            if candidates:
                span_type = next((c for c in candidates if kind in c.kinds), candidates[0])
            elif "mcp.method.name" in attributes:
                span_type = rules.mcp_spans.get("client")
        if span_type is not None:
            provider = attributes.get("gen_ai.provider.name")
            if isinstance(provider, str):
                span_type = rules.refinements.get((span_type.name, provider), span_type)
        return span_type

    def _genai_planned(
        self,
        plan: _Plan,
        span: Any,
        status: int,
        name: str,
        attributes: Mapping[str, Any],
        templates: frozenset[str],
        raws: list[Raw],
    ) -> SpanType | None:
        """_check_genai_span once per kind, status, name and the values it reads (with their
        types: 1, 1.0 and True are one dict key), for spans of one key sequence."""
        values = [attributes[key] for key in plan.span_reads]
        cache_key = (
            span.kind,
            status,
            name,
            *values,
            *map(type, values),
        )
        cacheable = True
        try:
            found = plan.spans.get(cache_key)
        except TypeError:  # an unhashable value (an array): no cache
            cacheable = False
            found = None
        if found is None:
            checked: list[Raw] = []
            unknown: list[str] = []
            span_type = self._check_genai_span(span, name, attributes, templates, checked, unknown)
            found = (span_type, tuple(checked), tuple(unknown))
            if cacheable and len(plan.spans) < _MAX_VALUES:
                plan.spans[cache_key] = found
        span_type, checked_raws, not_evaluated = found
        raws.extend(checked_raws)
        counts = self.report.not_evaluated
        for key in not_evaluated:
            counts[key] += 1
        return span_type

    def _check_genai_span(
        self,
        span: Any,
        span_name: str,
        attributes: Mapping[str, Any],
        templates: frozenset[str],
        raws: list[Raw],
        unknown: list[str],
    ) -> SpanType | None:
        """The span-level checks of a GenAI span; the keys whose condition it cannot tell
        go to unknown (counted as not evaluated)."""
        kind_number = span.kind
        kind = _KIND_NAMES[kind_number] if 0 <= kind_number < len(_KIND_NAMES) else "internal"
        span_type = self.classify(kind, attributes)
        operation = attributes.get("gen_ai.operation.name")
        if span_type is None:
            if operation is None:
                raws.append(("operation_missing", None, None, None))
            else:
                raws.append(("unknown_operation", "gen_ai.operation.name", f"{operation!r}", None))
            return None
        name = span_type.name
        missing = span_type.keyset - attributes.keys()
        if templates:
            missing -= templates
        if missing:
            conditional = missing & span_type.when.keys()
            if conditional:
                missing -= conditional
            cache_key = (name, frozenset(missing))
            found = self._missing.get(cache_key)
            if found is None:
                found = self._missing[cache_key] = _missing_raws(span_type, missing)
            raws.extend(found)
            if conditional:
                self._conditional(
                    span_type, conditional, attributes, span.status.code, raws, unknown
                )
        if self.options.require:
            extra = self._required_extra.get((name, operation))
            if extra is None:
                extra = self._extra_keys(span_type, operation)
            for key in extra:
                if key not in attributes:
                    raws.append(("policy_required_attribute_missing", key, None, None))
        if span_type.kinds and kind not in span_type.kinds:
            expected = " or ".join(k.upper() for k in sorted(span_type.kinds))
            raws.append(("span_kind", None, f"{kind.upper()}, expected {expected} ({name})", None))
        expected_name = _expected_name(span_type, attributes)
        if expected_name is not None and span_name != expected_name:
            raws.append(("span_name", None, f"{span_name!r}, expected {expected_name!r}", None))
        status = span.status.code
        error_type = attributes.get("error.type")
        if status == STATUS_ERROR and error_type is None:
            raws.append(("error_type_missing", "error.type", None, None))
        elif error_type is not None and status != STATUS_ERROR:
            raws.append(
                (
                    "error_type_without_error_status",
                    "error.type",
                    f"status {status_name(status)}",
                    None,
                )
            )
        if status == STATUS_OK:
            raws.append(("status_ok_set", None, None, None))
        if (name_in_repr := class_repr(error_type)) is not None:
            raws.append(("error_type_repr", "error.type", f"{error_type}", f"use {name_in_repr!r}"))
        for key in self._hints.discouraged.keys() & attributes.keys():
            why = self._hints.discouraged_value(key, attributes[key])
            if why is not None:
                raws.append(("discouraged_value", key, f"{attributes[key]!r}", why))
        requested = attributes.get(REQUEST_MODEL)
        if (
            self._hints.is_dated(requested)
            and requested == attributes.get(RESPONSE_MODEL)
            and requested != self._recorded_model(attributes)
        ):
            raws.append(("dated_request_model", REQUEST_MODEL, f"{requested}", None))
        return span_type

    def _recorded_model(self, attributes: Mapping[str, Any]) -> Any:
        """The model the recorded request parameters name (OpenInference's), if any."""
        request = SpanFacts(attributes, STATUS_UNSET, self._conditions).request()
        return request.get("model") if request is not None else None

    def _conditional(
        self,
        span_type: SpanType,
        keys: Set[str],
        attributes: Mapping[str, Any],
        status: int,
        raws: list[Raw],
        uncounted: list[str],
    ) -> None:
        """Missing attributes whose requirement holds only under a condition: a finding when
        it holds, nothing when it does not, counted apart (listed with --explain) when the
        span cannot tell."""
        facts = SpanFacts(attributes, status, self._conditions)
        signature = facts.signature()
        cache_key = (span_type.name, frozenset(keys), signature) if signature else None
        found = self._verdicts.get(cache_key) if cache_key else None
        if found is None:
            found = self._verdicts_of(span_type, keys, facts)
            if cache_key is not None and len(self._verdicts) < _MAX_SHAPES:
                self._verdicts[cache_key] = found
        missing, unknown = found
        raws.extend(missing)
        for key, what in unknown:
            uncounted.append(key)
            if self.options.explain:
                raws.append(("condition_not_evaluated", key, what, None))

    def _verdicts_of(
        self, span_type: SpanType, keys: Set[str], facts: SpanFacts
    ) -> tuple[tuple[Raw, ...], tuple[tuple[str, str], ...]]:
        """(findings for conditions that hold, (key, what) for conditions the span cannot tell)."""
        missing: list[Raw] = []
        unknown: list[tuple[str, str]] = []
        for level, rule in _MISSING_RULES:
            for key in getattr(span_type, level):
                if key not in keys:
                    continue
                condition = span_type.when[key]
                verdict = condition.test(facts)
                if verdict:
                    missing.append((rule, key, None, span_type.conditions.get(key)))
                elif verdict is None:
                    unknown.append((key, f"{level.replace('_', ' ')} when {condition.text}"))
        return tuple(missing), tuple(unknown)

    def _extra_keys(self, span_type: SpanType, operation: Any) -> tuple[str, ...]:
        keys: list[str] = []
        selectors = (
            "*",
            span_type.name,
            span_type.base,
            operation if isinstance(operation, str) else None,
        )
        for selector in selectors:
            if selector is not None:
                keys.extend(self.options.require.get(selector, ()))
        extra = tuple(dict.fromkeys(keys))
        self._required_extra[
            (span_type.name, operation if isinstance(operation, str) else None)
        ] = extra
        return extra


_MISSING_RULES = (
    ("required", "required_attribute_missing"),
    # error.type is checked against the span status instead
    ("conditionally_required", "conditionally_required_attribute_missing"),
    ("recommended", "recommended_attribute_missing"),
    ("opt_in", "opt_in_attribute_missing"),
)


def _usage_keys() -> frozenset[str]:
    """Every key cost reads an input, output or cache-read count from (any dialect's)."""
    from otelcli.genai.dialects.normalize import load_dialects

    counts = (INPUT, OUTPUT, CACHE_READ)
    index = load_dialects().key_index()
    return frozenset((*counts, *(key for key, (target, _) in index.items() if target in counts)))


def _enrichment_keys() -> frozenset[str]:
    """The keys `otelcli cost --enrich` writes (its output passes otelcli's own validate)."""
    from otelcli.genai.pricing import cost

    return frozenset(
        (
            cost.COST_ATTRIBUTE,
            *cost.COST_BREAKDOWN_ATTRIBUTES.values(),
            cost.COST_PRICE_ATTRIBUTE,
            cost.REPORTED_COST_ATTRIBUTE,
        )
    )


def _missing_raws(span_type: SpanType, missing: frozenset[str] | set[str]) -> tuple[Raw, ...]:
    out: list[Raw] = []
    for level, rule in _MISSING_RULES:
        for key in getattr(span_type, level):
            if key in missing and key != "error.type":
                hint = span_type.conditions.get(key) if level != "opt_in" else None
                out.append((rule, key, None, hint))
    return tuple(out)


def _mismatch(key: str, value: Any, info: _KeyInfo) -> Raw:
    return ("type_mismatch", key, f"{_type_name(value)}, expected {info.expected}", None)


def _expected_name(span_type: SpanType, attributes: Mapping[str, Any]) -> str | None:
    """The span name the type's format gives; placeholders whose attribute is absent end it."""
    if not span_type.name_parts:
        return None
    out = []
    for text, is_key in span_type.name_parts:
        if not is_key:
            out.append(text)
            continue
        if text == "target":  # MCP: the tool or prompt the call is about
            value = attributes.get("gen_ai.tool.name") or attributes.get("gen_ai.prompt.name")
        else:
            value = attributes.get(text)
        if value is None or value == "":
            break
        out.append(str(value))
    return "".join(out).strip()


def _check_tokens(attributes: Mapping[str, Any], keys: tuple[str, ...], raws: list[Raw]) -> None:
    for key in keys:
        value = attributes[key]
        if type(value) is int and not 0 <= value <= MAX_TOKEN_COUNT:
            raws.append(("invalid_token_count", key, f"{value}", None))
    input_tokens = attributes.get(INPUT)
    if type(input_tokens) is int:
        write = attributes.get(CACHE_WRITE, attributes.get(CACHE_WRITE_NEW))
        cached = sum(v for v in (attributes.get(CACHE_READ), write) if type(v) is int)
        if cached > input_tokens:
            raws.append(
                ("cache_exceeds_input", INPUT, f"cache {cached} > input {input_tokens}", None)
            )
    output_tokens = attributes.get(OUTPUT)
    reasoning = attributes.get(REASONING)
    if type(output_tokens) is int and type(reasoning) is int and reasoning > output_tokens:
        raws.append(
            (
                "reasoning_exceeds_output",
                REASONING,
                f"reasoning {reasoning} > output {output_tokens}",
                None,
            )
        )


class _ContentChecker:
    """Content attributes against their JSON schemas (compiled lazily, results cached)."""

    _CACHE = 2048

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        self._schemas = {key: s for key, s in schemas.items() if _worth_checking(s)}
        self._compiled: dict[str, Any] = {}
        self._results: dict[tuple[str, str], Raw | None] = {}
        try:
            import fastjsonschema

            self._library: Any = fastjsonschema
        except ImportError:  # pragma: no cover - exercised via a monkeypatched import
            self._library = None

    @property
    def available(self) -> bool:
        return self._library is not None

    def check(self, key: str, value: Any) -> Raw | None:
        if self._library is None or key not in self._schemas:
            return None
        cache_key = (key, value) if isinstance(value, str) else None
        if cache_key is not None and cache_key in self._results:
            return self._results[cache_key]
        result = self._check(key, value)
        if cache_key is not None:
            if len(self._results) >= self._CACHE:
                self._results.clear()
            self._results[cache_key] = result
        return result

    def _check(self, key: str, value: Any) -> Raw | None:
        if isinstance(value, str):
            import orjson

            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                return ("content_schema", key, f"not valid JSON ({exc})", None)
        validator = self._compiled.get(key)
        if validator is None:
            validator = self._compiled[key] = self._library.compile(
                _offline(self._schemas[key]), use_default=False, handlers=_NO_FETCH
            )
        try:
            validator(value)
        except self._library.JsonSchemaException as exc:
            message = str(getattr(exc, "message", exc)).replace("data", key, 1)
            return ("content_schema", key, message, None)
        return None


def _refuse(uri: str) -> Any:
    raise ValueError(f"remote schema {uri} is not fetched")


_NO_FETCH = {"http": _refuse, "https": _refuse}


def _offline(schema: Any) -> Any:
    """The schema with references to remote documents (the JSON Schema meta-schema, for tool
    parameters) replaced by "anything": validation never touches the network."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return {k: _offline(v) for k, v in schema.items() if k != "$ref"}
        return {k: _offline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_offline(v) for v in schema]
    return schema


def _worth_checking(schema: Mapping[str, Any]) -> bool:
    """Tool-call arguments and results are free-form objects recorded as-is: nothing to check."""
    return not (
        schema.get("type") == "object"
        and schema.get("additionalProperties") is True
        and not schema.get("properties")
    )


def validate(
    batches: Iterable[ExportTraceServiceRequest],
    rules: RuleTable,
    report: ValidationReport,
    options: Options | None = None,
) -> ValidationReport:
    """Check every span of every batch; returns the filled report."""
    return Validator(rules, report, options).check_batches(batches)
