"""`otelcli validate --from STORE`: the validate report of a trace store, from a census.

The engine groups the spans by what validate reads of them (store/census.py); each group
goes once through the file path's Validator, as one span built from the group's scope,
kind, status, name and re-typed attributes, and its findings count as many times as the
group has spans, with the group's own span ids as examples. The same rules, policy, report
and JSON document as for files; what a census cannot tell is named in the document's
`store.not_checked` rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

from otelcli.flows.validate import ValidateResult, prepare
from otelcli.genai.semconv.document import report_document
from otelcli.genai.semconv.findings import Raw, SpanRef, ValidationReport
from otelcli.genai.semconv.rules import RuleTable
from otelcli.genai.semconv.validate import ONCE_PER_KEY, Options, Validator
from otelcli.store.census import CLASS_MARK, Census, ShapeGroup, distinct_values, take_census
from otelcli.store.connection import Store, open_store
from otelcli.store.query import StoreSource
from otelcli.store.rows import SPAN_KINDS, STATUS_CODES

_INTS = ("int", "enum_int")
MAX_VALUES = 10_000  # distinct content values checked against their schemas
_NOT_CHECKED = {
    "end_before_start": "the table keeps a duration, never negative",
    "invalid_status_code": "the table keeps a status name",
}
_TYPES = (
    "the table keeps attribute values as strings: each is re-typed from the registry "
    '("5" for an int key is an int): a number sent as a string, or a double with an integral '
    "value (1.0 is stored as 1) for an int key, is not told apart"
)


@dataclass(frozen=True)
class StoreValidateRequest:
    source: StoreSource
    semconv: str | None = None
    registry: str | None = None
    config: str | None = None
    fail_on: str | None = None
    normalized: bool = False
    explain: bool = False
    content: bool = True
    examples: int = 3
    max_findings: int = 1000


@dataclass
class _Recorder(ValidationReport):
    """One representative span's counts and raw findings."""

    added: list[tuple[tuple[Raw, ...], SpanRef]] = field(default_factory=list)

    def add(self, raws: Any, span: SpanRef, count: int = 1) -> None:
        self.added.append((tuple(raws), span))

    def reset(self) -> None:
        self.added.clear()
        self.spans = self.genai_spans = 0
        self.span_types.clear()
        self.dialects.clear()
        self.not_evaluated.clear()


def run(request: StoreValidateRequest) -> ValidateResult:
    setup = prepare(
        fail_on=request.fail_on,
        config=request.config,
        semconv=request.semconv,
        registry=request.registry,
        normalized=request.normalized,
        content=request.content,
        explain=request.explain,
    )
    policy, rules, threshold, options = setup.policy, setup.rules, setup.threshold, setup.options
    source = request.source
    with open_store(source.url) as store:  # one session for every query of the report
        census = take_census(store, source, examples=request.examples)
        report = ValidationReport(
            level_for=policy.level_for, max_findings=request.max_findings, examples=request.examples
        )
        not_checked = dict(_NOT_CHECKED)
        content_keys = census.summarised & rules.schemas.keys() if request.content else frozenset()
        _feed(census, rules, report, options, policy.level_for, content_keys)
        _count_calls(store, source, report)
        values = (
            distinct_values(store, source, content_keys, request.examples, MAX_VALUES)
            if content_keys
            else []
        )
    if content_keys:
        if len(values) > MAX_VALUES:
            values = values[:MAX_VALUES]
            not_checked["content_schema"] = (
                f"only the {MAX_VALUES} commonest content values were checked"
            )
        _check_content(values, rules, report, policy.level_for)
    report.traces = census.traces
    if census.duplicates:
        refs = [_ref(ids, "", None) for ids in census.duplicate_examples]
        _add(report, (("duplicate_span_id", None, None, None),), refs, census.duplicates)
    checked = sum(group.spans for group in census.groups)
    if checked < census.spans:
        not_checked["*"] = f"{census.spans - checked} spans of rarer shapes past the census limit"
    not_checked["type_mismatch"] = _TYPES
    for rule in _stand_in_rules(census.summarised, rules):
        not_checked.setdefault(
            rule, "read on a stand-in value where a key has many distinct values (summarised_keys)"
        )
    where = f"{source.url.display} table {source.table}"
    document = report_document(
        report, rules, inputs=[where], fail_on=threshold, policy=policy.source
    )
    document["summary"]["spans"] = census.spans
    document["store"] = {
        "table": source.table,
        "groups": len(census.groups),
        "keys": len(census.keys),
        "summarised_keys": sorted(census.summarised),
        "not_checked": [{"rule": rule, "reason": why} for rule, why in not_checked.items()],
    }
    return ValidateResult(document, report.fails(threshold))


