"""Options given before the command (`otelcli --debug ...`), kept on the root click context.

A module of its own so that start-up does not load the command option types.
"""

from __future__ import annotations

import os

import click


class GlobalOptions:
    def __init__(self, debug: bool = False, color: bool = True) -> None:
        self.debug = debug
        self.color = color


def global_options() -> GlobalOptions:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, GlobalOptions):
            return ctx.obj
        ctx = ctx.parent
    return GlobalOptions(debug=bool(os.environ.get("OTELCLI_DEBUG")))
