"""The root command: global options and wiring. Logic lives in the command modules and the core."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from otelcli import __version__
from otelcli.global_options import global_options, log_to_stderr, verbosity_options

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
    "show": "otelcli.commands.show",
    "diff": "otelcli.commands.diff",
    "load": "otelcli.commands.load",
}


class LazyCommands(TyperGroup):
    argv: list[str] = []

    def main(self, args: Any = None, *more: Any, **options: Any) -> Any:
        self.argv = list(sys.argv[1:] if args is None else args)
        return super().main(args, *more, **options)

    def make_context(self, *args: Any, **options: Any) -> click.Context:
        with _usage_errors(self.argv):
            return super().make_context(*args, **options)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors(self.argv):
            return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(module_name)
        command = typer.main.get_command(module.app)
        command.name = cmd_name
        _add_verbosity(command)
        return command

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        known = {name for param in params for name in param.opts}
        return [*params, *(o for o in verbosity_options() if o.opts[0] not in known)]


@contextmanager
def _usage_errors(argv: list[str]) -> Iterator[None]:
    """Usage errors the CLI framework finds (unknown option, bad value) are shown like
    otelcli's own: one line and a hint, JSON in the JSON modes."""
    try:
        yield
    except click.UsageError as exc:
        from otelcli.commands._shared import show_usage_error

        exc.show = functools.partial(show_usage_error, exc, argv)  # type: ignore[method-assign]
        raise


def _add_verbosity(command: click.Command) -> None:
    """Every command (and its subcommands) takes --quiet and --verbose; --signal completes.
    (File names need nothing: where no value is offered, the shell scripts offer files.)"""
    known = {name for param in command.params for name in param.opts}
    command.params.extend(o for o in verbosity_options() if o.opts[0] not in known)
    for param in command.params:
        if param._custom_shell_complete is None and "--signal" in param.opts:
            param._custom_shell_complete = _signals
    for sub in getattr(command, "commands", {}).values():
        _add_verbosity(sub)


def _signals(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from otelcli.choices import SIGNALS

    return [name for name in SIGNALS if name.startswith(incomplete)]


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
    options = global_options(ctx)  # --quiet / --verbose may already be on it
    options.debug, options.color = debug, not no_color
    if debug:
        log_to_stderr(debug=True)


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
