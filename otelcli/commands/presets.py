"""`otelcli presets`: the backends `--to` knows and the variables each one reads."""

from __future__ import annotations

from otelcli.commands._shared import (
    FormatOption,
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
)

app = command_app()


@app.command()
@guarded
def presets(fmt: FormatOption = "auto") -> None:
    """List the backend presets for --to, with the environment variables each one reads."""
    import os

    from otelcli.flows import presets as flow
    from otelcli.render.stats import presets_view

    out = make_output(check_format(fmt))
    finish(out, flow.run(os.environ), presets_view)
