"""A one-line GenAI summary of a span: operation, model, tokens, cost, tool, finish, error.

Attributes are read through the dialect table, so OpenInference, OpenLLMetry, Vercel and the
others summarise the same way as semconv spans. Cost comes from the pricing table through
CostCalculator, which also decides whether a span's usage counts towards totals (an agent
root repeating its children's usage does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from otelcli.genai.dialects.normalize import MAX_TOKEN_COUNT, DialectTable, load_dialects, to_number

if TYPE_CHECKING:
    from otelcli.genai.pricing.calls import CallFacts
    from otelcli.genai.pricing.cost import CostCalculator
    from otelcli.genai.pricing.table import PriceTable
    from otelcli.otlp.spans import SpanView


@dataclass(frozen=True, slots=True)
class GenAISummary:
    operation: str | None
    span_type: str  # llm, embedding, tool, agent, ... (from the dialect table)
    model: str | None
    provider: str | None
    input_tokens: int | None  # semconv: includes cached input
    output_tokens: int | None
    cached_tokens: int | None
    tool_name: str | None
    finish_reasons: tuple[str, ...]
    error_type: str | None
    cost_usd: Decimal | None  # None: not priced (no usage, or unknown model)
    counted: bool  # usage counts towards trace totals (False for aggregates and no usage)
    call: CallFacts | None = None  # what identifies its LLM call (one call, two spans: once)

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "type": self.span_type,
            "model": self.model,
            "provider": self.provider,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "tool": self.tool_name,
            "finish_reasons": list(self.finish_reasons),
            "error_type": self.error_type,
            "cost_usd": None if self.cost_usd is None else format(self.cost_usd.normalize(), "f"),
        }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _count(value: Any) -> int | None:
    """The reported count as an int; None when absent, no number or no finite count."""
    number = to_number(value)
    if number is None or not -MAX_TOKEN_COUNT <= number <= MAX_TOKEN_COUNT:  # NaN fails too
        return None
    return int(number)


def _reasons(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if v not in (None, ""))
    return ()


class Summarizer:
    """Summarises spans; `table=None` leaves cost out (no pricing)."""

    def __init__(self, table: PriceTable | None = None, dialects: DialectTable | None = None):
        from otelcli.genai.pricing.cost import CostCalculator
        from otelcli.genai.pricing.table import load_builtin_table

        self.dialects = dialects or load_dialects()
        self._prices = table is not None
        # Without pricing the calculator still reads usage the way cost does (which spans
        # count, call identity); its dollars are not shown. Identity is applied per trace
        # (trace_totals), as spans of one trace arrive in any order.
        self._calculator: CostCalculator = CostCalculator(
            table if table is not None else load_builtin_table(),
            dialects=self.dialects,
            identity=False,
        )

    @property
    def prices(self) -> bool:
        return self._prices

    def summarize(self, view: SpanView) -> GenAISummary | None:
        """The span's GenAI summary, or None when it is not a GenAI span."""
        normalized = self.dialects.normalize(
            view.attributes, scope_name=view.scope_name, span_name=view.name
        )
        attributes = normalized.attributes
        if normalized.operation is None and not any(k.startswith("gen_ai.") for k in attributes):
            return None
        model = _text(attributes.get("gen_ai.response.model")) or _text(
            attributes.get("gen_ai.request.model")
        )
        input_tokens = _count(attributes.get("gen_ai.usage.input_tokens"))
        output_tokens = _count(attributes.get("gen_ai.usage.output_tokens"))
        cached = _count(attributes.get("gen_ai.usage.cache_read.input_tokens"))
        cost: Decimal | None = None
        counted = False
        call = None
        breakdown = self._calculator.add_span(view)
        if breakdown is not None:
            counted = True
            call = breakdown.call
            cost = breakdown.total_usd if self._prices else None
            # The calculator's reading is inclusive (cache in input), as semconv says.
            input_tokens = breakdown.usage.input_tokens
            output_tokens = breakdown.usage.output_tokens
        return GenAISummary(
            operation=normalized.operation,
            span_type=normalized.span_type,
            model=model,
            provider=_text(attributes.get("gen_ai.provider.name")),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_tokens=cached,
            tool_name=_text(attributes.get("gen_ai.tool.name")),
            finish_reasons=_reasons(attributes.get("gen_ai.response.finish_reasons")),
            error_type=_text(attributes.get("error.type")),
            cost_usd=cost,
            counted=counted,
            call=call,
        )


def default_summarizer(pricing_file: str | None = None, with_cost: bool = True) -> Summarizer:
    """A summarizer over the packaged price table (plus a user's pricing file)."""
    if not with_cost:
        return Summarizer(None)
    from otelcli.genai.pricing.table import load_table

    return Summarizer(load_table(pricing_file))
