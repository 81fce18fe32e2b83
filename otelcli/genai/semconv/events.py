"""validate for GenAI events (log records): names against the registry, the deprecated
per-message events with their replacement, required and recommended attributes, the same
attribute checks as spans, and each event joined to its span by trace and span id.

Findings go into the run's ValidationReport like span findings, as signal "logs" with the span
type "event <name>", so every report format names them.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.genai.semconv.findings import Raw, SpanRef
from otelcli.genai.semconv.signal_rules import SignalRules, missing_attributes, signal_rules
from otelcli.otlp.values import attributes_to_dict

if TYPE_CHECKING:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

    from otelcli.genai.semconv.validate import Validator


def event_name(record: LogRecord) -> str:
    """The event name: the LogRecord field since OTLP 1.5, the `event.name` attribute before."""
    if record.event_name:
        return record.event_name
    for attribute in record.attributes:
        if attribute.key == "event.name":
            return attribute.value.string_value
    return ""


@dataclass
class EventChecker:
    validator: Validator
    rules: SignalRules = field(default_factory=signal_rules)
    log_records: int = 0
    genai_events: int = 0
    names: dict[str, int] = field(default_factory=dict)
    # events with trace context, joined to their span once every span has been seen
    _pending: list[tuple[bytes, SpanRef]] = field(default_factory=list)

    def check_batch(self, batch: ExportLogsServiceRequest) -> None:
        for resource_logs in batch.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                for record in scope_logs.log_records:
                    self.check_record(record)

    def check_record(self, record: LogRecord) -> None:
        self.log_records += 1
        name = event_name(record)
        attributes = attributes_to_dict(record.attributes)
        rules = self.rules
        known = name in rules.events or name in rules.deprecated_events
        if not (known or rules.owns(name) or any(map(rules.owns, attributes))):
            return  # an application log, not a GenAI event
        self.genai_events += 1
        self.names[name] = self.names.get(name, 0) + 1
        shown = name or "(no event name)"
        ref = SpanRef(record.trace_id, record.span_id, shown, f"event {shown}", "logs")
        raws: list[Raw] = []
        replacement = rules.deprecated_events.get(name)
        definition = rules.events.get(name)
        if replacement is not None:
            raws.append(("deprecated_event", name, f"use {replacement}", rules.deprecated_note))
        elif definition is not None:
            raws.extend(
                (rule, key, None, None)
                for rule, key in missing_attributes(attributes, definition.attributes)
            )
            if definition.one_of and not any(key in attributes for key in definition.one_of):
                raws.append(
                    ("required_attribute_missing", " or ".join(definition.one_of), None, None)
                )
        else:
            raws.append(("unknown_event", shown, None, None))
        # The attribute checks spans get (unknown, deprecated, types, enums, content schemas).
        self.validator.check_attributes(attributes, raws)
        if not record.trace_id or not record.span_id:
            raws.append(("event_without_trace_context", shown, None, None))
        else:
            self._pending.append((record.trace_id + record.span_id, ref))
        self.validator.report.add(raws, ref)

    def finish(self, spans: Container[bytes]) -> None:
        """Report the events whose span (trace id + span id) is not among `spans`."""
        for key, ref in self._pending:
            if key not in spans:
                self.validator.report.add([("event_without_span", ref.name, None, None)], ref)
        self._pending.clear()

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_records": self.log_records,
            "genai_events": self.genai_events,
            "event_names": dict(sorted(self.names.items(), key=lambda item: -item[1])),
        }
