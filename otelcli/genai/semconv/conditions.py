"""Conditions of requirement levels, evaluated on one span (otelcli/data/conditions.json).

A condition holds (True), does not hold (False) or cannot be told from the span (None):
validate reports a missing attribute only when its condition holds, and lists the ones it
could not evaluate apart (--explain). What a span says about itself (status, provider,
streaming, the request parameters some libraries record) is read once per span, lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from otelcli.otlp.spans import STATUS_ERROR

PROVIDER = "gen_ai.provider.name"
ERROR_TYPE = "error.type"


@dataclass(frozen=True)
class Condition:
    """One compiled condition: `test(span facts)` -> True / False / None; `text` for people."""

    test: Callable[[SpanFacts], bool | None]
    text: str


@dataclass(frozen=True)
class ConditionTable:
    by_key: Mapping[str, Condition]
    notes: Mapping[str, str]
    streaming_flags: tuple[str, ...]
    streaming_evidence: tuple[str, ...]
    streaming_request: tuple[str, ...]
    streaming_default: bool
    request_sources: tuple[str, ...]


class SpanFacts:
    """What the conditions ask of one span, computed on first use."""

    __slots__ = ("attributes", "status", "_table", "_request")

    def __init__(self, attributes: Mapping[str, Any], status: int, table: ConditionTable):
        self.attributes = attributes
        self.status = status
        self._table = table
        self._request: Mapping[str, Any] | None | bool = False  # False: not read yet

    @property
    def failed(self) -> bool:
        return self.status == STATUS_ERROR or self.attributes.get(ERROR_TYPE) is not None

    def request(self) -> Mapping[str, Any] | None:
        """The request parameters the span records (OpenInference's invocation parameters)."""
        if self._request is False:
            self._request = None
            for key in self._table.request_sources:
                parsed = _parameters(self.attributes.get(key))
                if parsed is not None:
                    self._request = parsed
                    break
        return self._request if isinstance(self._request, Mapping) else None

    def streaming(self) -> bool:
        """Streaming flags first; then evidence only a stream has; then the request; else
        the convention's meaning of an absent gen_ai.request.stream (non-streaming)."""
        table = self._table
        for key in table.streaming_flags:
            value = self.attributes.get(key)
            if isinstance(value, bool):
                return value
        if any(key in self.attributes for key in table.streaming_evidence):
            return True
        request = self.request()
        if request is not None:
            for name in table.streaming_request:
                value = _lookup(request, name)
                if isinstance(value, bool):
                    return value
        return table.streaming_default


def _parameters(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.startswith("{"):
        return _parsed(value)
    return None


@cache
def _parsed(text: str) -> Mapping[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_MISSING = object()


def _lookup(parameters: Mapping[str, Any], name: str) -> Any:
    """A request parameter by name; dotted names reach into objects (reasoning.effort)."""
    value: Any = parameters
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def compile_condition(raw: Any) -> Condition:
    """A condition from its JSON form (see the "about" of conditions.json)."""
    if raw == "response":
        return Condition(lambda s: not s.failed, "the call got a response")
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"not a condition: {raw!r}")
    if "all" in raw or "any" in raw:
        every = "all" in raw
        parts = tuple(compile_condition(p) for p in raw["all" if every else "any"])
        joiner = " and " if every else " or "
        return Condition(_combine(parts, every), joiner.join(p.text for p in parts))
    if "streaming" in raw:
        wanted = bool(raw["streaming"])
        return Condition(
            lambda s: s.streaming() is wanted,
            "the request is streaming" if wanted else "the request is not streaming",
        )
    if "present" in raw:
        key = str(raw["present"])
        return Condition(lambda s: key in s.attributes, f"{key} is set")
    if "absent" in raw:
        key = str(raw["absent"])
        return Condition(lambda s: key not in s.attributes, f"{key} is not set")
    if "provider" in raw:
        providers = frozenset(raw["provider"])

        def provider(s: SpanFacts) -> bool | None:
            value = s.attributes.get(PROVIDER)
            return value in providers if isinstance(value, str) else None

        return Condition(provider, "the provider is " + " or ".join(sorted(providers)))
    if "request" in raw:
        names = tuple(raw["request"])
        excluded = tuple(raw.get("except", ()))

        def sent(s: SpanFacts) -> bool | None:
            request = s.request()
            if request is None:
                return None
            values = [v for n in names if (v := _lookup(request, n)) is not _MISSING]
            return any(v is not None and v not in excluded for v in values)

        text = f"the request sets {' or '.join(names)}"
        if excluded:
            text += " (not " + ", ".join(map(str, excluded)) + ")"
        return Condition(sent, text)
    if "unknown" in raw:
        return Condition(lambda s: None, str(raw["unknown"]))
    raise ValueError(f"not a condition: {raw!r}")


def _combine(parts: Sequence[Condition], every: bool) -> Callable[[SpanFacts], bool | None]:
    def test(s: SpanFacts) -> bool | None:
        unknown = False
        for part in parts:
            value = part.test(s)
            if value is None:
                unknown = True
            elif value is not every:  # a False in all(), a True in any() decides
                return value
        return None if unknown else every

    return test


def unknown_condition(text: str) -> Condition:
    """A condition only in prose ("When available."): not evaluable on a span."""
    return Condition(lambda s: None, text.rstrip("."))


def parse_conditions(raw: Mapping[str, Any]) -> ConditionTable:
    streaming = raw.get("streaming", {})
    return ConditionTable(
        by_key={
            key: compile_condition(spec["when"]) for key, spec in raw.get("attributes", {}).items()
        },
        notes={k: s["note"] for k, s in raw.get("attributes", {}).items() if s.get("note")},
        streaming_flags=tuple(streaming.get("flags", ())),
        streaming_evidence=tuple(streaming.get("evidence", ())),
        streaming_request=tuple(streaming.get("request", ())),
        streaming_default=bool(streaming.get("absent_means", False)),
        request_sources=tuple(raw.get("request_sources", ())),
    )


@cache
def load_conditions() -> ConditionTable:
    text = resources.files("otelcli.data").joinpath("conditions.json").read_text("utf-8")
    return parse_conditions(json.loads(text))