def _count_calls(store: Store, source: StoreSource, report: ValidationReport) -> None:
    """LLM calls as `cost --from` counts them (its call identity, in SQL), each span set
    aside as the same call a double_instrumentation finding, as on the file path."""
    from otelcli.genai.pricing.table import load_table
    from otelcli.store.cost import store_cost_report

    calls = store_cost_report(store, source, load_table(None, use_fallback=False))
    report.llm_calls = calls.total.spans
    shown = calls.set_aside_examples
    for aside in shown:
        kept = aside.kept
        detail = f"span {kept.span_id.hex()} ({kept.name}): {aside.reason}"
        dropped = SpanRef(aside.dropped.trace_id, aside.dropped.span_id, aside.dropped.name, None)
        report.add([("double_instrumentation", None, detail, None)], dropped)
    rest = sum(calls.set_aside.values()) - len(shown)
    if rest > 0 and shown:
        report.add([("double_instrumentation", None, None, None)], dropped, rest)


def _feed(
    census: Census,
    rules: RuleTable,
    report: ValidationReport,
    options: Options,
    level_for: Any,
    stand_ins: Set[str] = frozenset(),
) -> None:
    """Each group through the Validator once, its findings weighted by its spans (content
    findings on the stand-ins of summarised content keys dropped: their values are checked
    apart)."""
    recorder = _Recorder(level_for=level_for, max_findings=0, examples=0)
    validator = Validator(rules, recorder, options)
    for number, group in enumerate(census.groups, 1):
        recorder.reset()
        validator.check_span(_view(group, rules, number))
        validator.finish()
        weight = group.spans
        report.spans += weight
        report.genai_spans += recorder.genai_spans * weight
        for counter, part in (
            (report.span_types, recorder.span_types),
            (report.dialects, recorder.dialects),
            (report.not_evaluated, recorder.not_evaluated),
        ):
            counter.update({key: n * weight for key, n in part.items()})
        span_type = next(iter(recorder.span_types), None)
        refs = [_ref(ids, group.name, span_type) for ids in group.examples]
        for raws, _ in recorder.added:
            # groups are not calls: the same call twice is told by _count_calls
            raws = tuple(r for r in raws if r[0] != "double_instrumentation")
            if stand_ins:
                raws = tuple(r for r in raws if r[0] != "content_schema" or r[1] not in stand_ins)
            once = tuple(raw for raw in raws if raw[0] in ONCE_PER_KEY)
            if once:
                report.add(raws, refs[0])
                _add(
                    report, tuple(r for r in raws if r[0] not in ONCE_PER_KEY), refs[1:], weight - 1
                )
            else:
                _add(report, raws, refs, weight)
        if group.orphans:
            _add(report, (("orphan_span", None, None, None),), refs, group.orphans)


def _stand_in_rules(keys: Set[str], rules: RuleTable) -> list[str]:
    """The value checks that read a summarised key (so read a stand-in for it)."""
    from otelcli.genai.semconv.hints import load_hints

    out = []
    if any((r := rules.attributes.get(k)) is not None and r.members for k in keys):
        out.append("undefined_enum_value")
    if any("token" in k or "usage" in k for k in keys):
        out += ["invalid_token_count", "cache_exceeds_input", "reasoning_exceeds_output"]
        out.append("usage_conflict")
    named = {
        text
        for span_type in (*rules.spans.values(), *rules.refinements.values())
        for text, is_key in span_type.name_parts
        if is_key
    }
    if keys & (named | {"gen_ai.tool.name", "gen_ai.prompt.name"}):
        out.append("span_name")
    if keys & {"gen_ai.request.model", "gen_ai.response.model"}:
        out.append("dated_request_model")
    if "error.type" in keys:
        out.append("error_type_repr")
    if keys & load_hints().discouraged.keys():
        out.append("discouraged_value")
    return out


