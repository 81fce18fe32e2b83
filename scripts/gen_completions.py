"""Regenerate completions/ from the installed `otelcli` (run after changing commands)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMPLETIONS = Path(__file__).resolve().parents[1] / "completions"
FILES = {"bash": "otelcli.bash", "zsh": "_otelcli", "fish": "otelcli.fish"}


def render(shell: str) -> str:
    env = {**os.environ, "_OTELCLI_COMPLETE": f"source_{shell}"}
    code = "from otelcli.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() + "\n"


def main() -> None:
    COMPLETIONS.mkdir(exist_ok=True)
    for shell, name in FILES.items():
        (COMPLETIONS / name).write_text(render(shell))
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
