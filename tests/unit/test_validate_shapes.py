"""validate checks a span by its key sequence and caches what depends on keys, value types and
a few values: spans alike in keys still get findings of their own values, and the report is the
one the per-span path (every value converted, nothing cached) gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otelcli.flows import validate as flow
from otelcli.genai.semconv import validate
from tests.unit.validate_helpers import CHAT, ERROR, SpanSpec, check

REPO = Path(__file__).resolve().parents[2]
RUNS = sorted((REPO / "tests" / "data" / "corpus" / "runs").glob("*/traces.jsonl"))


def test_spans_alike_in_keys_get_findings_of_their_own_values() -> None:
    values: list[dict[str, Any]] = [
        {**CHAT, "gen_ai.request.max_tokens": 1},
        {**CHAT, "gen_ai.request.max_tokens": True},  # equal to 1 as a dict key, not an int
        {**CHAT, "gen_ai.request.max_tokens": 1.0},
        {**CHAT, "gen_ai.request.max_tokens": 1, "gen_ai.operation.name": "chatting"},
        {**CHAT, "gen_ai.request.max_tokens": 1, "gen_ai.usage.input_tokens": -5},
        {**CHAT, "gen_ai.request.max_tokens": [1, 2]},
        {**CHAT, "gen_ai.request.max_tokens": 1},
    ]
    specs = [SpanSpec(v, span=i + 1, trace=i + 1) for i, v in enumerate(values)]
    specs.append(SpanSpec(values[0], span=99, trace=99, status=ERROR))
    result = check(*specs)

    def on(span: int) -> list[tuple[str, str | None, str]]:
        wanted = int(span).to_bytes(8, "big").hex()
        return [(f.rule, f.attribute, f.message) for f in result.findings if f.span_id == wanted]

    def has(span: int, rule: str, attribute: str, text: str = "") -> bool:
        return any(r == rule and a == attribute and text in m for r, a, m in on(span))

    tokens = "gen_ai.request.max_tokens"
    assert not has(1, "type_mismatch", tokens)
    assert has(2, "type_mismatch", tokens, "boolean, expected int")
    assert has(3, "type_mismatch", tokens, "double, expected int")
    assert has(4, "unknown_operation", "gen_ai.operation.name", "chatting")
    assert has(5, "invalid_token_count", "gen_ai.usage.input_tokens", "-5")
    assert has(6, "type_mismatch", tokens, "int[], expected int")
    assert on(7) == [f for f in on(1) if f[0] != "not_stable"]  # that one: once per key
    assert has(99, "error_type_missing", "error.type")
    assert not has(1, "error_type_missing", "error.type")


def _document(path: Path, **options: Any) -> str:
    result = flow.run(flow.ValidateRequest(inputs=[str(path)], **options))
    return json.dumps(result.document, sort_keys=True, default=str)


@pytest.mark.parametrize("options", [{}, {"explain": True}, {"semconv": "v1.41.1"}])
def test_checked_by_key_sequence_as_when_every_span_is_converted(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RUNS
    planned = [_document(path, **options) for path in RUNS]
    monkeypatch.setattr(validate, "_MAX_SHAPES", 0)  # no plan, no cache: every span converted
    converted = [_document(path, **options) for path in RUNS]
    for path, one, other in zip(RUNS, planned, converted, strict=True):
        assert one == other, path.parent.name
