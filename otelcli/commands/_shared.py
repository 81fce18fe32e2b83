"""What every command shares: option types, global settings and the one error boundary.

Imported when a command loads: stdlib and typer only at module level.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from typer.core import TyperCommand

from otelcli.choices import OUTPUT_FORMATS, complete
from otelcli.errors import ExitCode, OtelcliError
from otelcli.global_options import global_options

if TYPE_CHECKING:
    import click
    from rich.console import RenderableType

    from otelcli.flows import Result
    from otelcli.otlp.signals import Unused
    from otelcli.render.output import Output, Rows
    from otelcli.transport.config import ExporterConfig

# Set by the test suite: unexpected exceptions propagate instead of becoming "exit 1".
RAISE_UNEXPECTED = "OTELCLI_RAISE_UNEXPECTED"

P = ParamSpec("P")
R = TypeVar("R")


def command_app() -> typer.Typer:
    """The Typer app of one command module (loaded lazily by the root group in cli.py)."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)


def make_output(fmt: str = "auto", data_on_stdout: bool = False) -> Output:
    """The one Output of a run: --format, colour, --quiet and --verbose decided here."""
    from otelcli.render.output import Output

    options = global_options()
    color = options.color and not os.environ.get("NO_COLOR")
    return Output(
        format=fmt,
        color=color,
        data_on_stdout=data_on_stdout,
        quiet=options.quiet,
        verbose=options.verbose,
    )


def finish(
    out: Output,
    result: Result,
    view: Callable[[Any], RenderableType] | None,
    *,
    rows: Rows | None = None,
    report: bool = True,
) -> None:
    """How every command ends: its result as a table, JSON or its `rows` (ndjson, csv) unless
    `report` is off (a one-line notice said it), then the exit status of its error."""
    if report:
        out.data(result.to_dict(), view, rows)
    error = result.error
    if error is not None:
        if not (report and out.machine):  # a JSON report already carries its error
            out.error(error)
        raise typer.Exit(int(error.exit_code))


