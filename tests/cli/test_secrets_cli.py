"""Secrets given to otelcli never come back out, whatever path they would take."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.receiver import Received, RecordingReceiver, Reply

Cli = Callable[..., CliResult]
Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]


def test_debug_masks_custom_auth_headers_by_value(cli: Cli, receiver: RecordingReceiver) -> None:
    result = cli(
        "--debug", "send", "-e", receiver.base_url, "-H", "X-Honeycomb-Team: hc-team-key-777",
        "--scenario", "chat", "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert receiver.requests[0].headers["x-honeycomb-team"] == "hc-team-key-777"
    assert "POST " in result.stderr
    assert "hc-team-key-777" not in result.stderr + result.stdout


def test_url_key_parameters_are_masked_in_normal_output(
    cli: Cli, receiver: RecordingReceiver
) -> None:
    url = receiver.url + "?key=AIzaSyD-secret&sig=sv-signature&code=oauth-code-1"
    result = cli("send", "--traces-endpoint", url, "--scenario", "chat", "-f", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)["endpoint"]
    assert "key=***" in shown and "sig=***" in shown and "code=***" in shown
    for secret in ("AIzaSyD-secret", "sv-signature", "oauth-code-1"):
        assert secret not in result.stdout + result.stderr


def test_an_error_body_echoing_the_request_headers_is_masked(
    cli: Cli, scripted_receiver: Start
) -> None:
    def echo(received: Received, index: int) -> Reply:
        dump = "; ".join(f"{k}: {v}" for k, v in received.headers.items())
        return Reply(400, {"content-type": "text/plain"}, f"bad request. you sent {dump}".encode())

    receiver = scripted_receiver(echo)
    for fmt in ("json", "table"):
        result = cli(
            "send", "-e", receiver.base_url, "-H", "x-tenant-auth: tenant-secret-99",
            "--scenario", "chat", "-f", fmt,
        )  # fmt: skip
        assert result.exit_code == 4, result.stdout + result.stderr
        assert "bad request" in result.stdout + result.stderr
        assert "tenant-secret-99" not in result.stdout + result.stderr


def test_debug_keeps_the_exit_code_and_adds_a_traceback(cli: Cli, scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda received, index: Reply(400))
    result = cli("--debug", "send", "-e", receiver.base_url, "--scenario", "chat", "-f", "json")
    assert result.exit_code == 4
    assert "Traceback" not in result.stdout
    error = json.loads(result.stdout.strip().splitlines()[-1])
    assert error["error"]["exit_code"] == 4


def test_debug_on_an_error_raised_by_the_core_keeps_its_code(cli: Cli, tmp_path: Path) -> None:
    result = cli("--debug", "stats", str(tmp_path / "missing.pb"), "-f", "json")
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert json.loads(result.stdout)["error"]["code"] == "invalid_input"


def test_missing_or_invalid_ca_file_is_a_tls_config_error(
    cli: Cli, receiver: RecordingReceiver, tmp_path: Path
) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    for ca in (str(tmp_path / "missing.pem"), str(garbage)):
        result = cli(
            "send", "-e", receiver.base_url.replace("http:", "https:"), "--scenario", "chat",
            "-f", "json", env={"OTEL_EXPORTER_OTLP_CERTIFICATE": ca},
        )  # fmt: skip
        assert result.exit_code == 6, result.stdout
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "tls_config"
        assert "OTEL_EXPORTER_OTLP_CERTIFICATE" in error["hint"]
