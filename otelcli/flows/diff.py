"""`otelcli diff A B`: what changed between two captures of the same scenario.

The question after upgrading an instrumentation library: which spans appeared or went (by
name and type), which attribute keys each span type gained, lost or now sends with another
value type, and what that did to tokens and cost. Each capture is read once; its spans feed
the shape and the cost at the same time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.genai.pricing.cost import CostCalculator, CostTotals
from otelcli.genai.pricing.table import load_table
from otelcli.otlp.reader import read_batches

# a span's type: its GenAI operation, else the dialect's own kind key, else the span kind
TYPE_KEYS = ("gen_ai.operation.name", "openinference.span.kind", "traceloop.span.kind")
_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_VALUE_TYPES = {
    "string_value": "string",
    "int_value": "int",
    "double_value": "double",
    "bool_value": "bool",
    "array_value": "array",
    "kvlist_value": "map",
    "bytes_value": "bytes",
}


@dataclass(frozen=True)
class DiffRequest:
    a: Sequence[str]
    b: Sequence[str]
    pricing: str | None = None
    fallback: bool = True


@dataclass
class Shape:
    """What one capture holds: spans per (name, type), attribute key -> value types per type."""

    spans: int = 0
    names: Counter[tuple[str, str]] = field(default_factory=Counter)
    keys: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    cost: CostTotals = field(default_factory=CostTotals)

    def add(self, batch: Any) -> None:
        for resource_spans in batch.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self._add_span(span)

    def _add_span(self, span: Any) -> None:
        self.spans += 1
        found: dict[str, str] = {}
        span_type = None
        for kv in span.attributes:
            kind = kv.value.WhichOneof("value")
            found[kv.key] = _VALUE_TYPES.get(kind or "", "empty")
            if span_type is None and kv.key in TYPE_KEYS and kind == "string_value":
                span_type = kv.value.string_value.lower()
        if span_type is None:
            span_type = _KINDS[span.kind] if 0 <= span.kind < len(_KINDS) else str(span.kind)
        self.names[(span.name, span_type)] += 1
        keys = self.keys.setdefault(span_type, {})
        for key, value_type in found.items():
            keys.setdefault(key, Counter())[value_type] += 1


@dataclass
class DiffResult:
    a: Shape
    b: Shape
    inputs: tuple[list[str], list[str]]
    error: OtelcliError | None = None

    def spans_changed(self) -> list[dict[str, Any]]:
        """(name, type) pairs whose count changed, added and removed ones included."""
        rows = []
        for name, span_type in sorted(set(self.a.names) | set(self.b.names)):
            before, after = self.a.names[(name, span_type)], self.b.names[(name, span_type)]
            if before == after:
                continue
            change = "added" if not before else "removed" if not after else "count"
            rows.append(
                {"change": change, "name": name, "type": span_type, "a": before, "b": after}
            )
        return rows

    def keys_changed(self) -> list[dict[str, Any]]:
        """Attribute keys added, removed or sent with another value type, per span type."""
        rows = []
        for span_type in sorted(set(self.a.keys) & set(self.b.keys)):
            before, after = self.a.keys[span_type], self.b.keys[span_type]
            for key in sorted(set(before) | set(after)):
                old, new = _types(before.get(key)), _types(after.get(key))
                if old == new:
                    continue
                change = "added" if not old else "removed" if not new else "retyped"
                rows.append({"change": change, "type": span_type, "key": key, "a": old, "b": new})
        return rows

    def totals(self) -> dict[str, Any]:
        def usd(totals: CostTotals) -> Decimal | None:
            return totals.total_usd if totals.priced_spans else None

        a, b = self.a.cost, self.b.cost
        out: dict[str, Any] = {"spans": {"a": self.a.spans, "b": self.b.spans}}
        for name, attr in (
            ("llm_calls", "spans"),
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cache_read_tokens", "cache_read_tokens"),
            ("cache_write_tokens", "cache_write_tokens"),
        ):
            out[name] = {"a": getattr(a, attr), "b": getattr(b, attr)}
        cost_a, cost_b = usd(a), usd(b)
        out["cost_usd"] = {
            "a": _num(cost_a),
            "b": _num(cost_b),
            "delta": _num(cost_b - cost_a) if cost_a is not None and cost_b is not None else None,
        }
        for name, value in out.items():
            if name != "cost_usd":
                value["delta"] = value["b"] - value["a"]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.inputs[0],
            "b": self.inputs[1],
            "totals": self.totals(),
            "spans": self.spans_changed(),
            "attributes": self.keys_changed(),
            "types_only_in_a": sorted(set(self.a.keys) - set(self.b.keys)),
            "types_only_in_b": sorted(set(self.b.keys) - set(self.a.keys)),
        }


def _types(counts: Counter[str] | None) -> list[str]:
    return sorted(counts) if counts else []


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def run(request: DiffRequest) -> DiffResult:
    table = load_table(request.pricing, use_fallback=request.fallback)
    shapes = []
    for inputs in (request.a, request.b):
        shape = Shape()
        calculator = CostCalculator(table)
        for batch in read_batches(inputs):
            shape.add(batch)
            calculator.add_batch(batch)
        shape.cost = calculator.report.total
        shapes.append(shape)
    return DiffResult(shapes[0], shapes[1], (list(request.a), list(request.b)))
