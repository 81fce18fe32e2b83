"""`otelcli send`: one realistic GenAI trace, one hand-built span, or load, to a file or an
endpoint (the one sink).

For load the scenario template encodes each trace once; a batch only patches ids and
timestamps in bytes, so the generator is never the bottleneck (see otlp.template.TraceTemplate).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import OtelcliError, UsageError
from otelcli.genai.scenarios.build import build_scenario, scenario_template
from otelcli.genai.scenarios.signals import scenario_signals
from otelcli.otlp.handmade import build_span
from otelcli.otlp.ids import TraceParent
from otelcli.otlp.signals import signal_of
from otelcli.otlp.template import TraceTemplate
from otelcli.otlp.values import AttrValue
from otelcli.transport.delivery import Outgoing, Stop
from otelcli.transport.sink import BackgroundSink, SinkReport, SinkTarget, drain

PACE_S = 0.1  # at a given --rate, a request carries at most this many seconds of spans


@dataclass(frozen=True)
class LoadPlan:
    spans_per_copy: int
    count: int | None = None  # spans to send (rounded up to whole traces); None: until duration
    rate: float | None = None  # spans per second; None: as fast as possible
    duration_s: float | None = None
    batch_size: int = 512  # spans per request, at least one whole trace

    def __post_init__(self) -> None:
        if self.count is None and self.duration_s is None:
            raise UsageError("load needs --count or --duration")
        if self.rate is not None and self.rate <= 0:
            raise UsageError(
                f"--rate {self.rate:g}: the rate is spans per second, above 0",
                hint="leave --rate out to send as fast as possible",
            )

    @property
    def copies_per_batch(self) -> int:
        """Whole traces per request: --batch-size, smaller at low rates so that a request
        holds at most PACE_S worth of spans (pacing is per span, not per batch)."""
        copies = max(1, self.batch_size // self.spans_per_copy)
        if self.rate is not None:
            copies = min(copies, max(1, int(self.rate * PACE_S / self.spans_per_copy)))
        return copies

    @property
    def total_copies(self) -> int | None:
        """Traces to send, or None when only the duration bounds the run."""
        limits = []
        if self.count is not None:
            limits.append(math.ceil(self.count / self.spans_per_copy))
        if self.duration_s is not None and self.rate is not None:
            limits.append(math.ceil(self.duration_s * self.rate / self.spans_per_copy))
        return min(limits) if limits else None


def generate(
    plan: LoadPlan,
    template: TraceTemplate,
    clock: Callable[[], float] = time.monotonic,
    stop: Stop | None = None,
) -> Iterator[Outgoing]:
    """Batches of whole traces, each due when the rate allows; stops at count or duration,
    or as soon as `stop` is requested."""
    started = clock()
    remaining = plan.total_copies
    sent_spans = 0
    while remaining is None or remaining > 0:
        if stop is not None and stop.requested:
            return
        if plan.duration_s is not None and clock() - started >= plan.duration_s:
            return
        copies = (
            plan.copies_per_batch if remaining is None else min(remaining, plan.copies_per_batch)
        )
        spans = copies * plan.spans_per_copy
        # due once its last span's time has come: the last request goes at --duration
        due = started + (sent_spans + spans) / plan.rate if plan.rate else None
        yield Outgoing(spans, data=template.batch(copies), due=due)
        sent_spans += spans
        if remaining is not None:
            remaining -= copies


# -- what to send ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioSpec:
    scenario: str = "agent"
    dialect: str = "semconv"
    seed: int | None = None
    content: bool = False
    service: str = "otelcli-demo"
    resource: Mapping[str, AttrValue] = field(default_factory=dict)
    # traces, logs (the calls' events), metrics (token usage and duration): --signal
    signals: frozenset[str] = frozenset({"traces"})

    def __post_init__(self) -> None:
        unknown = sorted(set(self.signals) - set(SIGNALS))
        if unknown or not self.signals:
            raise UsageError(
                f"--signal {', '.join(unknown) or '(none)'} is not traces, logs or metrics",
                hint="repeat --signal for several: --signal traces --signal logs",
            )

    @property
    def extra(self) -> frozenset[str]:
        return self.signals - {"traces"}


SIGNALS = ("traces", "logs", "metrics")


@dataclass(frozen=True)
class SpanSpec:
    """A hand-built span (otel-cli style); values already parsed."""

    name: str
    kind: str = "client"
    attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    status: str = "unset"
    status_message: str = ""
    start_ns: int = 0
    end_ns: int = 0
    parent: TraceParent | None = None
    service: str = "otelcli"


@dataclass(frozen=True)
class LoadSpec:
    count: int | None = None
    rate: float | None = None
    duration_s: float | None = None
    batch_size: int = 512


# -- one trace ---------------------------------------------------------------------------------


@dataclass
class SendResult:
    label: str
    batch: ExportTraceServiceRequest
    sink: SinkReport
    context: TraceParent | None = None  # a hand-built span's own context (--print-traceparent)
    endpoint_from: str | None = None
    error: OtelcliError | None = None
    signals: dict[str, SinkReport] = field(default_factory=dict)  # logs and metrics sent

    @property
    def trace_ids(self) -> list[str]:
        batch = self.batch
        return sorted(
            {
                s.trace_id.hex()
                for rs in batch.resource_spans
                for ss in rs.scope_spans
                for s in ss.spans
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self._traces_dict(), **_other_signals(self.sink, self.signals)}

    def _traces_dict(self) -> dict[str, Any]:
        delivery = self.sink.delivery
        if delivery is None:
            written = self.sink.file
            return {
                "endpoint": None,
                "output": written.path if written else None,
                "trace_ids": self.trace_ids,
                "spans": written.spans if written else 0,
                "sent": self.label,
            }
        return {
            "endpoint": self.sink.endpoint,
            "endpoint_from": self.endpoint_from,
            "trace_ids": self.trace_ids,
            "spans": delivery.offered,
            "accepted": delivery.accepted,
            "rejected": delivery.rejected,
            "failed": delivery.failed,
            "unknown": delivery.unknown,
            "status": next(reversed(delivery.statuses), None),
            "latency_ms": round(max(delivery.latencies_s, default=0.0) * 1000, 1),
            "attempts": delivery.attempts,
            "messages": list(delivery.messages),
            "error": self.error.to_dict() if self.error else None,
            "sent": self.label,
        }


def send_one(
    target: SinkTarget, scenario: ScenarioSpec, span: SpanSpec | None = None
) -> SendResult:
    """One scenario trace (or the hand-built span) to the file or the endpoint."""
    context = None
    if span is not None:
        made = build_span(
            name=span.name,
            kind=span.kind,
            attributes=span.attributes,
            status=span.status,
            status_message=span.status_message,
            service=span.service,
            resource_attributes=scenario.resource,
            start_ns=span.start_ns,
            end_ns=span.end_ns,
            parent=span.parent,
        )
        batch, label, context = made.request, f"span {span.name!r}", made.context
    else:
        batch = build_scenario(
            scenario.scenario,
            dialect=scenario.dialect,
            seed=scenario.seed,
            content=scenario.content,
            service=scenario.service,
            resource_attrs=scenario.resource,
        )
        label = f"{scenario.scenario} ({scenario.dialect})"
    extra = scenario_signals(batch, scenario.extra, content=scenario.content)
    traces = [Outgoing.of(batch)] if "traces" in scenario.signals else []
    reports: dict[str, SinkReport] = {}
    if target.endpoint is None:  # a file takes every signal
        sink = drain(traces + [Outgoing.of(b) for b in extra], target)
    else:
        sink = drain(traces, target)
        for other in extra:
            signal = signal_of(other)
            reports[signal.value] = drain([Outgoing.of(other)], replace(target, signal=signal))
    source = target.endpoint.endpoint_source if target.endpoint else None
    error = sink.error or next((r.error for r in reports.values() if r.error), None)
    return SendResult(label, batch, sink, context, source, error, reports)


def _other_signals(sink: SinkReport, reports: Mapping[str, SinkReport]) -> dict[str, Any]:
    """Logs and metrics: what the file took, or each signal's delivery."""
    result: dict[str, Any] = {}
    if reports:
        result["signals"] = {name: _signal_dict(r) for name, r in reports.items()}
    written = sink.file
    if written is not None and (written.log_records or written.data_points):
        result["log_records"] = written.log_records
        result["data_points"] = written.data_points
    return result


