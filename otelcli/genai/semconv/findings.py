"""What validate reports: the rule catalogue, findings, and the aggregate of a run.

Findings are counted without being built one by one: a span's raw findings are tuples
(rule, attribute, detail, hint) and the report counts identical sets of them per span type,
so a 200,000-span capture costs one dict update per span. Only the findings a report shows
(the first `max_findings`, `examples` per rule) become Finding objects.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
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

    @property
    def description(self) -> str:
        """The message as a template for any span: "<attribute> is missing on <span type>"."""
        return self.message.format(attribute="<attribute>", span_type="<span type>")


def _load_rules() -> tuple[Rule, ...]:
    """The rule catalogue (otelcli/data/findings.json): one definition per rule, as data."""
    text = resources.files("otelcli.data").joinpath("findings.json").read_text("utf-8")
    return tuple(Rule(**raw) for raw in json.loads(text)["rules"])


_RULES = _load_rules()
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
    spans: int = 0  # spans with at least one such finding
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
    llm_calls: int = 0  # each call once (the call identity cost and tail use)
    # requirements whose condition a span could not tell, by attribute (not findings)
    not_evaluated: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    _signatures: dict[tuple[str | None, tuple[Raw, ...]], _Signature] = field(default_factory=dict)
    _summaries: dict[tuple[str, str], RuleSummary] | None = None
    _example_counts: Counter[str] = field(default_factory=Counter)
    _examples: list[Finding] = field(default_factory=list)

    _MAX_SIGNATURES = 100_000  # distinct finding sets kept before details are dropped

    def add(self, raws: Iterable[Raw], span: SpanRef, count: int = 1) -> None:
        """Record one span's raw findings (`count` spans alike: a store's census)."""
        raws = tuple(raws)
        if not raws or count < 1:
            return
        key = (span.span_type, raws)
        signature = self._signatures.get(key)
        if signature is None:
            if len(self._signatures) >= self._MAX_SIGNATURES:
                # Unbounded variety (values in details): count by rule and attribute only.
                for raw in raws:
                    self._add_one((raw[0], raw[1], None, None), raw, span, count)
                return
            signature = self._signatures[key] = self._signature(raws)
        signature.count += count
        if self.sink is not None or not signature.saturated:
            self._materialize(signature, span)

    def _add_one(self, stripped: Raw, raw: Raw, span: SpanRef, count: int = 1) -> None:
        key = (span.span_type, (stripped,))
        signature = self._signatures.get(key)
        if signature is None:
            signature = self._signatures[key] = self._signature((stripped,))
        signature.count += count
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
                seen: set[tuple[str, str]] = set()
                for raw, level in signature.findings:
                    summary = out.get((raw[0], level))
                    if summary is None:
                        summary = out[(raw[0], level)] = RuleSummary(raw[0], level)
                    summary.count += signature.count
                    if (raw[0], level) not in seen:  # a span counts once per rule
                        seen.add((raw[0], level))
                        summary.spans += signature.count
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
