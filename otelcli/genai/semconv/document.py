"""The JSON document of a validation run (schema `otelcli.validate/v1`, docs/validate-json.md).

Every report format (render/reports.py) renders this one document, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from otelcli import __version__
from otelcli.genai.semconv.findings import RULES, ValidationReport
from otelcli.genai.semconv.rules import RuleTable

SCHEMA_ID = "otelcli.validate/v1"
_TOP_ATTRIBUTES = 20


def report_document(
    report: ValidationReport,
    rules: RuleTable,
    *,
    inputs: Sequence[str],
    fail_on: str,
    policy: str | None = None,
    command: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report (schema `otelcli.validate/v1`)."""
    summaries = report.summaries()
    failed = report.fails(fail_on) or bool(command and command.get("exit_code"))
    document: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "tool": {"name": "otelcli", "version": __version__},
        "semconv": {"id": rules.id, "title": rules.title, "schema_url": rules.schema_url},
        "inputs": list(inputs),
        "policy": policy,
        "fail_on": fail_on,
        "passed": not failed,
        "summary": {
            "spans": report.spans,
            "genai_spans": report.genai_spans,
            "traces": report.traces,
            "llm_calls": report.llm_calls,
            "findings": sum(s.count for s in summaries),
            "by_level": report.level_counts(),
            "span_types": dict(report.span_types.most_common()),
            "dialects": dict(report.dialects.most_common()),
            "not_evaluated": sum(report.not_evaluated.values()),
        },
        "rules": [
            {
                "rule": s.rule,
                "level": s.level,
                "category": RULES[s.rule].category,
                "count": s.count,
                "spans": s.spans,
                "description": RULES[s.rule].description,
                "hint": RULES[s.rule].hint,
                "weaver_id": RULES[s.rule].weaver,
                "attributes": dict(s.attributes.most_common(_TOP_ATTRIBUTES)),
                "span_types": dict(s.span_types.most_common()),
                "examples": [f.to_dict() for f in s.examples],
            }
            for s in summaries
        ],
        "findings": [f.to_dict() for f in report.findings],
        "findings_truncated": max(0, sum(s.count for s in summaries) - len(report.findings)),
    }
    if command is not None:
        document["command"] = dict(command)
    return document