def _signal_dict(report: SinkReport) -> dict[str, Any]:
    delivery = report.delivery
    return {
        "endpoint": report.endpoint,
        "records": delivery.offered if delivery else 0,
        "accepted": delivery.accepted if delivery else 0,
        "rejected": delivery.rejected if delivery else 0,
        "failed": delivery.failed if delivery else 0,
        "error": report.error.to_dict() if report.error else None,
    }


# -- load --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    scenario: ScenarioSpec
    spans_per_trace: int
    sink: SinkReport
    error: OtelcliError | None = None
    signals: dict[str, SinkReport] = field(default_factory=dict)  # logs and metrics sent

    def to_dict(self) -> dict[str, Any]:
        return {**self._traces_dict(), **_other_signals(self.sink, self.signals)}

    def _traces_dict(self) -> dict[str, Any]:
        delivery = self.sink.delivery
        if delivery is None:
            written = self.sink.file
            return {
                "output": written.path if written else None,
                "scenario": self.scenario.scenario,
                "dialect": self.scenario.dialect,
                "spans": written.spans if written else 0,
            }
        return {
            "endpoint": self.sink.endpoint,
            "scenario": self.scenario.scenario,
            "dialect": self.scenario.dialect,
            "spans_per_trace": self.spans_per_trace,
            **delivery.to_dict(),
        }


