"""Options given before the command (`otelcli --debug ...`), kept on the root click context.

A module of its own so that start-up does not load the command option types.
"""

from __future__ import annotations

import os

import click


class GlobalOptions:
    def __init__(
        self, debug: bool = False, color: bool = True, quiet: bool = False, verbose: bool = False
    ) -> None:
        self.debug = debug
        self.color = color
        self.quiet = quiet
        self.verbose = verbose


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and param.name:
        options = global_options(ctx)
        setattr(options, param.name, True)
        if param.name == "verbose" and not options.debug:
            log_to_stderr(debug=False)


def log_to_stderr(debug: bool) -> None:
    """otelcli's log on this run's stderr, secrets masked: what each step did (--verbose), and
    request details too (--debug)."""
    import logging
    import sys

    from otelcli.redact import redact_text

    class RedactingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact_text(super().format(record))

    handler = logging.StreamHandler(sys.stderr)
    prefix = "debug: %(name)s: " if debug else "otelcli: "
    handler.setFormatter(RedactingFormatter(prefix + "%(message)s"))
    logger = logging.getLogger("otelcli")
    logger.handlers = [handler]  # one per run, on this run's stderr
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


def verbosity_options() -> list[click.Option]:
    """--quiet and --verbose, given to the root and to every command (`otelcli cost -q ...`)."""
    return [
        click.Option(
            ["--quiet", "-q"],
            is_flag=True,
            expose_value=False,
            callback=_set_flag,
            help="Only data and errors: no notices, warnings or progress on stderr.",
        ),
        click.Option(
            ["--verbose", "-v"],
            is_flag=True,
            expose_value=False,
            callback=_set_flag,
            help="Also details: retries, batch splits and what each step did.",
        ),
    ]


def global_options(current: click.Context | None = None) -> GlobalOptions:
    """The run's options, kept on the root context (made there on first use)."""
    current = current or click.get_current_context(silent=True)
    ctx = current
    while ctx is not None:
        if isinstance(ctx.obj, GlobalOptions):
            return ctx.obj
        ctx = ctx.parent
    options = GlobalOptions(debug=bool(os.environ.get("OTELCLI_DEBUG")))
    if current is not None:
        current.find_root().obj = options  # flags met later find it there
    return options
