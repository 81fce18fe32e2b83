"""Typed errors and the exit codes they map to.

Core modules raise these; only the CLI boundary turns them into output and an exit code.
The table of exit codes is part of the public contract (README "Exit codes").
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    INVALID = 3  # bad input file, or validation found problems
    REJECTED = 4  # the endpoint answered 4xx
    FAILED = 5  # the endpoint answered 5xx/429 until retries ran out
    NETWORK = 6  # connection error or timeout
    OUTPUT = 7  # an output (a -o/--save file, a report, stdout) could not be written
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2
    TERMINATED = 143  # SIGTERM: 128 + 15


class OtelcliError(Exception):
    """An expected failure: a stable code, a one-line message and a hint for the next step."""

    code = "error"
    exit_code = ExitCode.UNEXPECTED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "exit_code": int(self.exit_code),
        }


class UsageError(OtelcliError):
    code = "usage"
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    code = "config"


class InvalidInputError(OtelcliError):
    code = "invalid_input"
    exit_code = ExitCode.INVALID


class ValidationFailed(OtelcliError):
    code = "validation_failed"
    exit_code = ExitCode.INVALID


class EndpointRejected(OtelcliError):
    code = "endpoint_rejected"
    exit_code = ExitCode.REJECTED


class EndpointFailed(OtelcliError):
    code = "endpoint_failed"
    exit_code = ExitCode.FAILED


class Interrupted(OtelcliError):
    code = "interrupted"
    exit_code = ExitCode.INTERRUPTED


class Terminated(Interrupted):
    code = "terminated"
    exit_code = ExitCode.TERMINATED


class NetworkError(OtelcliError):
    code = "network_error"
    exit_code = ExitCode.NETWORK


class TlsSetupError(NetworkError):
    """The configured CA or client certificate cannot be used: no connection can be made."""

    code = "tls_config"


class OutputError(OtelcliError):
    """An output could not be written (full disk, file-size limit, no permission...)."""

    code = "output_failed"
    exit_code = ExitCode.OUTPUT

    def __init__(self, message: str, hint: str | None = None, path: str | None = None) -> None:
        super().__init__(message, hint)
        self.path = path  # "-" for standard output


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.UNEXPECTED: "unexpected error (a bug: re-run with --debug and report it)",
    ExitCode.USAGE: "usage error: bad option, argument or configuration",
    ExitCode.INVALID: "invalid input, or validation found problems at the --fail-on level",
    ExitCode.REJECTED: "the endpoint rejected the data (HTTP 4xx)",
    ExitCode.FAILED: "the endpoint kept failing (HTTP 429/5xx) until retries ran out",
    ExitCode.NETWORK: "network error or timeout (could not reach the endpoint, or no answer "
    "before the deadline)",
    ExitCode.OUTPUT: "cannot write the output: a -o/--save file, a report or stdout "
    "(full disk, file-size limit, permissions)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, SIGINT): stopped early, the summary says "
    "what was not sent",
    ExitCode.TERMINATED: "terminated (SIGTERM): stopped early, the summary says what was not sent",
}
