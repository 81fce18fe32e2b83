"""A team's validation policy: ignore rules, raise or lower levels, require extra attributes.

Read from --config FILE, else the nearest `otelcli.toml` ([validate] table) or
`pyproject.toml` ([tool.otelcli.validate] table) from the working directory upwards:

    [tool.otelcli.validate]
    semconv = "1.42"                 # or registry = "path/to/model"
    fail_on = "improvement"
    ignore = ["opt_in_attribute_missing", "recommended_attribute_missing:gen_ai.request.top_p"]
    [tool.otelcli.validate.levels]
    span_name = "violation"          # RULE or RULE:ATTRIBUTE (globs allowed) -> level or "off"
    [tool.otelcli.validate.require]
    chat = ["user.id"]               # operation name, span type, or "*" -> extra attributes
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otelcli.errors import ConfigError

LEVELS = ("information", "improvement", "violation")
OFF = "off"
_KEYS = {"ignore", "levels", "require", "fail_on", "semconv", "registry", "normalized"}


@dataclass
class Policy:
    levels: list[tuple[str, str | None, str]] = field(default_factory=list)  # rule, attr, level
    require: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail_on: str | None = None
    semconv: str | None = None
    registry: str | None = None
    normalized: bool | None = None
    source: str | None = None
    _cache: dict[tuple[str, str | None], str | None] = field(default_factory=dict, repr=False)

    def level_for(self, rule: str, default: str, attribute: str | None) -> str | None:
        """The level a finding gets under this policy; None when the rule is switched off."""
        cache_key = (rule, attribute)
        if cache_key in self._cache:
            return self._cache[cache_key]
        level: str | None = default
        best = -1
        for rule_glob, attribute_glob, chosen in self.levels:
            if not fnmatch.fnmatchcase(rule, rule_glob):
                continue
            specificity = 0 if attribute_glob is None else 1
            if attribute_glob is not None and not (
                attribute is not None and fnmatch.fnmatchcase(attribute, attribute_glob)
            ):
                continue
            if specificity >= best:  # later entries of equal specificity win
                best = specificity
                level = None if chosen == OFF else chosen
        self._cache[cache_key] = level
        return level

    def required_for(self, span_type: str | None, operation: str | None) -> tuple[str, ...]:
        keys: list[str] = []
        for selector in ("*", span_type, operation):
            if selector is not None:
                keys.extend(self.require.get(selector, ()))
        return tuple(dict.fromkeys(keys))


def parse_policy(raw: Mapping[str, Any], source: str, known_rules: Iterable[str] = ()) -> Policy:
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(
            f"{source}: unknown validate setting(s): {', '.join(sorted(unknown))}",
            hint="allowed: " + ", ".join(sorted(_KEYS)),
        )
    rules = set(known_rules)
    policy = Policy(source=source)
    for selector in _strings(raw.get("ignore", []), source, "ignore"):
        policy.levels.append((*_selector(selector, rules, source), OFF))
    levels = raw.get("levels", {})
    if not isinstance(levels, Mapping):
        raise ConfigError(f"{source}: 'levels' must be a table of RULE = LEVEL")
    for selector, level in levels.items():
        if level not in (*LEVELS, OFF):
            raise ConfigError(
                f"{source}: level {level!r} for {selector!r} is not one of "
                + ", ".join((*LEVELS, OFF))
            )
        policy.levels.append((*_selector(selector, rules, source), level))
    require = raw.get("require", {})
    if not isinstance(require, Mapping):
        raise ConfigError(f"{source}: 'require' must be a table of SPAN_TYPE_OR_OPERATION = [keys]")
    for selector, keys in require.items():
        policy.require[str(selector)] = tuple(_strings(keys, source, f"require.{selector}"))
    fail_on = raw.get("fail_on")
    if fail_on is not None and fail_on not in (*LEVELS, "none"):
        raise ConfigError(f"{source}: fail_on {fail_on!r} is not one of {', '.join(LEVELS)}, none")
    policy.fail_on = fail_on
    policy.semconv = _optional_str(raw, "semconv", source)
    policy.registry = _optional_str(raw, "registry", source)
    if policy.registry and not Path(policy.registry).is_absolute():
        policy.registry = str(Path(source).parent / policy.registry)
    normalized = raw.get("normalized")
    if normalized is not None and not isinstance(normalized, bool):
        raise ConfigError(f"{source}: 'normalized' must be true or false")
    policy.normalized = normalized
    return policy


def _selector(text: str, rules: set[str], source: str) -> tuple[str, str | None]:
    rule, _, attribute = text.partition(":")
    if rules and not any(fnmatch.fnmatchcase(r, rule) for r in rules):
        raise ConfigError(
            f"{source}: no rule matches {rule!r}",
            hint="`otelcli validate --list-rules` shows the rule ids",
        )
    return rule, attribute or None


def _strings(value: Any, source: str, name: str) -> Sequence[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: '{name}' must be a list of strings")
    return value


def _optional_str(raw: Mapping[str, Any], key: str, source: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{source}: '{key}' must be a string")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _section(document: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    tool = document.get("tool", {}).get("otelcli", {})
    if isinstance(tool, Mapping) and "validate" in tool:
        section = tool["validate"]
    elif path.name != "pyproject.toml" and "validate" in document:
        section = document["validate"]
    else:
        return None
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: the validate section must be a table")
    return section


def find_config(start: Path) -> Path | None:
    """The nearest otelcli.toml, or pyproject.toml with a [tool.otelcli.validate] table."""
    for directory in (start, *start.parents):
        candidate = directory / "otelcli.toml"
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            # the project root: its policy, or none
            return pyproject if _section(_read_toml(pyproject), pyproject) is not None else None
    return None


def load_policy(
    config: str | None, cwd: Path | None = None, known_rules: Iterable[str] = ()
) -> Policy:
    """The policy from --config, else discovered from `cwd`; an empty policy when none."""
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"config file {config} not found")
    else:
        found = find_config(cwd or Path.cwd())
        if found is None:
            return Policy()
        path = found
    section = _section(_read_toml(path), path)
    if section is None:
        if config is not None:
            raise ConfigError(
                f"{path}: no [validate] or [tool.otelcli.validate] table",
                hint="put the settings under [validate] in otelcli.toml, or "
                "[tool.otelcli.validate] in pyproject.toml",
            )
        return Policy(source=str(path))
    return parse_policy(section, str(path), known_rules)
