"""`otelcli cost`: price captures, one call (quick mode), or list the pricing table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError, OtelcliError
from otelcli.flows.jobs import fewer_collections, map_ordered
from otelcli.genai.pricing.cost import (
    CostBreakdown,
    CostCalculator,
    CostReport,
    enrich_batches,
    price_call,
)
from otelcli.genai.pricing.metrics import MetricCost, price_usage_metric
from otelcli.genai.pricing.table import PriceTable, iter_rates, load_table
from otelcli.genai.usage_metric import UsageMetricTally
from otelcli.otlp.reader import RawBatch, as_batch, capture_readers
from otelcli.otlp.signals import Unused


@dataclass(frozen=True)
class PricingSource:
    pricing: str | None = None  # a pricing file over the built-in table
    fallback: bool = True  # ask genai-prices about models the table lacks

    def table(self) -> PriceTable:
        return load_table(self.pricing, use_fallback=self.fallback)


# -- one call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickRequest:
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    provider: str | None = None
    at: datetime | None = None
    input_includes_cache: bool | None = None
    source: PricingSource = PricingSource()


@dataclass
class QuickResult:
    breakdown: CostBreakdown
    error: OtelcliError | None = None

    @property
    def unknown(self) -> bool:
        return bool(self.breakdown.unknown)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = self.breakdown.to_dict()
        if self.error is not None:
            result["error"] = self.error.to_dict()
        return result


def price_one(request: QuickRequest) -> QuickResult:
    breakdown = price_call(
        request.source.table(),
        request.model,
        request.input_tokens,
        request.output_tokens,
        cached_tokens=request.cached_tokens,
        cache_write_tokens=request.cache_write_tokens,
        reasoning_tokens=request.reasoning_tokens,
        provider=request.provider,
        at=request.at,
        input_includes_cache=request.input_includes_cache,
    )
    error = None
    if breakdown.unknown:
        error = InvalidInputError(
            f"no price known for {request.model!r}",
            hint=f"otelcli cost prices '*{request.model.split('/')[-1][:8]}*' lists close ids; "
            "or add it with --pricing FILE",
        )
    return QuickResult(breakdown, error)


# -- captures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRequest:
    inputs: Sequence[str]
    by: Sequence[str] = ()
    top: int | None = None
    input_includes_cache: bool | None = None
    enrich_to: str | None = None  # write the priced spans (gen_ai.usage.cost) here
    source: PricingSource = PricingSource()
    jobs: int = 1  # processes that measure batches (not with enrich_to: it rewrites them)


@dataclass
class CostResult:
    report: CostReport
    top: int | None = None
    enriched: str | None = None
    error: OtelcliError | None = None
    unused: Unused = field(default_factory=Unused)  # batches of signals cost does not price
    from_metrics: MetricCost | None = None  # the token-usage metric, priced

    def to_dict(self) -> dict[str, Any]:
        result = self.report.to_dict(self.top)
        if self.enriched is not None:
            result["enriched"] = self.enriched
        if self.from_metrics is not None:
            result["from_metrics"] = self.from_metrics.to_dict()
        if self.unused:
            result["not_used"] = self.unused.to_dict()
        return result


def price_captures(request: CostRequest) -> CostResult:
    table = request.source.table()
    calculator = CostCalculator(
        table,
        by=list(request.by),
        input_includes_cache=request.input_includes_cache,
    )
    unused = Unused()
    usage = UsageMetricTally()
    span_traces: set[bytes] = set()

    def traces() -> Iterator[ExportTraceServiceRequest | RawBatch]:
        # Spans to the calculator (protobuf ones unparsed under --jobs); the token-usage
        # metric to its tally; the rest counted.
        for reader in capture_readers(request.inputs, unused=unused):
            for batch in reader.slices() if request.jobs > 1 else reader:
                if isinstance(batch, (ExportTraceServiceRequest, RawBatch)):
                    yield batch
                elif isinstance(batch, ExportMetricsServiceRequest):
                    before = usage.points
                    usage.add_batch(batch)
                    if usage.points == before:
                        unused.add(batch)
                else:
                    unused.add(batch)

    error = None
    if request.enrich_to is not None:
        spans = (_noting_traces(as_batch(item), span_traces) for item in traces())
        from otelcli.transport.delivery import Outgoing  # the sink only when writing spans
        from otelcli.transport.sink import SinkTarget, drain

        priced = (Outgoing.of(batch) for batch in enrich_batches(spans, calculator))
        error = drain(priced, SinkTarget(output=request.enrich_to)).error
    elif request.jobs > 1:
        with fewer_collections():
            parts = map_ordered(traces(), lambda item: _measured(calculator, item), request.jobs)
            for part, trace_ids in parts:
                calculator.merge(part)
                span_traces.update(trace_ids)
    else:
        with fewer_collections():
            for item in traces():
                calculator.add_batch(_noting_traces(as_batch(item), span_traces))
    from_metrics = None
    if usage:
        from_metrics = price_usage_metric(usage, table, span_traces, bool(span_traces))
        calculator.report.total.add(from_metrics.added())
    return CostResult(
        calculator.report, request.top, request.enrich_to, error, unused, from_metrics
    )


def _noting_traces(
    batch: ExportTraceServiceRequest, trace_ids: set[bytes]
) -> ExportTraceServiceRequest:
    """`batch`, its spans' trace ids added to `trace_ids` (the calls a metric point may
    cover)."""
    trace_ids.update(
        span.trace_id for rs in batch.resource_spans for ss in rs.scope_spans for span in ss.spans
    )
    return batch


def _measured(
    calculator: CostCalculator, item: ExportTraceServiceRequest | RawBatch
) -> tuple[Any, set[bytes]]:
    """A --jobs worker's part: the batch measured, and its trace ids."""
    trace_ids: set[bytes] = set()
    batch = _noting_traces(as_batch(item), trace_ids)
    return calculator.measure_batch(batch), trace_ids


# -- the table ---------------------------------------------------------------------------------


@dataclass
class PricesResult:
    source: str
    table_size: int
    prices: list[dict[str, Any]] = field(default_factory=list)
    error: OtelcliError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": len({row["id"] for row in self.prices}),
            "table_size": self.table_size,
            "source": self.source,
            "prices": self.prices,
        }


def list_prices(source: PricingSource, pattern: str | None) -> PricesResult:
    table = source.table()
    result = PricesResult(table.source, len(table))
    for entry in table.find(pattern):
        for period, rates, above in iter_rates(entry):
            row: dict[str, Any] = {
                "id": entry.entry_id,
                "name": entry.name,
                "source": entry.source,
                "from": _date(period.start_ns),
                "above_input_tokens": above,
            }
            for key, value in rates.usd().items():
                row[key] = format(value.normalize(), "f")
            if period.daily:
                start, end = period.daily
                row["daily_utc"] = (
                    f"{start // 3600:02d}:{start % 3600 // 60:02d}-"
                    f"{end // 3600:02d}:{end % 3600 // 60:02d}"
                )
            if entry.note:
                row["note"] = entry.note
            result.prices.append(row)
    return result


def _date(ns: int | None) -> str | None:
    if ns is None:
        return None
    from datetime import UTC

    return datetime.fromtimestamp(ns / 1e9, tz=UTC).date().isoformat()