def note_unused(out: Output, unused: Unused, command: str) -> None:
    """One line on stderr for the batches of signals `command` does not use (and files in
    folders that are no captures): counted, never an error."""
    text = unused.describe(command)
    if text:
        out.notice(text)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """The error boundary: typed errors become a message (or JSON) and their exit code.

    Standard output is flushed here, so that a full disk behind it (`> /dev/full`) is an
    OutputError (exit 7) like any other output, never a message from Python at exit.
    Anything unexpected becomes one line and exit 1, unless --debug asks for the traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        fmt = str(kwargs.get("fmt") or "auto")
        debug = global_options().debug
        try:
            try:
                result = command(*args, **kwargs)
            except (typer.Exit, typer.Abort):
                _flush_stdout()
                raise
            _flush_stdout()
            return result
        except (typer.Exit, typer.Abort):
            raise
        except OtelcliError as error:
            if debug:
                _print_traceback()  # --debug adds the traceback; the exit code stays the same
            _fail(fmt, error)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            _stdout_failure()
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly.
            _silence_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:
            failure = _write_failure(exc)
            if failure is None and os.environ.get(RAISE_UNEXPECTED):
                raise  # under test, a bug fails the test instead of becoming exit 1
            if debug:
                _print_traceback()
            _fail(fmt, failure or _unexpected(exc))

    return wrapper


def _print_traceback() -> None:
    import traceback

    from otelcli.redact import redact_text

    sys.stderr.write(redact_text(traceback.format_exc()))


def _fail(fmt: str, error: OtelcliError) -> NoReturn:
    from otelcli.errors import OutputError

    if isinstance(error, OutputError) and error.path == "-":
        _silence_stdout()
        fmt = "table"  # stdout cannot take the error: it goes to stderr
    elif _stdout_failure() is not None:
        fmt = "table"
    try:
        make_output(fmt).error(error)
    except BrokenPipeError:
        _silence_stdout()
    except OSError:  # a JSON error for stdout that stdout cannot take: to stderr then
        _silence_stdout()
        make_output("table").error(error)
    raise typer.Exit(int(error.exit_code)) from None


def show_usage_error(error: Any, argv: list[str], file: Any = None) -> None:
    """A usage error of the CLI framework (a click.UsageError), shown as otelcli shows its
    own: in the format the command line asked for (JSON in the JSON modes)."""
    from otelcli.errors import UsageError

    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "otelcli"
    usage = UsageError(error.format_message(), hint=f"see `{where} --help`")
    try:
        make_output(_format_asked(argv)).error(usage)
    except OSError:
        _silence_stdout()


def _format_asked(argv: list[str]) -> str:
    """The --format a command line asks for, read before (or without) parsing it: its last
    --format/-f value, else OTELCLI_FORMAT; `table` when stdout carries data (`-o -`)."""
    fmt = os.environ.get("OTELCLI_FORMAT") or "auto"
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg in ("--format", "-f") and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg.startswith("--format="):
            fmt = arg.partition("=")[2]
        elif arg in ("-o", "--output") and argv[i + 1 : i + 2] == ["-"]:
            return "table"
    return fmt


def _unexpected(exc: Exception) -> OtelcliError:
    return OtelcliError(
        f"unexpected {type(exc).__name__}: {exc}",
        hint="re-run with --debug for the traceback, and please report it",
    )


_WRITE_ERRNOS = ("ENOSPC", "EDQUOT", "EFBIG")  # only writing fails so


def _write_failure(exc: Exception) -> OtelcliError | None:
    """An OSError that means an output could not be written, as an OutputError.

    Files otelcli writes raise OutputError themselves; such an error without a file name
    comes from standard output (a `print` or the rich console behind `> /dev/full`)."""
    import errno

    from otelcli.otlp.outfile import output_error

    broken = _stdout_failure()
    if broken is not None:
        return output_error("-", broken)
    codes = {getattr(errno, name, None) for name in _WRITE_ERRNOS}
    if isinstance(exc, OSError) and exc.errno in codes:
        if isinstance(exc.filename, str):
            return output_error(exc.filename, exc)
        return output_error("-", exc)
    return None


def finish_stdout(exc: OSError | None = None) -> None:
    """For what runs outside `guarded` (--help, --version): at exit, stdout that cannot be
    written (or `exc`, an error met writing it) is one line on stderr and exit 7."""
    error = _write_failure(exc) if exc is not None else None
    if error is None:
        failure = _stdout_failure()
        if failure is None:
            return
        from otelcli.otlp.outfile import output_error

        error = output_error("-", failure)
    _silence_stdout()
    try:
        make_output("table").error(error)
    except OSError:
        pass
    raise SystemExit(int(error.exit_code))


def _flush_stdout() -> None:
    """Flush standard output now: its failure is an OutputError, not a message at exit
    (a broken pipe is raised as it is: the caller stops quietly)."""
    failure = _stdout_failure(broken_pipe=True)
    if failure is not None:
        from otelcli.otlp.outfile import output_error

        raise output_error("-", failure)


def _stdout_failure(broken_pipe: bool = False) -> OSError | None:
    """The error flushing stdout raises, if any; then stdout is pointed at /dev/null so that
    Python's own flush at exit cannot fail again. A broken pipe is no failure (the reader
    left), raised only with `broken_pipe`."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        if broken_pipe:
            raise
        return None
    except OSError as exc:
        _silence_stdout()
        return exc
    except ValueError:  # closed
        return None
    return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.stdout.flush()  # what it still holds goes nowhere, quietly
    except (OSError, ValueError, AttributeError):
        pass


def _preset_names() -> list[str]:
    from otelcli.transport.presets import PRESETS

    return list(PRESETS)


# -- option types shared by commands -----------------------------------------------------------

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        envvar="OTELCLI_FORMAT",
        help="Output: auto (a table on a terminal, JSON when piped), table, json, ndjson "
        "(one table row per line) or csv (the same rows).",
        autocompletion=complete(OUTPUT_FORMATS),
    ),
]

InputsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Capture files of any signal (.pb .json .jsonl, length-prefixed, optionally .gz), "
        "folders of them; - for stdin.",
        show_default=False,
    ),
]

EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        "-e",
        help="OTLP/HTTP base URL (v1/traces is appended unless present). "
        "Default: OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, then http://localhost:4318.",
        rich_help_panel="Endpoint",
    ),
]
TracesEndpointOption = Annotated[
    str | None,
    typer.Option(
        "--traces-endpoint",
        help="Full traces URL, used as-is (like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).",
        rich_help_panel="Endpoint",
    ),
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="Backend preset: local, collector, portkey, langfuse, openobserve, langsmith, phoenix "
        "(endpoint and auth from its usual variables; see `otelcli presets`).",
        autocompletion=complete(_preset_names),
        rich_help_panel="Endpoint",
    ),
]
HeaderOption = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        help="Extra request header, 'Name: value' or name=value (repeatable).",
        rich_help_panel="Endpoint",
    ),
]
ProtocolOption = Annotated[
    str | None,
    typer.Option(
        "--protocol",
        help="http/protobuf (default) or http/json. Default: OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL.",
        rich_help_panel="Endpoint",
    ),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds per batch, retries included (0 = no limit). "
        "Default: OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT (milliseconds), then 10 s.",
        rich_help_panel="Endpoint",
    ),
]
CompressionOption = Annotated[
    str | None,
    typer.Option(
        "--compression",
        help="gzip or none. Default: OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION, then none.",
        rich_help_panel="Endpoint",
    ),
]
TlsNoVerifyOption = Annotated[
    bool,
    typer.Option(
        "--tls-no-verify",
        help="Do not verify the server's TLS certificate (test servers only).",
        rich_help_panel="Endpoint",
    ),
]


# -- receiver options (tail, capture) ----------------------------------------------------------

ListenOption = Annotated[
    str | None,
    typer.Option(
        "--listen",
        "-l",
        help="Where the OTLP/HTTP receiver listens: HOST:PORT, :PORT or PORT. Default "
        "127.0.0.1:4318, or a free port when a command is given after --.",
        rich_help_panel="Receiver",
    ),
]
AuthTokenOption = Annotated[
    str | None,
    typer.Option(
        "--auth-token",
        envvar="OTELCLI_AUTH_TOKEN",
        help="Require 'Authorization: Bearer TOKEN' (for a receiver reachable beyond loopback).",
        rich_help_panel="Receiver",
    ),
]
MaxBodyOption = Annotated[
    int,
    typer.Option(
        "--max-body-mib",
        min=1,
        help="Largest request body, before and after decompression (413 above it).",
        rich_help_panel="Receiver",
    ),
]
GrpcOption = Annotated[
    bool | None,
    typer.Option(
        "--grpc/--no-grpc",
        help="Also receive OTLP/gRPC (the Export services for traces, logs and metrics), for "
        "SDKs that default to gRPC. Default: on when grpcio is installed "
        "(pip install 'otelcli[grpc]').",
        show_default=False,
        rich_help_panel="Receiver",
    ),
]
GrpcListenOption = Annotated[
    str | None,
    typer.Option(
        "--grpc-listen",
        help="Where the OTLP/gRPC receiver listens: HOST:PORT, :PORT or PORT. Default: the "
        "--listen host on port 4317, or a free port when the HTTP one is (a command after --).",
        rich_help_panel="Receiver",
    ),
]
RunForOption = Annotated[
    float | None,
    typer.Option("--run-for", min=0, help="Stop after this many seconds (for scripts)."),
]


# -- a command to run, after -- (tail, capture, validate) --------------------------------------

_COMMAND_KEY = "otelcli.command"


class CommandAfterDashes(TyperCommand):
    """Everything after the first `--` is a command to run, never parsed as otelcli's options
    or arguments (`otelcli capture -o f.pb -- python -c ...` keeps `-c` for python)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[_COMMAND_KEY] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- COMMAND [ARGS]...]"]


def command_after_dashes(ctx: typer.Context) -> tuple[str, ...] | None:
    """The command given after `--` (None when there is no `--`)."""
    command = ctx.meta.get(_COMMAND_KEY)
    if command is None:
        return None
    if not command:
        from otelcli.errors import UsageError

        raise UsageError("no command after --", hint="e.g. -- python app.py")
    return tuple(command)


def exporter_config(
    endpoint: str | None,
    traces_endpoint: str | None,
    preset: str | None,
    headers: list[str] | None,
    protocol: str | None,
    timeout: float | None,
    compression: str | None,
    tls_no_verify: bool,
) -> ExporterConfig:
    """Resolve the endpoint flags of a sending command into an exporter configuration."""
    from otelcli.transport.config import resolve_exporter_config

    return resolve_exporter_config(
        endpoint=endpoint,
        traces_endpoint=traces_endpoint,
        preset=preset,
        headers=headers or (),
        protocol=protocol,
        timeout_s=timeout,
        compression=compression,
        tls_no_verify=tls_no_verify,
    )


def check_format(fmt: str, allowed: tuple[str, ...] | None = None) -> str:
    from otelcli.render.output import FORMATS

    allowed = allowed or FORMATS
    if fmt not in allowed:
        from otelcli.errors import UsageError

        raise UsageError(f"--format {fmt!r} is not one of {', '.join(allowed)}")
    return fmt
