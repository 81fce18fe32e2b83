"""Turn a semantic-conventions model directory (YAML) into an otelcli rule table.

Reads both model formats: the `definition/2` files of the GenAI repository (attributes,
attribute_groups with ref_group, spans, span_refinements) and the older `groups:` files of
core releases (attribute groups and spans joined by `extends`). Resolution follows the
registry rules: a `ref_group` splices a group's attributes in place, a later `ref` of a key
already present overrides only the fields it sets, and a key referenced without any
requirement level is recommended.

The result is the plain dict stored as package data (see `rules.py` for the format); the
build script and `otelcli validate --registry DIR` share this code. PyYAML is imported only
here, lazily: it is an optional dependency (the `registry` extra).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otelcli.errors import InvalidInputError, UsageError

TABLE_FORMAT = 1
LEVELS = ("required", "conditionally_required", "recommended", "opt_in")

# "**Span name** SHOULD be `{gen_ai.operation.name} {gen_ai.request.model}`" and MCP's
# "SHOULD follow the format `{mcp.method.name} {target}`".
_NAME_RULE = re.compile(r"\*\*Span name\*\*\s+SHOULD\s+(?:be|follow the format)\s+`([^`]+)`")
# "The `gen_ai.operation.name` SHOULD be `embeddings`" / "SHOULD be one of `a`, `b`, or `c`".
_OPERATION_RULE = re.compile(
    r"`gen_ai\.operation\.name`\s+SHOULD\s+be\s+(?:one\s+of\s+)?((?:`[a-z_]+`[,\s]*(?:or\s+)?)+)"
)
_PROVIDER_RULE = re.compile(r'`gen_ai\.provider\.name`\s+MUST\s+be\s+set\s+to\s+`"([^"]+)"`')
_BACKTICKED = re.compile(r"`([a-z_]+)`")
# "Span kind SHOULD be `CLIENT` and MAY be set to `INTERNAL` on spans representing ..."
_ALSO_KIND = re.compile(r"MAY\s+be\s+set\s+to\s+`([A-Z]+)`")


@dataclass
class _Group:
    id: str
    attributes: list[dict[str, Any]]
    extends: str | None = None
    span: bool = False
    kind: str | None = None
    texts: list[str] = field(default_factory=list)  # notes that may hold name/operation rules
    refines: str | None = None  # v2 span_refinements: the span type refined
    stability: str | None = None


@dataclass
class _Model:
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    schema_url: str | None = None
    files: int = 0


def _load_yaml(path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        raise UsageError(
            "reading a semantic-conventions model needs PyYAML",
            hint="pip install 'otelcli[registry]'",
        ) from None
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None


def _read_model(directories: Iterable[Path]) -> _Model:
    model = _Model()
    for directory in directories:
        if not directory.is_dir():
            raise UsageError(
                f"{directory} is not a directory",
                hint="point --registry at a semantic-conventions model directory (with YAML files)",
            )
        for path in sorted(directory.rglob("*.yaml")):
            document = _load_yaml(path)
            if not isinstance(document, dict):
                continue
            model.files += 1
            if path.name == "manifest.yaml":
                model.schema_url = document.get("schema_url") or model.schema_url
                continue
            _read_document(model, document, path)
    return model


def _read_document(model: _Model, document: Mapping[str, Any], path: Path) -> None:
    for attribute in document.get("attributes") or ():  # v2 registry
        _define(model, attribute, attribute.get("key"), path)
    for group in document.get("attribute_groups") or ():  # v2
        model.groups[group["id"]] = _Group(group["id"], list(group.get("attributes") or ()))
    for span in document.get("spans") or ():  # v2
        name = span.get("name") or {}
        model.groups[span["type"]] = _Group(
            span["type"],
            list(span.get("attributes") or ()),
            span=True,
            kind=span.get("kind"),
            texts=[str(name.get("note") or ""), str(span.get("note") or "")],
            stability=span.get("stability"),
        )
    for refinement in document.get("span_refinements") or ():  # v2
        model.groups[refinement["id"]] = _Group(
            refinement["id"],
            list(refinement.get("attributes") or ()),
            span=True,
            kind=refinement.get("kind"),
            texts=[str(refinement.get("note") or ""), str(refinement.get("brief") or "")],
            refines=refinement.get("ref"),
            stability=refinement.get("stability"),
        )
    for group in document.get("groups") or ():  # v1
        gid = group["id"]
        for attribute in group.get("attributes") or ():
            if "id" in attribute and "ref" not in attribute:
                # Attributes defined in a group: registry groups hold bare keys; others
                # prefix them with the group's prefix (rare in the GenAI models).
                prefix = group.get("prefix")
                key = f"{prefix}.{attribute['id']}" if prefix else attribute["id"]
                _define(model, attribute, key, path)
        if group.get("type") == "span":
            model.groups[gid.removeprefix("span.")] = _Group(
                gid.removeprefix("span."),
                [a if "ref" in a else {**a, "ref": a["id"]} for a in group.get("attributes") or ()],
                extends=_strip_span(group.get("extends")),
                span=True,
                kind=group.get("span_kind"),
                texts=[str(group.get("note") or ""), str(group.get("brief") or "")],
                stability=group.get("stability"),
            )
        elif group.get("type") in ("attribute_group", None) and not gid.startswith("registry."):
            model.groups[gid] = _Group(
                gid,
                [a for a in group.get("attributes") or () if "ref" in a],
                extends=_strip_span(group.get("extends")),
            )


def _strip_span(group_id: str | None) -> str | None:
    return group_id.removeprefix("span.") if group_id else None


def _define(model: _Model, raw: Mapping[str, Any], key: str | None, path: Path) -> None:
    if not key:
        return
    raw_type = raw.get("type")
    members: list[Any] | None = None
    deprecated_members: dict[str, Any] = {}
    if isinstance(raw_type, dict):
        members = []
        for member in raw_type.get("members") or ():
            if member.get("deprecated"):
                deprecated_members[str(member.get("value"))] = _deprecation(member["deprecated"])
            members.append(member.get("value"))
        numeric = members and all(isinstance(m, int) and not isinstance(m, bool) for m in members)
        type_name = "enum_int" if numeric else "enum"
    else:
        type_name = str(raw_type)
    entry: dict[str, Any] = {"type": type_name, "stability": raw.get("stability") or "development"}
    if members is not None:
        entry["members"] = members
    if deprecated_members:
        entry["deprecated_members"] = deprecated_members
    if raw.get("deprecated"):
        entry["deprecated"] = _deprecation(raw["deprecated"])
    schema = ((raw.get("annotations") or {}).get("type") or {}).get("json_schema")
    if schema:
        entry["json_schema_path"] = str(schema)
    entry["_path"] = str(path)
    model.attributes[key] = entry


def _deprecation(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # the oldest format: prose only
        return {"reason": "uncategorized", "renamed_to": None, "note": raw.strip() or None}
    reason = raw.get("reason") or "uncategorized"
    return {
        "reason": reason,
        "renamed_to": raw.get("renamed_to"),
        "note": (raw.get("note") or "").strip() or None,
    }


# -- resolution ------------------------------------------------------------------------------


def _requirement(raw: Any) -> tuple[str, str | None] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw, None
    if isinstance(raw, dict) and raw:
        level, condition = next(iter(raw.items()))
        return str(level), (str(condition).strip() if condition else None)
    return None


class _Resolver:
    def __init__(self, model: _Model) -> None:
        self.model = model
        self._cache: dict[str, dict[str, tuple[str, str | None] | None]] = {}

    def group(
        self, gid: str, trail: tuple[str, ...] = ()
    ) -> dict[str, tuple[str, str | None] | None]:
        """key -> (level, condition) or None (no level given yet), in definition order."""
        if gid in self._cache:
            return dict(self._cache[gid])
        if gid in trail:
            raise InvalidInputError(f"semconv model: circular reference through {gid}")
        group = self.model.groups.get(gid)
        if group is None:
            raise InvalidInputError(
                f"semconv model: unknown group {gid!r}",
                hint="is the model directory complete (all YAML files of the registry)?",
            )
        resolved: dict[str, tuple[str, str | None] | None] = {}
        base = group.extends or group.refines
        if base:
            resolved.update(self.group(base, (*trail, gid)))
        for item in group.attributes:
            if "ref_group" in item:
                for spliced, level in self.group(item["ref_group"], (*trail, gid)).items():
                    if level is not None or spliced not in resolved:
                        resolved[spliced] = level
                continue
            key = item.get("ref")
            if not isinstance(key, str):
                continue
            level = _requirement(item.get("requirement_level"))
            if level is not None or key not in resolved:
                resolved[key] = level
        self._cache[gid] = resolved
        return dict(resolved)

    def ancestors(self, gid: str) -> list[str]:
        chain = []
        current: str | None = gid
        while current and current in self.model.groups and current not in chain:
            chain.append(current)
            current = self.model.groups[current].extends
        return chain


def _final_levels(resolved: Mapping[str, tuple[str, str | None] | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, requirement in resolved.items():
        level, condition = requirement or ("recommended", None)
        if level not in LEVELS:
            raise InvalidInputError(f"semconv model: unknown requirement level {level!r} on {key}")
        out[key] = {"level": level, "condition": condition} if condition else {"level": level}
    return dict(sorted(out.items()))


def _name_template(texts: Sequence[str]) -> str | None:
    for text in texts:
        found = _NAME_RULE.search(" ".join(text.split()))
        if found:
            return found.group(1)
    return None


def _operations(texts: Sequence[str]) -> list[str]:
    for text in texts:
        found = _OPERATION_RULE.search(" ".join(text.split()))
        if found:
            return _BACKTICKED.findall(found.group(1))
    return []


def build_rules(
    model_dirs: Sequence[Path],
    *,
    table_id: str,
    title: str,
    supplements: Sequence[Path] = (),
    fallback: Mapping[str, Any] | None = None,
    schema_dirs: Sequence[Path] = (),
) -> dict[str, Any]:
    """Resolve the model in `model_dirs` into a rule table.

    `supplements` are model directories that only lend definitions of attributes the model
    references (core attributes such as server.address, and deprecated keys); `fallback` is
    a rule table used the same way when a directory lacks them (the built-in table, when a
    user points --registry at a bare GenAI model).
    """
    model = _read_model(model_dirs)
    if not model.files:
        raise UsageError(
            f"no YAML files under {', '.join(map(str, model_dirs))}",
            hint="point --registry at the model/ directory of semantic-conventions-genai",
        )
    own_keys = set(model.attributes)
    lent = _read_model(supplements) if supplements else _Model()
    resolver = _Resolver(model)

    spans: dict[str, dict[str, Any]] = {}
    refinements: dict[str, dict[str, Any]] = {}
    span_groups = {gid: g for gid, g in model.groups.items() if g.span}
    base_types = [
        gid
        for gid, g in span_groups.items()
        if g.refines is None and gid.split(".")[0] in ("gen_ai", "mcp")
    ]
    for gid, group in span_groups.items():
        levels = _final_levels(resolver.group(gid))
        entry: dict[str, Any] = {"kind": group.kind, "stability": group.stability or "development"}
        also = sorted(
            {m.lower() for t in group.texts for m in _ALSO_KIND.findall(" ".join(t.split()))}
        )
        if also:
            entry["other_kinds"] = also
        template = _name_template(group.texts)
        if gid in base_types:
            entry["name"] = template
            entry["operations"] = _operations(group.texts)
            entry["attributes"] = levels
            spans[gid] = entry
            continue
        base = group.refines or _closest_base(resolver, gid, base_types)
        if base is None:
            continue
        provider = _provider_of(gid, base, group.texts)
        entry.update({"base": base, "provider": provider, "attributes": levels})
        if template:
            entry["name"] = template
        refinements[gid] = entry
    _assign_leftover_operations(spans, model.attributes)

    referenced = {
        key for table in (*spans.values(), *refinements.values()) for key in table["attributes"]
    }
    attributes: dict[str, dict[str, Any]] = {}
    fallback_attributes: Mapping[str, Any] = (fallback or {}).get("attributes", {})
    for key in sorted(own_keys | referenced):
        definition = model.attributes.get(key) or lent.attributes.get(key)
        if definition is None and key in fallback_attributes:
            definition = dict(fallback_attributes[key])
        if definition is None:
            raise InvalidInputError(
                f"semconv model: {key} is referenced but defined nowhere",
                hint="add the core model directory that defines it (build script: --supplement)",
            )
        definition = dict(definition)
        if key in referenced and key not in own_keys:
            # A key this registry's own spans reference is live here, whatever later core
            # releases say about it.
            definition.pop("deprecated", None)
        attributes[key] = definition
    # Deprecated keys of the lineage (gen_ai.system, gen_ai.usage.prompt_tokens, ...), in
    # this registry's namespaces only: core's own deprecations are not GenAI's business.
    namespaces = _owned_namespaces(own_keys, _live_keys(lent.attributes, fallback_attributes))
    for source in (lent.attributes, fallback_attributes):
        for key, definition in source.items():
            if (
                key not in attributes
                and definition.get("deprecated")
                and key.startswith(tuple(namespaces))
            ):
                attributes[key] = dict(definition)

    schemas = _load_schemas(attributes, [*model_dirs, *schema_dirs], fallback)
    for definition in attributes.values():
        definition.pop("_path", None)
        definition.pop("json_schema_path", None)

    return {
        "format": TABLE_FORMAT,
        "id": table_id,
        "title": title,
        "schema_url": model.schema_url,
        "namespaces": namespaces,
        "attributes": dict(sorted(attributes.items())),
        "spans": dict(sorted(spans.items())),
        "refinements": dict(sorted(refinements.items())),
        "schemas": dict(sorted(schemas.items())),
    }


def _closest_base(resolver: _Resolver, gid: str, base_types: Sequence[str]) -> str | None:
    """For old-format provider spans: the base span sharing the most specific ancestor."""
    mine = resolver.ancestors(gid)
    best: tuple[int, str] | None = None
    for base in base_types:
        theirs = resolver.ancestors(base)
        for depth, ancestor in enumerate(reversed(mine)):
            if ancestor in theirs and (best is None or depth > best[0]):
                best = (depth, base)
    return best[1] if best else None


def _provider_of(gid: str, base: str, texts: Sequence[str]) -> str:
    for text in texts:
        found = _PROVIDER_RULE.search(text)
        if found:
            return found.group(1)
    suffix = base.split(".", 1)[1]  # gen_ai.inference.client -> inference.client
    if gid.endswith("." + suffix):
        return gid[: -len(suffix) - 1]
    return gid.rsplit(".", 1)[0]  # aws.bedrock.client -> aws.bedrock


def _assign_leftover_operations(
    spans: dict[str, dict[str, Any]], attributes: Mapping[str, Any]
) -> None:
    """The inference span's note names no operation: it takes the values no other span claims."""
    members = (attributes.get("gen_ai.operation.name") or {}).get("members") or []
    claimed = {op for entry in spans.values() for op in entry["operations"]}
    for span_type, entry in spans.items():
        if (
            span_type.startswith("gen_ai.")
            and not entry["operations"]
            and "gen_ai.operation.name" in entry["attributes"]
        ):
            entry["operations"] = [op for op in members if op not in claimed]


