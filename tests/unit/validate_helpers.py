"""Build spans by hand and validate them: the smallest real inputs for each check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.genai.semconv.findings import Finding, ValidationReport
from otelcli.genai.semconv.policy import Policy
from otelcli.genai.semconv.rules import RuleTable, load_rules
from otelcli.genai.semconv.validate import Options, Validator
from otelcli.otlp.values import make_attributes

CLIENT, SERVER, INTERNAL = 3, 2, 1
UNSET, OK, ERROR = 0, 1, 2
T0 = 1_700_000_000_000_000_000

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 100,
    "gen_ai.usage.output_tokens": 20,
}


@dataclass
class SpanSpec:
    attributes: Mapping[str, Any]
    name: str = "chat gpt-4o"
    kind: int = CLIENT
    status: int = UNSET
    trace: int = 1
    span: int = 1
    parent: int | None = None
    start: int = T0
    end: int = T0 + 1000
    scope: str = "tests"


def request(specs: Iterable[SpanSpec]) -> ExportTraceServiceRequest:
    batch = ExportTraceServiceRequest()
    resource_spans = batch.resource_spans.add()
    resource_spans.resource.attributes.extend(make_attributes({"service.name": "svc"}))
    by_scope: dict[str, Any] = {}
    for spec in specs:
        scope_spans = by_scope.get(spec.scope)
        if scope_spans is None:
            scope_spans = by_scope[spec.scope] = resource_spans.scope_spans.add()
            scope_spans.scope.name = spec.scope
        span = scope_spans.spans.add(
            trace_id=spec.trace.to_bytes(16, "big"),
            span_id=spec.span.to_bytes(8, "big"),
            parent_span_id=spec.parent.to_bytes(8, "big") if spec.parent else b"",
            name=spec.name,
            kind=spec.kind,
            start_time_unix_nano=spec.start,
            end_time_unix_nano=spec.end,
        )
        span.attributes.extend(make_attributes(spec.attributes))
        span.status.code = spec.status
    return batch


@dataclass
class Result:
    report: ValidationReport
    rules: RuleTable
    findings: list[Finding] = field(default_factory=list)

    def rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    def keys(self, rule: str) -> set[str | None]:
        return {f.attribute for f in self.rule(rule)}

    def count(self, rule: str) -> int:
        return sum(s.count for s in self.report.summaries() if s.rule == rule)


def check(
    *specs: SpanSpec,
    table: str = "gen-ai-dev-1.42",
    policy: Policy | None = None,
    options: Options | None = None,
    max_findings: int = 10_000,
) -> Result:
    rules = load_rules(table)
    policy = policy or Policy()
    report = ValidationReport(level_for=policy.level_for, max_findings=max_findings)
    options = options or Options(require=policy.require)
    Validator(rules, report, options).check_batches([request(specs)])
    return Result(report, rules, list(report.findings))
