"""`otelcli presets`: the backends `--to` knows and the variables each one reads."""

from __future__ import annotations

from typing import Any

from otelcli.commands._shared import FormatOption, check_format, command_app, guarded, make_output

app = command_app()


@app.command()
@guarded
def presets(fmt: FormatOption = "auto") -> None:
    """List the backend presets for --to, with the environment variables each one reads."""
    import os

    from otelcli.errors import OtelcliError
    from otelcli.redact import redact_headers, redact_url
    from otelcli.transport.presets import PRESETS

    out = make_output(check_format(fmt))
    rows = []
    for preset in PRESETS.values():
        row: dict[str, Any] = {
            "name": preset.name,
            "description": preset.description,
            "variables": preset.variables,
        }
        try:
            target = preset.build(os.environ)
            row.update(
                ready=True, endpoint=redact_url(target.url), headers=redact_headers(target.headers)
            )
        except OtelcliError as missing:
            row.update(ready=False, endpoint=None, missing=missing.message)
        rows.append(row)
    out.data(rows, _view)


def _view(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="--to presets", title_justify="left")
    for column in ("preset", "backend", "reads", "endpoint now"):
        table.add_column(column)
    for row in rows:
        endpoint = row["endpoint"] or f"[yellow]{row['missing']}[/]"
        table.add_row(row["name"], row["description"], row["variables"], endpoint)
    return table
