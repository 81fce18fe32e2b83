"""The one error boundary: bugs become one line and exit 1 for users, and fail the tests here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult, make_request

Cli = Callable[..., CliResult]


def _capture(tmp_path: Path) -> str:
    path = tmp_path / "run.pb"
    with open_writer(str(path)) as writer:
        writer.write(make_request())
    return str(path)


def _break_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, batch: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("otelcli.otlp.stats.CaptureStats.add", boom)


def test_a_bug_is_one_line_and_exit_1_for_users(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_stats(monkeypatch)
    monkeypatch.delenv("OTELCLI_RAISE_UNEXPECTED")
    result = cli("stats", _capture(tmp_path), "-f", "json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["message"] == "unexpected RuntimeError: a bug"
    assert "--debug" in error["hint"]


def test_a_bug_raises_under_test(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _break_stats(monkeypatch)
    with pytest.raises(RuntimeError, match="a bug"):
        cli("stats", _capture(tmp_path), "-f", "json")
