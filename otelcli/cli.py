"""The root command: global options and wiring. Logic lives in the command modules and the core."""

from __future__ import annotations

import importlib
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from otelcli import __version__
from otelcli.global_options import GlobalOptions

# name -> module defining `app`. Modules are imported only when their command runs (or for
# --help), so start-up and TAB completion cost the same however many commands there are.
COMMANDS: dict[str, str] = {
    "stats": "otelcli.commands.stats",
    "convert": "otelcli.commands.convert",
    "presets": "otelcli.commands.presets",
    "replay": "otelcli.commands.replay",
    "send": "otelcli.commands.send",
    "cost": "otelcli.commands.cost",
    "portkey": "otelcli.commands.portkey",
    "tail": "otelcli.commands.tail",
    "capture": "otelcli.commands.capture",
    "validate": "otelcli.commands.validate",
    "normalize": "otelcli.commands.normalize",
    "load": "otelcli.commands.load",
}


class LazyCommands(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(module_name)
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        return command


app = typer.Typer(
    name="otelcli",
    cls=LazyCommands,
    help="OpenTelemetry for LLM applications, from the terminal: send, replay, validate, price "
    "and tail GenAI traces over OTLP.",
    epilog="Exit codes: 0 ok, 1 unexpected, 2 usage, 3 invalid input / validation failed, "
    "4 endpoint rejected (4xx), 5 endpoint failed (5xx/429 after retries), 6 network/timeout, "
    "7 cannot write the output, 130 interrupted (SIGINT), 143 terminated (SIGTERM).",
    no_args_is_help=True,
    # Plain help keeps rich off the start-up path; errors are rendered by otelcli itself.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"otelcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="OTELCLI_DEBUG",
            help="Show tracebacks and (redacted) request details on stderr.",
        ),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also when NO_COLOR is set).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(debug=debug, color=not no_color)
    if debug:
        import logging
        import sys

        from otelcli.redact import redact_text

        class RedactingFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return redact_text(super().format(record))

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(RedactingFormatter("debug: %(name)s: %(message)s"))
        logger = logging.getLogger("otelcli")
        logger.handlers = [handler]  # one per run, on this run's stderr
        logger.setLevel(logging.DEBUG)
        logger.propagate = False


def main() -> None:
    from otelcli.commands._shared import finish_stdout

    try:
        app(prog_name="otelcli")
    except SystemExit:
        finish_stdout()  # --help or --version behind a full disk: exit 7, one line
        raise
    except OSError as exc:
        finish_stdout(exc)
        raise
