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
from typing import TYPE_CHECKING, Any

from otelcli.genai.dialects.normalize import NOT_SENT, parameters, request_parameter
from otelcli.otlp.spans import STATUS_ERROR

if TYPE_CHECKING:
    from otelcli.genai.dialects.normalize import DialectTable

PROVIDER = "gen_ai.provider.name"
STREAM = "gen_ai.request.stream"
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
    streaming_default: bool
    request_sources: tuple[str, ...]  # attributes holding a request's parameters
    request_parameters: Mapping[str, tuple[str, ...]]  # request attribute -> parameter names
    referenced: frozenset[str] = frozenset()  # keys whose presence a condition asks about


class SpanFacts:
    """What the conditions ask of one span, computed on first use.

    `signature()` is everything the conditions can read of the span: spans alike in it get
    the same verdicts (the validator caches them)."""

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
                parsed = parameters(self.attributes.get(key))
                if parsed is not None:
                    self._request = parsed
                    break
        return self._request if isinstance(self._request, Mapping) else None

    def signature(self) -> tuple[Any, ...] | None:
        """None when a value the conditions read cannot be hashed (a structured request)."""
        table = self._table
        attributes = self.attributes
        request = tuple(attributes.get(key) for key in table.request_sources)
        if not all(v is None or isinstance(v, str) for v in request):
            return None
        provider = attributes.get(PROVIDER)
        return (
            self.failed,
            provider if isinstance(provider, str) else None,
            self.streaming(),
            request,
            table.referenced.intersection(attributes),
        )

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
            for name in table.request_parameters.get(STREAM, ()):
                value = request_parameter(request, name)
                if isinstance(value, bool):
                    return value
        return table.streaming_default


def compile_condition(raw: Any, names: Mapping[str, tuple[str, ...]]) -> Condition:
    """A condition from its JSON form (see the "about" of conditions.json)."""
    if raw == "response":
        return Condition(lambda s: not s.failed, "the call got a response")
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"not a condition: {raw!r}")
    if "all" in raw or "any" in raw:
        every = "all" in raw
        parts = tuple(compile_condition(p, names) for p in raw["all" if every else "any"])
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
        attribute = str(raw["request"])
        sent_as = names.get(attribute, ())
        excluded = tuple(raw.get("except", ()))

        def sent(s: SpanFacts) -> bool | None:
            request = s.request()
            if request is None:
                return None
            values = [request_parameter(request, n) for n in sent_as]
            return any(v is not NOT_SENT and v is not None and v not in excluded for v in values)

        text = f"the request sets {' or '.join(sent_as) or attribute}"
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


def parse_conditions(raw: Mapping[str, Any], dialects: DialectTable) -> ConditionTable:
    streaming = raw.get("streaming", {})
    names = dialects.request_parameters
    attributes = raw.get("attributes", {})
    return ConditionTable(
        by_key={key: compile_condition(spec["when"], names) for key, spec in attributes.items()},
        notes={k: s["note"] for k, s in attributes.items() if s.get("note")},
        streaming_flags=tuple(streaming.get("flags", ())),
        streaming_evidence=tuple(streaming.get("evidence", ())),
        streaming_default=bool(streaming.get("absent_means", False)),
        request_sources=dialects.request_sources(),
        request_parameters=names,
        referenced=frozenset(_referenced([spec["when"] for spec in attributes.values()])),
    )


def _referenced(raw: Any) -> set[str]:
    if isinstance(raw, list):
        return set().union(*map(_referenced, raw)) if raw else set()
    if not isinstance(raw, Mapping):
        return set()
    keys = {str(raw[k]) for k in ("present", "absent") if k in raw}
    return keys.union(*(_referenced(v) for v in raw.values() if isinstance(v, (list, dict))))


@cache
def load_conditions() -> ConditionTable:
    from otelcli.genai.dialects.normalize import load_dialects

    text = resources.files("otelcli.data").joinpath("conditions.json").read_text("utf-8")
    return parse_conditions(json.loads(text), load_dialects())
