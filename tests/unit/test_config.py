"""Exporter configuration follows the OTel environment-variable spec exactly."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from otelcli.errors import ConfigError
from otelcli.transport.config import ExporterConfig, resolve_exporter_config, resource_from_env


def resolve(env: dict[str, str], **flags: Any) -> ExporterConfig:
    return resolve_exporter_config(env=env, **flags)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://localhost:4318/v1/traces"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
            "http://collector:4318/v1/traces",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://host/api/public/otel/"},
            "https://host/api/public/otel/v1/traces",
        ),
        # The signal endpoint is used as-is; an empty path becomes "/" (spec, example 2).
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318"}, "http://collector:4318/"),
        (
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/custom/path",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318",
            },
            "http://c:4318/custom/path",
        ),
    ],
)
def test_endpoint_rules(env: dict[str, str], expected: str) -> None:
    assert resolve(env).endpoint == expected


def test_flags_win_over_environment() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
    }
    config = resolve(
        env,
        endpoint="http://flag:9999",
        protocol="http/protobuf",
        timeout_s=3.0,
        compression="none",
    )
    assert config.endpoint == "http://flag:9999/v1/traces"
    assert config.protocol == "http/protobuf"
    assert config.timeout_s == 3.0
    assert config.compression == "none"
    env_only = resolve(env)
    assert env_only.protocol == "http/json"
    assert env_only.timeout_s == 2.5  # milliseconds, not seconds
    assert env_only.compression == "gzip"


def test_flag_endpoint_with_full_path_is_kept() -> None:
    config = resolve({}, endpoint="http://h:4318/v1/traces")
    assert config.endpoint == "http://h:4318/v1/traces"


def test_traces_specific_variables_win() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0",
        "OTEL_EXPORTER_OTLP_HEADERS": "a=1,b=2",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=3",
    }
    config = resolve(env)
    assert config.timeout_s is None  # 0 = no limit
    assert config.headers == {"a": "1", "b": "3"}


def test_headers_are_percent_decoded_and_keep_raw_base64() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20dXNlcjpwYXNz,"
        "x-raw=Basic abc+/==, x-space = v "
    }
    config = resolve(env, headers=["X-Flag: 1", "other=two"])
    assert config.headers == {
        "authorization": "Basic dXNlcjpwYXNz",
        "x-raw": "Basic abc+/==",
        "x-space": "v",
        "x-flag": "1",
        "other": "two",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "milliseconds"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "not gRPC"),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "not one of"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "not key=value"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "not an http"),
    ],
)
def test_bad_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(env)


def test_tls_files_and_verification() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/client.pem",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/client.key",
    }
    config = resolve(env, tls_no_verify=True)
    assert (config.certificate, config.client_certificate, config.client_key) == (
        "/ca.pem",
        "/client.pem",
        "/client.key",
    )
    assert config.verify_tls is False


def test_langfuse_preset_builds_basic_auth() -> None:
    env = {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-1",
        "LANGFUSE_SECRET_KEY": "sk-lf-2",
        "LANGFUSE_HOST": "https://us.cloud.langfuse.com/",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=other-backend-secret",
    }
    config = resolve(env, preset="langfuse")
    assert config.endpoint == "https://us.cloud.langfuse.com/api/public/otel/v1/traces"
    expected = "Basic " + base64.b64encode(b"pk-lf-1:sk-lf-2").decode()
    # The preset's auth, never another backend's header from the OTLP variables.
    assert config.headers == {"authorization": expected}


@pytest.mark.parametrize(
    ("preset", "env", "url", "header"),
    [
        (
            "portkey",
            {"PORTKEY_API_KEY": "pk"},
            "https://api.portkey.ai/v1/otel/v1/traces",
            ("x-portkey-api-key", "pk"),
        ),
        (
            "langsmith",
            {"LANGSMITH_API_KEY": "ls"},
            "https://api.smith.langchain.com/otel/v1/traces",
            ("x-api-key", "ls"),
        ),
        (
            "openobserve",
            {
                "OPENOBSERVE_USER": "u@x",
                "OPENOBSERVE_TOKEN": "t",
                "OPENOBSERVE_URL": "http://oo:5080",
                "OPENOBSERVE_ORG": "acme",
            },
            "http://oo:5080/api/acme/v1/traces",
            ("authorization", "Basic " + base64.b64encode(b"u@x:t").decode()),
        ),
        ("phoenix", {}, "http://localhost:6006/v1/traces", None),
        ("local", {}, "http://127.0.0.1:4318/v1/traces", None),
    ],
)
def test_presets(
    preset: str, env: dict[str, str], url: str, header: tuple[str, str] | None
) -> None:
    config = resolve(env, preset=preset)
    assert config.endpoint == url
    if header:
        assert config.headers[header[0]] == header[1]


def test_phoenix_takes_protobuf_and_says_so_before_sending() -> None:
    assert resolve({}, preset="phoenix").protocol == "http/protobuf"
    with pytest.raises(ConfigError, match=r"--to phoenix takes http/protobuf only.*PROTOCOL\)"):
        resolve({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, preset="phoenix")
    with pytest.raises(ConfigError, match=r"not http/json \(from --protocol\)") as raised:
        resolve({}, preset="phoenix", protocol="http/json")
    assert raised.value.hint == "drop --protocol, or set it to http/protobuf"
    assert resolve({}, preset="local", protocol="http/json").protocol == "http/json"


def test_preset_names_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match="LANGFUSE_SECRET_KEY is not set"):
        resolve({"LANGFUSE_PUBLIC_KEY": "pk"}, preset="langfuse")
    with pytest.raises(ConfigError, match="unknown backend preset"):
        resolve({}, preset="nowhere")


def test_endpoint_flag_overrides_preset_url_but_keeps_auth() -> None:
    config = resolve(
        {"PORTKEY_API_KEY": "k"}, preset="portkey", endpoint="http://self-hosted:8787/v1/otel"
    )
    assert config.endpoint == "http://self-hosted:8787/v1/otel/v1/traces"
    assert config.headers == {"x-portkey-api-key": "k"}


def test_resource_from_env() -> None:
    attrs, warnings = resource_from_env(
        {
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,"
            "deployment.environment.name=dev%2Cx",
            "OTEL_SERVICE_NAME": "wins",
        }
    )
    assert attrs == {"service.name": "wins", "deployment.environment.name": "dev,x"}
    assert warnings == []
    attrs, warnings = resource_from_env({"OTEL_RESOURCE_ATTRIBUTES": "a=1,broken"})
    assert attrs == {} and "ignored" in warnings[0]
