"""Secrets are masked by name and by value wherever otelcli shows them."""

from __future__ import annotations

import io

from otelcli.redact import (
    REDACTED,
    redact_headers,
    redact_text,
    redact_url,
    remember_headers,
    remember_secret,
    remember_url,
)
from otelcli.render.output import Output
from otelcli.transport.config import resolve_exporter_config


def test_short_query_names_that_carry_credentials_are_masked() -> None:
    url = "https://h.example/v1/traces?key=AIzaXYZ&sig=abc%2Fdef&code=4/0Ab&region=eu"
    shown = redact_url(url)
    assert "AIzaXYZ" not in shown and "abc%2Fdef" not in shown and "4/0Ab" not in shown
    assert "region=eu" in shown


def test_configured_header_values_are_masked_by_value_everywhere() -> None:
    remember_headers({"x-honeycomb-team": "hcteam-9f8e7d", "authorization": "Bearer tok-123456"})
    echoed = "400: bad request; got headers x-honeycomb-team=hcteam-9f8e7d, token tok-123456"
    assert (
        redact_text(echoed) == f"400: bad request; got headers x-honeycomb-team={REDACTED}, "
        f"token {REDACTED}"
    )
    assert redact_headers({"x-honeycomb-team": "hcteam-9f8e7d", "x-other": "plain"}) == {
        "x-honeycomb-team": REDACTED,
        "x-other": "plain",
    }


def test_short_values_are_not_masked_in_free_text() -> None:
    remember_secret("1")
    remember_secret("true")
    assert redact_text("1 true") == "1 true"


def test_url_credentials_are_remembered() -> None:
    remember_url("https://user:hunter2-pass@h.example/?api_key=k-000111&x=1")
    assert redact_text("hunter2-pass and k-000111") == f"{REDACTED} and {REDACTED}"


def test_exporter_config_remembers_every_header_source() -> None:
    resolve_exporter_config(
        headers=["X-Custom-Auth: custom-credential"],
        env={"OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=tenant%2Dsecret-value"},
    )
    text = "custom-credential tenant-secret-value"
    assert redact_text(text) == f"{REDACTED} {REDACTED}"


def test_output_masks_tables_json_notices_and_errors() -> None:
    remember_secret("s3cr3t-value")
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(format="json", stdout=stdout, stderr=stderr)
    out.data({"message": "server echoed s3cr3t-value"})
    out.notice("note s3cr3t-value")
    out.text("text s3cr3t-value")
    assert "s3cr3t-value" not in stdout.getvalue() + stderr.getvalue()
    assert stdout.getvalue().count(REDACTED) == 2
