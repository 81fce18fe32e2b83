"""What every command shares: option types, global settings and the one error boundary.

Imported when a command loads: stdlib and typer only at module level.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from otelcli.errors import ExitCode, OtelcliError
from otelcli.global_options import global_options

if TYPE_CHECKING:
    from rich.console import RenderableType

    from otelcli.flows import Result
    from otelcli.render.output import Output
    from otelcli.transport.config import ExporterConfig

# Set by the test suite: unexpected exceptions propagate instead of becoming "exit 1".
RAISE_UNEXPECTED = "OTELCLI_RAISE_UNEXPECTED"

P = ParamSpec("P")
R = TypeVar("R")


def command_app() -> typer.Typer:
    """The Typer app of one command module (loaded lazily by the root group in cli.py)."""
    return typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)


def make_output(fmt: str = "auto") -> Output:
    from otelcli.render.output import Output

    return Output(format=fmt, color=global_options().color and not os.environ.get("NO_COLOR"))


def finish(out: Output, result: Result, view: Callable[[Any], RenderableType] | None) -> None:
    """How every command ends: its result as a table or JSON, then the exit status of its error."""
    out.data(result.to_dict(), view)
    error = result.error
    if error is not None:
        if not out.machine:
            out.error(error)
        raise typer.Exit(int(error.exit_code))


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """The error boundary: typed errors become a message (or JSON) and their exit code.

    Anything unexpected becomes one line and exit 1, unless --debug asks for the traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        fmt = str(kwargs.get("fmt") or "auto")
        debug = global_options().debug
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except OtelcliError as error:
            if debug:
                _print_traceback()  # --debug adds the traceback; the exit code stays the same
            make_output(fmt).error(error)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get(RAISE_UNEXPECTED):
                raise  # under test, a bug fails the test instead of becoming exit 1
            if debug:
                _print_traceback()
            unexpected = OtelcliError(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="re-run with --debug for the traceback, and please report it",
            )
            make_output(fmt).error(unexpected)
            raise typer.Exit(int(ExitCode.UNEXPECTED)) from None

    return wrapper


def _print_traceback() -> None:
    import traceback

    from otelcli.redact import redact_text

    sys.stderr.write(redact_text(traceback.format_exc()))


# -- option types shared by commands -----------------------------------------------------------

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        envvar="OTELCLI_FORMAT",
        help="Output: auto (a table on a terminal, JSON when piped), table, json or ndjson.",
    ),
]

InputsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Capture files (.pb .json .jsonl, length-prefixed, optionally .gz); - for stdin.",
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
CommandArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="A command to run with its OTLP exporters pointed at the receiver; "
        "otelcli stops when it exits.",
        show_default=False,
    ),
]


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


def check_format(fmt: str, allowed: tuple[str, ...] = ("auto", "table", "json", "ndjson")) -> str:
    if fmt not in allowed:
        from otelcli.errors import UsageError

        raise UsageError(f"--format {fmt!r} is not one of {', '.join(allowed)}")
    return fmt
