"""What validate reports: the rule catalogue, findings, and the aggregate of a run.

Findings are counted without being built one by one: a span's raw findings are tuples
(rule, attribute, detail, hint) and the report counts identical sets of them per span type,
so a 200,000-span capture costs one dict update per span. Only the findings a report shows
(the first `max_findings`, `examples` per rule) become Finding objects.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("information", "improvement", "violation")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}

# (rule id, attribute or None, detail or None, hint or None)
Raw = tuple[str, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: str  # default level
    category: str  # attribute, span, content, sanity, dialect, policy
    message: str  # "{attribute}" / "{span_type}" are filled in; a detail is appended after ": "
    hint: str | None = None
    weaver: str | None = None  # the matching Weaver live-check finding id, if any


_RULES = (
    Rule("unknown_attribute", "violation", "attribute",
         "{attribute} is not defined in the registry",
         "check the spelling; custom attributes belong outside the registry's namespaces",
         "missing_attribute"),
    Rule("deprecated_attribute", "violation", "attribute", "{attribute} is deprecated",
         None, "deprecated"),
    Rule("type_mismatch", "violation", "attribute", "{attribute} has the wrong type",
         "send the type the registry defines (an int is accepted where a double is expected)",
         "type_mismatch"),
    Rule("undefined_enum_value", "information", "attribute",
         "{attribute} has a value the registry does not list",
         "use a well-known value when one applies (custom values are allowed)",
         "undefined_enum_variant"),
    Rule("template_attribute", "information", "attribute", "{attribute} is a template attribute",
         None, "template_attribute"),
    Rule("not_stable", "information", "attribute",
         "{attribute} is not stable (reported once per key)",
         "development attributes may still change between releases", "not_stable"),
    Rule("invalid_name", "violation", "attribute",
         "attribute key {attribute} does not follow the naming rules",
         "use lower-case letters and digits in dot-separated namespaces, words joined by '_'",
         "invalid_format"),
    Rule("missing_namespace", "improvement", "attribute",
         "attribute key {attribute} has no namespace",
         "prefix the key with a namespace, e.g. 'myapp.{attribute}'", "missing_namespace"),
    Rule("illegal_namespace", "violation", "attribute",
         "attribute key {attribute} uses a registry attribute as its namespace",
         "choose a key that does not extend an existing attribute", "illegal_namespace"),
    Rule("extends_namespace", "information", "attribute",
         "attribute key {attribute} adds a key to a registry namespace",
         None, "extends_namespace"),
    Rule("dialect", "improvement", "dialect",
         "span uses an instrumentation dialect instead of the GenAI semantic conventions",
         "`otelcli normalize` maps dialect keys to semconv"),
    Rule("operation_missing", "violation", "span",
         "span has gen_ai.* attributes but no gen_ai.operation.name",
         "set gen_ai.operation.name (chat, embeddings, execute_tool, invoke_agent, ...)"),
    Rule("unknown_operation", "improvement", "span",
         "gen_ai.operation.name is not a registry operation, so the span type is unknown",
         "use a registry operation name when one applies"),
    Rule("required_attribute_missing", "violation", "span",
         "required attribute {attribute} is missing on {span_type}", None),
    Rule("conditionally_required_attribute_missing", "information", "span",
         "conditionally required attribute {attribute} is missing on {span_type}", None),
    Rule("recommended_attribute_missing", "improvement", "span",
         "recommended attribute {attribute} is missing on {span_type}", None),
    Rule("opt_in_attribute_missing", "information", "span",
         "opt-in attribute {attribute} is missing on {span_type}", None),
    Rule("policy_required_attribute_missing", "violation", "policy",
         "attribute {attribute} required by the policy is missing on {span_type}", None),
    Rule("span_kind", "improvement", "span", "span kind does not match the span type",
         "GenAI client calls are CLIENT spans; in-process agents and tools are INTERNAL"),
    Rule("span_name", "improvement", "span", "span name does not follow the span type's format",
         None),
    Rule("error_type_missing", "violation", "span",
         "span status is ERROR but error.type is not set",
         "set error.type to the error code or exception type name", None),
    Rule("error_type_without_error_status", "improvement", "span",
         "error.type is set but the span status is not ERROR",
         "set the span status to ERROR when the operation failed"),
    Rule("status_ok_set", "improvement", "span", "span status is OK",
         "instrumentation should leave the status UNSET on success (OK is for applications)"),
    Rule("content_schema", "violation", "content",
         "{attribute} does not match its JSON schema", None),
    Rule("content_not_checked", "information", "content",
         "{attribute} content was not checked (reported once per key)",
         "pip install fastjsonschema to check content attributes against their JSON schemas"),
    Rule("invalid_token_count", "violation", "sanity",
         "{attribute} is not a token count (negative, or above 10^12)",
         "cost skips a span whose count is above 10^12 tokens"),
    Rule("cache_exceeds_input", "violation", "sanity",
         "cache tokens exceed gen_ai.usage.input_tokens",
         "input_tokens includes cached tokens (Anthropic reports them apart: add them)"),
    Rule("reasoning_exceeds_output", "violation", "sanity",
         "gen_ai.usage.reasoning.output_tokens exceeds gen_ai.usage.output_tokens",
         "output_tokens includes reasoning tokens"),
    Rule("end_before_start", "violation", "sanity", "span ends before it starts", None),
    Rule("invalid_status_code", "violation", "sanity",
         "span status code is not UNSET (0), OK (1) or ERROR (2)",
         "set the status through the SDK's span.set_status, which only takes these codes"),
    Rule("orphan_span", "improvement", "sanity", "span's parent is not in the capture",
         "the parent may not have been exported or flushed before the capture ended"),
    Rule("duplicate_span_id", "violation", "sanity", "span id appears more than once in its trace",
         "span ids must be unique within a trace"),
    # events (log records) and metrics: otelcli/genai/semconv/events.py and metrics.py
    Rule("deprecated_event", "violation", "event", "event {attribute} is deprecated", None,
         "deprecated"),
    Rule("unknown_event", "violation", "event", "event {attribute} is not defined in the registry",
         "check the event name against the GenAI conventions", "missing_event"),
    Rule("event_without_span", "improvement", "event",
         "event {attribute} names a span that is not in the capture",
         "emit the event inside its span's context, and export both signals"),
    Rule("event_without_trace_context", "improvement", "event",
         "event {attribute} has no trace and span id, so it cannot be joined to its span",
         "emit GenAI events while their operation's span is current"),
    Rule("unknown_metric", "violation", "metric",
         "metric {attribute} is not defined in the registry",
         "check the metric name against the GenAI conventions", "missing_metric"),
    Rule("metric_instrument", "violation", "metric", "metric {attribute} has the wrong instrument",
         "GenAI metrics are histograms", "unexpected_instrument"),
    Rule("metric_unit", "violation", "metric", "metric {attribute} has the wrong unit",
         "use the unit the conventions define (UCUM, e.g. {{token}} or s)", "unit_mismatch"),
    Rule("metric_buckets", "information", "metric",
         "metric {attribute} does not use the recommended bucket boundaries",
         "set the conventions' ExplicitBucketBoundaries advice (an SDK View can)"),
    Rule("usage_metric_mismatch", "improvement", "metric",
         "span token usage and {attribute} disagree",
         "the same calls should be counted the same in spans and in the token-usage metric"),
)  # fmt: skip
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


@dataclass(frozen=True, slots=True)
class SpanRef:
    trace_id: bytes
    span_id: bytes
    name: str
    span_type: str | None
    signal: str = "traces"  # logs for an event, metrics for a data point


@dataclass(frozen=True, slots=True)
class Finding:
    level: str
    rule: str
    attribute: str | None
    trace_id: str
    span_id: str
    span_name: str
    span_type: str | None
    message: str
    hint: str | None
    signal: str = "traces"

    @property
    def id(self) -> str:
        """Stable across runs over the same data: rule, span and attribute, hashed."""
        text = "\x1f".join(
            (self.rule, self.trace_id, self.span_id, self.attribute or "", self.message)
        )
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "rule": self.rule,
            "attribute": self.attribute,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "span_name": self.span_name,
            "span_type": self.span_type,
            "message": self.message,
            "hint": self.hint,
            "signal": self.signal,
        }


def make_finding(raw: Raw, level: str, span: SpanRef) -> Finding:
    rule_id, attribute, detail, hint = raw
    rule = RULES[rule_id]
    message = rule.message.format(attribute=attribute or "", span_type=span.span_type or "")
    if detail:
        message = f"{message}: {detail}"
    return Finding(
        level=level,
        rule=rule_id,
        attribute=attribute,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        span_name=span.name,
        span_type=span.span_type,
        message=message,
        hint=hint
        if hint is not None
        else rule.hint and rule.hint.format(attribute=attribute or ""),
        signal=span.signal,
    )


@dataclass
class RuleSummary:
    rule: str
    level: str
    count: int = 0
    attributes: Counter[str] = field(default_factory=Counter)
    span_types: Counter[str] = field(default_factory=Counter)
    examples: list[Finding] = field(default_factory=list)


@dataclass
class _Signature:
    """One distinct set of findings on one span type, with how often it occurred."""

    findings: tuple[tuple[Raw, str], ...]  # (raw, level) after the policy
    count: int = 0
    saturated: bool = False  # every rule here already has its examples


LevelFor = Callable[[str, str, str | None], str | None]


@dataclass
class ValidationReport:
    """Counts of everything, plus the findings a report shows (bounded)."""

    level_for: LevelFor
    max_findings: int = 1000
    examples: int = 3
    sink: Callable[[Finding], None] | None = None  # receives every finding (streaming output)
    spans: int = 0
    genai_spans: int = 0
    traces: int = 0
    span_types: Counter[str] = field(default_factory=Counter)
    dialects: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    _signatures: dict[tuple[str | None, tuple[Raw, ...]], _Signature] = field(default_factory=dict)
    _summaries: dict[tuple[str, str], RuleSummary] | None = None
    _example_counts: Counter[str] = field(default_factory=Counter)
    _examples: list[Finding] = field(default_factory=list)

    _MAX_SIGNATURES = 100_000  # distinct finding sets kept before details are dropped

    def add(self, raws: Iterable[Raw], span: SpanRef) -> None:
        """Record one span's raw findings."""
        raws = tuple(raws)
        if not raws:
            return
        key = (span.span_type, raws)
        signature = self._signatures.get(key)
        if signature is None:
            if len(self._signatures) >= self._MAX_SIGNATURES:
                # Unbounded variety (values in details): count by rule and attribute only.
                for raw in raws:
                    self._add_one((raw[0], raw[1], None, None), raw, span)
                return
            signature = self._signatures[key] = self._signature(raws)
        signature.count += 1
        if self.sink is not None or not signature.saturated:
            self._materialize(signature, span)

    def _add_one(self, stripped: Raw, raw: Raw, span: SpanRef) -> None:
        key = (span.span_type, (stripped,))
        signature = self._signatures.get(key)
        if signature is None:
            signature = self._signatures[key] = self._signature((stripped,))
        signature.count += 1
        if self.sink is not None or not signature.saturated:
            self._materialize(self._signature((raw,)), span)
            signature.saturated = self._saturated(signature)

    def _signature(self, raws: tuple[Raw, ...]) -> _Signature:
        resolved = []
        for raw in raws:
            level = self.level_for(raw[0], RULES[raw[0]].level, raw[1])
            if level is not None:
                resolved.append((raw, level))
        return _Signature(tuple(resolved))

    def _materialize(self, signature: _Signature, span: SpanRef) -> None:
        for raw, level in signature.findings:
            rule = raw[0]
            room = len(self.findings) < self.max_findings
            wants_example = self._example_counts[rule] < self.examples
            if not (room or wants_example or self.sink):
                continue
            finding = make_finding(raw, level, span)
            if self.sink is not None:
                self.sink(finding)
            if room:
                self.findings.append(finding)
            if wants_example:
                self._example_counts[rule] += 1
                self._examples.append(finding)
        signature.saturated = self._saturated(signature)

    def _saturated(self, signature: _Signature) -> bool:
        return len(self.findings) >= self.max_findings and all(
            self._example_counts[raw[0]] >= self.examples for raw, _ in signature.findings
        )

    # -- results ---------------------------------------------------------------------------

    def summaries(self) -> list[RuleSummary]:
        """Per rule and level: counts, attributes, span types, examples; worst first."""
        if self._summaries is None:
            out: dict[tuple[str, str], RuleSummary] = {}
            for (span_type, _), signature in self._signatures.items():
                for raw, level in signature.findings:
                    summary = out.get((raw[0], level))
                    if summary is None:
                        summary = out[(raw[0], level)] = RuleSummary(raw[0], level)
                    summary.count += signature.count
                    if raw[1]:
                        summary.attributes[raw[1]] += signature.count
                    summary.span_types[span_type or "-"] += signature.count
            for finding in self._examples:
                summary = out.get((finding.rule, finding.level))
                if summary is not None and len(summary.examples) < self.examples:
                    summary.examples.append(finding)
            self._summaries = out
        return sorted(
            self._summaries.values(), key=lambda s: (-LEVEL_RANK[s.level], -s.count, s.rule)
        )

    @property
    def total(self) -> int:
        return sum(s.count for s in self.summaries())

    def level_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(reversed(LEVELS), 0)
        for summary in self.summaries():
            counts[summary.level] += summary.count
        return counts

    def highest_level(self) -> str | None:
        counts = self.level_counts()
        return next((level for level in reversed(LEVELS) if counts[level]), None)

    def fails(self, fail_on: str) -> bool:
        if fail_on == "none":
            return False
        highest = self.highest_level()
        return highest is not None and LEVEL_RANK[highest] >= LEVEL_RANK[fail_on]
