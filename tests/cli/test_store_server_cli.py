"""The server path: the same SQL through clickhouse-connect, against a loopback ClickHouse HTTP
interface (tests/clickhouse_server.py, the real engine behind it) that can also refuse."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("chdb")
pytest.importorskip("clickhouse_connect")

from tests.clickhouse_server import fake_clickhouse  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CAPTURES = [
    str(REPO / "tests" / "data" / "corpus" / "runs" / run / "traces.jsonl")
    for run in ("openlit", "double-anthropic-sdk-traceloop")
]
PASSWORD = "s3cret-pass-word"


def _run(cli: Callable[..., Any], *args: str) -> Any:
    return cli(*args, env={"CLICKHOUSE_PASSWORD": PASSWORD})


def test_load_and_cost_through_a_server(cli: Callable[..., Any]) -> None:
    with fake_clickhouse() as (port, server):
        url = f"clickhouse://alice@127.0.0.1:{port}/default"
        loaded = _run(cli, "load", *CAPTURES, "--into", url, "-f", "json")
        assert loaded.exit_code == 0, loaded.stdout + loaded.stderr
        report = json.loads(loaded.stdout)
        assert report["inserted"] == report["spans_read"] > 0
        assert report["store"] == f"clickhouse://127.0.0.1:{port}/default"
        priced = _run(cli, "cost", "--from", url, "--by", "model", "-f", "json")
        assert priced.exit_code == 0, priced.stderr
        assert any("GROUP BY" in q for q in server.queries)
    from_files = cli("cost", *CAPTURES, "--by", "model", "-f", "json")
    server_report, file_report = json.loads(priced.stdout), json.loads(from_files.stdout)
    assert server_report["total"] == file_report["total"]
    assert server_report["set_aside"]["count"] == file_report["set_aside"]["count"]
    assert PASSWORD not in loaded.stdout + priced.stdout + priced.stderr


def test_a_refused_password_is_exit_4_and_never_shown(cli: Callable[..., Any]) -> None:
    with fake_clickhouse(refuse_auth=True) as (port, _):
        url = f"clickhouse://alice:{PASSWORD}@127.0.0.1:{port}/default"
        result = cli("--debug", "cost", "--from", url, "-f", "table")
    assert result.exit_code == 4, result.stderr
    assert "authentication failed" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_server_query_errors_are_one_line(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_clickhouse() as (port, _):
        url = f"clickhouse://127.0.0.1:{port}/default"
        assert _run(cli, "load", CAPTURES[0], "--into", url, "-f", "json").exit_code == 0
        syntax = _run(cli, "cost", "--from", url, "--where", "SpanName ==", "-f", "table")
        missing = _run(cli, "cost", "--from", url, "--table", "nope", "-f", "table")
        monkeypatch.setenv("OTELCLI_STORE_TIMEOUT", "1")
        endless = "(SELECT sum(cityHash64(number)) FROM numbers(100000000000)) > 0"
        slow = _run(cli, "cost", "--from", url, "--where", endless, "-f", "table")
    assert syntax.exit_code == 2 and "Syntax error" in syntax.stderr, syntax.stderr
    assert missing.exit_code == 2 and "nope" in missing.stderr, missing.stderr
    assert slow.exit_code == 6 and "ran out of time" in slow.stderr, slow.stderr
    for result in (syntax, missing, slow):
        assert len(result.stderr.strip().splitlines()) == 2  # the error and its hint


def test_no_server_listening_is_exit_6(cli: Callable[..., Any]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("cost", "--from", f"clickhouse://127.0.0.1:{port}/default", "-f", "table")
    assert result.exit_code == 6, result.stderr
    assert "cannot connect" in result.stderr