def load_template(scenario: ScenarioSpec) -> TraceTemplate:
    return scenario_template(
        scenario.scenario,
        scenario.dialect,
        seed=scenario.seed,
        content=scenario.content,
        service=scenario.service,
        resource_attrs=scenario.resource,
    )


def send_load(
    target: SinkTarget,
    scenario: ScenarioSpec,
    plan: LoadPlan,
    template: TraceTemplate,
    *,
    stop: Stop | None = None,
    on_progress: Callable[[SinkReport], None] | None = None,
) -> LoadResult:
    """Whole traces of the scenario at the plan's rate until its count or duration. Generated
    spans a signal left unsent are counted, not saved: they can be made again."""
    batches = generate(plan, template, stop=stop)
    if not scenario.extra:
        sink = drain(batches, target, stop=stop, on_progress=on_progress)
        return LoadResult(scenario, plan.spans_per_copy, sink, sink.error)
    # Logs and metrics made from each batch's traces: into the same file, or each to its own
    # path through a background sink (a full backlog counts them not sent).
    others: dict[str, BackgroundSink] = {}

    def with_signals() -> Iterator[Outgoing]:
        for item in batches:
            if "traces" in scenario.signals:
                yield item
            traces = ExportTraceServiceRequest.FromString(item.data or b"")
            for other in scenario_signals(traces, scenario.extra, content=scenario.content):
                if target.endpoint is None:
                    yield Outgoing.of(other)
                    continue
                signal = signal_of(other)
                sink = others.get(signal.value)
                if sink is None:
                    sink = BackgroundSink(replace(target, signal=signal))
                    others[signal.value] = sink
                sink.submit(other)

    main = drain(with_signals(), target, stop=stop, on_progress=on_progress)
    reports = {name: sink.close() for name, sink in others.items()}
    error = main.error or next((r.error for r in reports.values() if r.error), None)
    return LoadResult(scenario, plan.spans_per_copy, main, error, reports)