def _check_content(
    values: list[tuple[str, str, int, tuple[tuple[str, str], ...]]],
    rules: RuleTable,
    report: ValidationReport,
    level_for: Any,
) -> None:
    """Each distinct content value once against its schema, counted by the spans with it."""
    recorder = _Recorder(level_for=level_for, max_findings=0, examples=0)
    validator = Validator(rules, recorder, Options(dialects=False))
    for number, (key, value, spans, examples) in enumerate(values, 1):
        recorder.reset()
        group = ShapeGroup("", "", "Internal", "Unset", "", {key: value}, 1, 0, examples)
        validator.check_span(_view(group, rules, number))
        refs = [_ref(ids, "", None) for ids in examples]
        for raws, _ in recorder.added:
            found = tuple(raw for raw in raws if raw[0] == "content_schema")
            _add(report, found, refs, spans)


def _add(report: ValidationReport, raws: tuple[Raw, ...], refs: list[SpanRef], count: int) -> None:
    """`count` spans alike: the examples one by one, the rest at once."""
    if count < 1 or not raws:
        return
    shown = refs[: min(len(refs), count)]
    for ref in shown:
        report.add(raws, ref)
    if count > len(shown) and refs:
        report.add(raws, refs[-1], count - len(shown))


def _ref(ids: tuple[str, str], name: str, span_type: str | None) -> SpanRef:
    trace_id, span_id = ids
    return SpanRef(_hex(trace_id), _hex(span_id), name, span_type)


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode()


def _view(group: ShapeGroup, rules: RuleTable, number: int) -> Any:
    """The group as one span (ids of its own: groups never look like duplicates)."""
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otelcli.otlp.spans import SpanView
    from otelcli.otlp.values import make_attributes

    span = Span(
        trace_id=number.to_bytes(16, "big"),
        span_id=number.to_bytes(8, "big"),
        name=group.name,
        start_time_unix_nano=1,
        end_time_unix_nano=1,
    )
    span.kind = _number(group.kind, SPAN_KINDS, "SPAN_KIND_")  # type: ignore[assignment]
    span.status.code = _number(group.status, STATUS_CODES, "STATUS_CODE_")  # type: ignore[assignment]
    typed = {key: retype(key, value, rules) for key, value in group.attributes.items()}
    span.attributes.extend(make_attributes(typed))
    scope = InstrumentationScope(name=group.scope, version=group.scope_version)
    return SpanView({}, scope, span)


def _number(name: str, names: tuple[str, ...], older: str) -> int:
    """A pdata name (Client, Error) or the older exporters' (SPAN_KIND_CLIENT) as its number."""
    if name.startswith(older):
        name = name[len(older) :].capitalize()
    return names.index(name) if name in names else 0


def retype(key: str, text: str, rules: RuleTable) -> Any:
    """A stored string as the value validate would have read: the registry's type where the
    string reads as it, else as sent; a value summarised by class as a stand-in of it."""
    rule = rules.attributes.get(key) or rules.template_for(key)
    expected = rule.value_type if rule is not None and rule.deprecated is None else None
    if text.startswith(CLASS_MARK):
        return _stand_in(text[len(CLASS_MARK) :], rule, expected)
    if expected is None:
        return _as_sent(text)
    if expected in _INTS or (expected == "enum" and rule and _int_members(rule.members)):
        return _int(text)
    if expected == "double":
        try:
            return float(text)
        except ValueError:
            return text
    if expected == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if expected.endswith("[]") and text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _int_members(members: Any) -> bool:
    return bool(members) and all(isinstance(m, int) for m in members)


def _int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _as_sent(text: str) -> Any:
    """A key the registry does not type: what the exporter's string most likely was."""
    if text in ("true", "false"):
        return text == "true"
    value = _int(text)
    if isinstance(value, int):
        return value
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, list):
            return parsed
    return text


def _stand_in(kind: str, rule: Any, expected: str | None) -> Any:
    """A value of the class the census saw, shaped to fail only the type check it would
    fail (0 tokens exceed nothing; an enum's stand-in is one of its members)."""
    if kind == "e":
        return ""
    if expected is None:
        return {"b": True, "i": 0, "d": 0.5, "a": []}.get(kind, "x")
    if expected in _INTS:
        return {"b": True, "i": 0, "d": 0.5}.get(kind, "x")
    if expected == "double":
        return {"b": True, "i": 0.0, "d": 0.0}.get(kind, "x")
    if expected == "boolean":
        return True if kind == "b" else "x"
    if expected.endswith("[]"):
        return [] if kind == "a" else "x"
    if rule is not None and rule.members:
        return sorted(rule.members, key=str)[0]
    return "x"