def _live_keys(*sources: Mapping[str, Mapping[str, Any]]) -> set[str]:
    return {key for source in sources for key, d in source.items() if not d.get("deprecated")}


def _owned_namespaces(own: set[str], others: set[str]) -> list[str]:
    """The shortest prefixes of this registry's keys that no other registry's key shares."""
    out: set[str] = set()
    others = others - own
    for key in own:
        parts = key.split(".")
        for size in range(1, len(parts)):
            prefix = ".".join(parts[:size]) + "."
            if not any(other.startswith(prefix) for other in others):
                out.add(prefix)
                break
    # keep only the shortest of nested prefixes
    return sorted(p for p in out if not any(q != p and p.startswith(q) for q in out))


def _load_schemas(
    attributes: Mapping[str, Mapping[str, Any]],
    search_dirs: Sequence[Path],
    fallback: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """JSON schemas of `any`-typed content attributes, by attribute key.

    Found through the attribute's `annotations.type.json_schema` path, else by the naming
    convention of the model (`gen_ai.input.messages` -> `gen-ai-input-messages.json`).
    """
    out: dict[str, Any] = {}
    fallback_schemas: Mapping[str, Any] = (fallback or {}).get("schemas", {})
    for key, definition in attributes.items():
        if definition.get("type") != "any" or definition.get("deprecated"):
            continue
        filename = key.replace(".", "-").replace("_", "-") + ".json"
        candidates: list[Path] = []
        declared = definition.get("json_schema_path")
        if declared:
            defined_in = Path(str(definition.get("_path", "")))
            candidates += [parent / declared for parent in defined_in.parents]
        for directory in search_dirs:
            candidates += [directory / filename, directory.parent / filename]
            candidates += sorted(directory.parent.rglob(filename))
        for candidate in candidates:
            if candidate.is_file():
                try:
                    out[key] = json.loads(candidate.read_text("utf-8"))
                except (OSError, ValueError) as exc:
                    raise InvalidInputError(f"{candidate}: invalid JSON schema: {exc}") from None
                break
        else:
            if key in fallback_schemas:
                out[key] = fallback_schemas[key]
    return out


def load_registry_dir(path: str, fallback: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule table of a model directory given at run time (--registry DIR)."""
    directory = Path(path)
    return build_rules(
        [directory],
        table_id=f"registry:{directory}",
        title=f"semantic conventions model at {directory}",
        fallback=fallback,
    )
