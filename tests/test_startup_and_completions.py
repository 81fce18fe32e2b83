"""Start-up stays lean, and the committed completion scripts match the app."""

from __future__ import annotations

import os
import re
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


def complete(shell: str, line: str) -> tuple[str, set[str]]:
    """What a shell's completion script gets for the command line `line` (cursor at its end)."""
    words = line.split()
    env = {"_OTELCLI_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    if shell == "bash":
        cword = len(words) if line.endswith(" ") else len(words) - 1
        env = {"_OTELCLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return loaded_modules(env=env)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("otelcli send --scenario ", {"chat", "agent", "rag", "embeddings", "stream", "gemini"}),
        ("otelcli send --dialect open", {"openinference", "openllmetry", "openlit"}),
        ("otelcli send --to lang", {"langfuse", "langsmith"}),
        ("otelcli stats x.pb --format ", {"auto", "table", "json", "ndjson", "csv"}),
        ("otelcli cost x.pb -f h", {"html"}),
        ("otelcli validate x.pb -f j", {"json", "junit"}),
        ("otelcli tail -f l", {"live"}),
    ],
)
def test_option_values_complete_without_heavy_imports(
    shell: str, line: str, expected: set[str]
) -> None:
    output, modules = complete(shell, line)
    offered = set(re.findall(r"[a-z][a-z-]+", output)) if shell == "zsh" else set(output.split())
    assert expected <= offered, output
    if shell != "zsh":
        assert offered == expected or line.endswith(" "), output  # only what was typed matches
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], heavy


def test_file_arguments_leave_completion_to_the_shell() -> None:
    # nothing offered: bash's `-o default` and zsh's _files complete file names
    bash, _ = complete("bash", "otelcli stats ")
    assert bash.strip() == ""
    zsh, _ = complete("zsh", "otelcli cost run.pb --enrich -o ")
    assert zsh.strip() == "_files"
