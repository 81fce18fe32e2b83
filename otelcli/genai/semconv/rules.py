"""Semantic-convention rule tables: load one and index it for per-span lookups.

A table is JSON (package data under otelcli/data/semconv/, written by
scripts/build_semconv_rules.py, or built at run time from a model directory by registry.py):

    {"format": 1, "id", "title", "schema_url",
     "namespaces": ["gen_ai.", ...],              # key prefixes this registry owns
     "attributes": {key: {"type", "stability", "members"?, "deprecated_members"?,
                          "deprecated"?: {"reason", "renamed_to", "note"}}},
     "spans": {type: {"kind", "other_kinds"?, "stability", "name", "operations",
                      "attributes": {key: {"level", "condition"?}}}},
     "refinements": {id: {"kind", "base", "provider", "name"?, "attributes": {...}}},
     "schemas": {key: JSON schema}}

Everything a check needs per span is precomputed here (tuples of keys per requirement level,
operation -> span types, template prefixes), so the validator does dict lookups only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from otelcli.errors import UsageError
from otelcli.genai.semconv.conditions import Condition, load_conditions, unknown_condition

# --semconv values -> packaged table
TABLES = {
    "gen-ai-dev-1.42": "gen-ai-dev-1.42.json",
    "v1.41.1": "v1.41.1.json",
}
ALIASES = {
    "current": "gen-ai-dev-1.42",
    "latest": "gen-ai-dev-1.42",
    "1.42": "gen-ai-dev-1.42",
    "genai": "gen-ai-dev-1.42",
    "1.41.1": "v1.41.1",
    "1.41": "v1.41.1",
    "core": "v1.41.1",
}
DEFAULT_TABLE = "gen-ai-dev-1.42"

_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class Deprecation:
    reason: str
    renamed_to: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AttributeRule:
    key: str
    type: str  # string int double boolean string[] ... any enum enum_int template[string]
    stability: str
    members: frozenset[Any] | None = None
    deprecated: Deprecation | None = None

    @property
    def value_type(self) -> str:
        """The primitive type a value must have (templates and enums unwrapped)."""
        if self.type.startswith("template[") and self.type.endswith("]"):
            return self.type[9:-1]
        return self.type


@dataclass(frozen=True)
class SpanType:
    """One span definition (or provider refinement), resolved."""

    name: str
    kind: str | None  # client, internal, server, ...
    kinds: frozenset[str]  # the expected kind and any the conventions also allow
    name_template: str | None
    operations: tuple[str, ...]
    levels: Mapping[str, str]  # key -> required/conditionally_required/recommended/opt_in
    conditions: Mapping[str, str]
    base: str | None = None  # set on refinements
    provider: str | None = None
    required: tuple[str, ...] = ()
    conditionally_required: tuple[str, ...] = ()
    recommended: tuple[str, ...] = ()
    opt_in: tuple[str, ...] = ()
    # Template keys (gen_ai.prompt.variable) are present when any "<key>." attribute is.
    templates: frozenset[str] = frozenset()
    name_parts: tuple[tuple[str, bool], ...] = ()  # (literal or attribute key, is_key)
    keyset: frozenset[str] = frozenset()  # every key with a requirement level
    # conditionally required and recommended keys that apply only when a condition holds
    when: Mapping[str, Condition] = field(default_factory=dict)

    @classmethod
    def build(
        cls, name: str, raw: Mapping[str, Any], templates: frozenset[str], base: SpanType | None
    ) -> SpanType:
        attrs = raw.get("attributes", {})
        levels = {key: spec["level"] for key, spec in attrs.items()}
        conditions = {
            key: spec["condition"] for key, spec in attrs.items() if spec.get("condition")
        }
        template = raw.get("name") or (base.name_template if base else None)

        def keys(level: str) -> tuple[str, ...]:
            return tuple(k for k, v in levels.items() if v == level)

        when: dict[str, Condition] = {}
        known = load_conditions().by_key
        for key, level in levels.items():
            if key == "error.type" or level not in ("conditionally_required", "recommended"):
                continue  # error.type is checked against the status instead
            if key in known:
                when[key] = known[key]
            elif level == "conditionally_required":
                when[key] = unknown_condition(conditions.get(key) or "the condition is not given")
        kind = raw.get("kind") or (base.kind if base else None)
        also = raw.get("other_kinds") or (sorted(base.kinds) if base else [])
        return cls(
            name=name,
            kind=kind,
            kinds=frozenset([*([kind] if kind else []), *also]),
            name_template=template,
            operations=tuple(raw.get("operations") or (base.operations if base else ())),
            levels=levels,
            conditions=conditions,
            base=raw.get("base"),
            provider=raw.get("provider"),
            required=keys("required"),
            conditionally_required=keys("conditionally_required"),
            recommended=keys("recommended"),
            opt_in=keys("opt_in"),
            templates=frozenset(k for k in levels if k in templates),
            name_parts=_name_parts(template),
            keyset=frozenset(levels),
            when=when,
        )


def _name_parts(template: str | None) -> tuple[tuple[str, bool], ...]:
    if not template:
        return ()
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append((template[position : match.start()], False))
        parts.append((match.group(1), True))
        position = match.end()
    if position < len(template):
        parts.append((template[position:], False))
    return tuple(parts)


@dataclass
class RuleTable:
    id: str
    title: str
    schema_url: str | None
    namespaces: tuple[str, ...]
    attributes: dict[str, AttributeRule]
    spans: dict[str, SpanType]
    refinements: dict[tuple[str, str], SpanType]  # (base span type, provider) -> refinement
    schemas: dict[str, Any]
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)
    templates: tuple[tuple[str, AttributeRule], ...] = ()  # ("gen_ai.prompt.variable.", rule)
    by_operation: dict[str, tuple[SpanType, ...]] = field(default_factory=dict)
    mcp_spans: dict[str, SpanType] = field(default_factory=dict)  # kind -> MCP span type
    # Every proper prefix ("gen_ai.", "gen_ai.request.") of a registry key, for naming checks.
    key_namespaces: frozenset[str] = frozenset()

    def span_type(self, name: str) -> SpanType | None:
        return self.spans.get(name) or next(
            (r for r in self.refinements.values() if r.name == name), None
        )

    def template_for(self, key: str) -> AttributeRule | None:
        for prefix, rule in self.templates:
            if key.startswith(prefix):
                return rule
        return None

    def owns(self, key: str) -> bool:
        return key.startswith(self.namespaces)


def rules_from_dict(raw: Mapping[str, Any]) -> RuleTable:
    if raw.get("format") != 1:
        raise UsageError(f"unsupported rule table format {raw.get('format')!r}")
    attributes: dict[str, AttributeRule] = {}
    for key, spec in raw["attributes"].items():
        deprecated = spec.get("deprecated")
        members = spec.get("members")
        attributes[key] = AttributeRule(
            key=key,
            type=spec["type"],
            stability=spec.get("stability", "development"),
            members=frozenset(members) if members is not None else None,
            deprecated=Deprecation(
                deprecated.get("reason", "uncategorized"),
                deprecated.get("renamed_to"),
                deprecated.get("note"),
            )
            if deprecated
            else None,
        )
    template_keys = frozenset(k for k, a in attributes.items() if a.type.startswith("template["))
    spans = {
        name: SpanType.build(name, spec, template_keys, None) for name, spec in raw["spans"].items()
    }
    refinements: dict[tuple[str, str], SpanType] = {}
    for name, spec in raw.get("refinements", {}).items():
        base = spans.get(spec["base"])
        if base is None:
            continue
        refinement = SpanType.build(name, spec, template_keys, base)
        refinements[(spec["base"], spec["provider"])] = refinement
    by_operation: dict[str, list[SpanType]] = {}
    for span in spans.values():
        for op in span.operations:
            by_operation.setdefault(op, []).append(span)
    mcp_spans = {
        span.kind or "": span
        for span in spans.values()
        if "mcp.method.name" in span.levels and span.levels["mcp.method.name"] == "required"
    }
    prefixes: set[str] = set()
    for key in attributes:
        parts = key.split(".")
        for size in range(1, len(parts)):
            prefixes.add(".".join(parts[:size]) + ".")
    return RuleTable(
        id=raw["id"],
        title=raw.get("title", raw["id"]),
        schema_url=raw.get("schema_url"),
        namespaces=tuple(raw.get("namespaces", ())),
        attributes=attributes,
        spans=spans,
        refinements=refinements,
        schemas=dict(raw.get("schemas", {})),
        raw=raw,
        templates=tuple(
            sorted(((k + ".", attributes[k]) for k in template_keys), key=lambda t: -len(t[0]))
        ),
        by_operation={op: tuple(types) for op, types in by_operation.items()},
        mcp_spans=mcp_spans,
        key_namespaces=frozenset(prefixes),
    )


def table_names() -> list[str]:
    return sorted(TABLES)


def resolve_name(name: str) -> str:
    lowered = name.lower()
    key = lowered if lowered in TABLES else ALIASES.get(lowered) or ALIASES.get(lowered[1:])
    if key is None:
        raise UsageError(
            f"unknown --semconv {name!r}",
            hint="choose one of: " + ", ".join([*TABLES, *ALIASES]) + " (or --registry DIR)",
        )
    return key


@cache
def builtin_raw(name: str = DEFAULT_TABLE) -> Mapping[str, Any]:
    text = resources.files("otelcli.data").joinpath("semconv").joinpath(TABLES[resolve_name(name)])
    loaded: Mapping[str, Any] = json.loads(text.read_text("utf-8"))
    return loaded


@cache
def load_rules(name: str = DEFAULT_TABLE) -> RuleTable:
    """A packaged table by name or alias (read once per process)."""
    return rules_from_dict(builtin_raw(name))


def load_rules_dir(path: str) -> RuleTable:
    """A table resolved from a semantic-conventions model directory (needs PyYAML).

    Attributes the directory references but does not define (core ones such as
    server.address) and the lineage's deprecated keys come from the built-in current table.
    """
    from otelcli.genai.semconv.registry import load_registry_dir

    return rules_from_dict(load_registry_dir(path, builtin_raw(DEFAULT_TABLE)))
