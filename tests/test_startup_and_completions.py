"""Start-up stays lean, and the committed completion scripts match the app."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

HEAVY = ("httpx", "google.protobuf", "rich", "opentelemetry", "orjson", "pydantic", "grpc")

PROBE = """
import sys
sys.argv = ["otelcli", *sys.argv[1:]]
from otelcli.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES:" + ",".join(sorted(sys.modules)))
"""


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    output, _, modules = result.stdout.rpartition("MODULES:")
    return output, set(modules.strip().split(","))


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--version",), {}),
        (("--help",), {}),
        (("stats", "--help"), {}),
        (("tail", "--help"), {}),
        ((), {"_OTELCLI_COMPLETE": "complete_bash", "COMP_WORDS": "otelcli st", "COMP_CWORD": "1"}),
    ],
    ids=["version", "help", "command-help", "tail-help", "completion"],
)
def test_start_up_imports_nothing_heavy(args: tuple[str, ...], env: dict[str, str]) -> None:
    output, modules = loaded_modules(*args, env=env)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert heavy == [], heavy
    assert output.strip(), "the probe printed nothing: did the command run?"


def test_completion_request_answers() -> None:
    output, _ = loaded_modules(
        env={"_OTELCLI_COMPLETE": "complete_bash", "COMP_WORDS": "otelcli con", "COMP_CWORD": "1"}
    )
    assert output.split() == ["convert"]


def test_version_via_python_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "otelcli", "--version"], capture_output=True, text=True, check=True
    )
    from otelcli import __version__

    assert result.stdout.strip() == f"otelcli {__version__}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_current(shell: str) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from gen_completions import FILES, render
    finally:
        sys.path.pop(0)
    committed = (REPO / "completions" / FILES[shell]).read_text()
    assert render(shell) == committed, "run `python scripts/gen_completions.py`"
