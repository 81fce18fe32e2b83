"""Known keys beyond the rule table and known-wrong values (otelcli/data/key_hints.json).

Keys the conventions gained after the packaged snapshot, what to use instead of keys real
libraries invent (a table of renames and semantic aliases: edit distance alone says
"cache_write? did you mean cache_read"), and the shapes of values known to be wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

# Python's repr of an exception class, as some libraries record error.type
_CLASS_REPR = re.compile(r"^<class '([\w.]+)'>$")


@dataclass(frozen=True)
class Upcoming:
    type: str
    note: str


@dataclass(frozen=True)
class KeyHints:
    upcoming: Mapping[str, Upcoming]
    exact: Mapping[str, str]
    prefixes: tuple[tuple[str, str], ...]  # longest first
    dated_model: re.Pattern[str]
    # key -> (values that SHOULD NOT be sent, why); values compared with their type
    discouraged: Mapping[str, tuple[tuple[Any, ...], str]] = field(default_factory=dict)

    def discouraged_value(self, key: str, value: Any) -> str | None:
        """Why this value SHOULD NOT be sent, or None."""
        found = self.discouraged.get(key)
        if found is None:
            return None
        values, note = found
        hit = any(type(v) is type(value) and v == value for v in values)
        return note if hit else None

    def hint(self, key: str) -> str | None:
        found = self.exact.get(key)
        if found is not None:
            return found
        return next((text for prefix, text in self.prefixes if key.startswith(prefix)), None)

    def is_dated(self, model: Any) -> bool:
        return isinstance(model, str) and self.dated_model.search(model) is not None


def class_repr(value: Any) -> str | None:
    """The class name inside "<class 'openai.RateLimitError'>", else None."""
    if not isinstance(value, str):
        return None
    match = _CLASS_REPR.match(value)
    return match.group(1) if match else None


def parse_hints(raw: Mapping[str, Any]) -> KeyHints:
    hints: Mapping[str, str] = raw.get("hints", {})
    prefixes = [(k[:-1], v) for k, v in hints.items() if k.endswith("*")]
    return KeyHints(
        upcoming={
            key: Upcoming(spec["type"], spec["note"])
            for key, spec in raw.get("upcoming", {}).items()
        },
        exact={k: v for k, v in hints.items() if not k.endswith("*")},
        prefixes=tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
        dated_model=re.compile(raw["dated_model"]),
        discouraged={
            key: (tuple(spec["values"]), spec["note"])
            for key, spec in raw.get("discouraged_values", {}).items()
        },
    )


@cache
def load_hints() -> KeyHints:
    text = resources.files("otelcli.data").joinpath("key_hints.json").read_text("utf-8")
    return parse_hints(json.loads(text))
