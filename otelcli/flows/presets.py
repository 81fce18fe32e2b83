"""`otelcli presets`: the backends `--to` knows, and whether their variables are set here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import OtelcliError
from otelcli.redact import redact_headers, redact_url
from otelcli.transport.presets import PRESETS


@dataclass
class PresetsResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: OtelcliError | None = None

    def to_dict(self) -> list[dict[str, Any]]:
        return self.rows


def run(env: Mapping[str, str]) -> PresetsResult:
    result = PresetsResult()
    for preset in PRESETS.values():
        row: dict[str, Any] = {
            "name": preset.name,
            "description": preset.description,
            "variables": preset.variables,
        }
        try:
            target = preset.build(env)
            row.update(
                ready=True, endpoint=redact_url(target.url), headers=redact_headers(target.headers)
            )
        except OtelcliError as missing:
            row.update(ready=False, endpoint=None, missing=missing.message)
        result.rows.append(row)
    return result
