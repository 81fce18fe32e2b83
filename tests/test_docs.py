"""README stays true: exit codes match the code, and it opens with the two set-up commands."""

from __future__ import annotations

import re

from otelcli.errors import EXIT_CODE_MEANINGS, ExitCode
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_exit_code_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.MULTILINE))
    assert {int(code): text for code, text in rows.items()} == {
        int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()
    }
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)


def test_readme_opens_with_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.+?)\n```", README, flags=re.DOTALL)
    assert len(blocks) >= 2
    install_and_run, run_tests = blocks[0], blocks[1]
    assert "pip install" in install_and_run and "otelcli" in install_and_run
    assert "pytest" in run_tests
    assert README.index("```bash") < README.index("\n## ")


def test_every_command_is_in_the_readme() -> None:
    from otelcli.cli import COMMANDS

    missing = [name for name in COMMANDS if f"otelcli {name}" not in README]
    assert missing == []
