"""The GenAI events and metrics the conventions define, loaded from package data
(otelcli/data/semconv/signals.json): event attributes by requirement level, deprecated events
with their replacement, and each metric's instrument, unit, bucket advice and attributes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEVELS = ("required", "conditionally_required", "recommended", "opt_in")
# requirement level -> the rule a missing attribute is reported under (the spans' rules)
# Conditionally required ones are not: an event or a data point cannot tell whether their
# condition ("if available", "on failure") holds.
MISSING_RULES = {
    "required": "required_attribute_missing",
    "recommended": "recommended_attribute_missing",
    "opt_in": "opt_in_attribute_missing",
}


@dataclass(frozen=True)
class EventRule:
    name: str
    attributes: dict[str, str]  # key -> requirement level
    one_of: tuple[str, ...] = ()  # at least one of these keys


@dataclass(frozen=True)
class MetricRule:
    name: str
    instrument: str  # the OTLP data kind: histogram, sum, gauge
    unit: str
    buckets: tuple[float, ...]
    attributes: dict[str, str]
    error_type: bool = False  # error.type is conditionally required (set on failures)


@dataclass(frozen=True)
class SignalRules:
    events: dict[str, EventRule]
    deprecated_events: dict[str, str]  # name -> replacement
    deprecated_note: str
    metrics: dict[str, MetricRule]
    namespaces: tuple[str, ...]

    def owns(self, name: str) -> bool:
        return name.startswith(self.namespaces)


@cache
def signal_rules() -> SignalRules:
    text = resources.files("otelcli.data").joinpath("semconv/signals.json").read_text("utf-8")
    data = json.loads(text)
    return SignalRules(
        events={
            name: EventRule(name, dict(spec["attributes"]), tuple(spec.get("one_of", ())))
            for name, spec in data["events"].items()
        },
        deprecated_events=dict(data["deprecated_events"]),
        deprecated_note=data["deprecated_event_note"],
        metrics={
            name: MetricRule(
                name,
                spec["instrument"],
                spec["unit"],
                tuple(float(bound) for bound in spec["buckets"]),
                dict(spec["attributes"]),
                bool(spec.get("error_type", False)),
            )
            for name, spec in data["metrics"].items()
        },
        namespaces=tuple(data["namespaces"]),
    )


def missing_attributes(
    attributes: dict[str, object] | set[str], wanted: dict[str, str]
) -> list[tuple[str, str]]:
    """(rule, key) for each attribute of `wanted` that is absent (and can be told missing)."""
    return [
        (MISSING_RULES[level], key)
        for key, level in wanted.items()
        if key not in attributes and level in MISSING_RULES
    ]
