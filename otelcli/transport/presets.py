"""Backend presets (`--to NAME`): endpoint and auth header from each backend's own variables."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from otelcli.errors import ConfigError


@dataclass(frozen=True)
class PresetTarget:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    protocol: str | None = None  # a protocol the backend requires, if any


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    variables: str  # the environment variables it reads, for --help and errors
    build: Callable[[Mapping[str, str]], PresetTarget]


def _require(env: Mapping[str, str], preset: str, *names: str) -> list[str]:
    missing = [name for name in names if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(
            f"--to {preset}: {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set",
            hint=f"export {missing[0]}=... (see `otelcli presets` for what each backend needs)",
        )
    return [env[name].strip() for name in names]


def _base(env: Mapping[str, str], name: str, default: str) -> str:
    return (env.get(name, "").strip() or default).rstrip("/")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _local(env: Mapping[str, str]) -> PresetTarget:
    return PresetTarget("http://127.0.0.1:4318/v1/traces")


def _collector(env: Mapping[str, str]) -> PresetTarget:
    return PresetTarget(_base(env, "OTEL_COLLECTOR_URL", "http://localhost:4318") + "/v1/traces")


def _portkey(env: Mapping[str, str]) -> PresetTarget:
    (key,) = _require(env, "portkey", "PORTKEY_API_KEY")
    base = _base(env, "PORTKEY_BASE_URL", "https://api.portkey.ai/v1")
    return PresetTarget(base + "/otel/v1/traces", {"x-portkey-api-key": key})


def _langfuse(env: Mapping[str, str]) -> PresetTarget:
    public, secret = _require(env, "langfuse", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")
    host = (
        env.get("LANGFUSE_HOST", "").strip()
        or env.get("LANGFUSE_BASE_URL", "").strip()
        or "https://cloud.langfuse.com"
    ).rstrip("/")
    return PresetTarget(
        host + "/api/public/otel/v1/traces", {"authorization": _basic(public, secret)}
    )


def _openobserve(env: Mapping[str, str]) -> PresetTarget:
    user, token = _require(env, "openobserve", "OPENOBSERVE_USER", "OPENOBSERVE_TOKEN")
    base = _base(env, "OPENOBSERVE_URL", "http://localhost:5080")
    org = env.get("OPENOBSERVE_ORG", "").strip() or "default"
    headers = {"authorization": _basic(user, token)}
    if stream := env.get("OPENOBSERVE_STREAM", "").strip():
        headers["stream-name"] = stream
    return PresetTarget(f"{base}/api/{org}/v1/traces", headers)


def _langsmith(env: Mapping[str, str]) -> PresetTarget:
    (key,) = _require(env, "langsmith", "LANGSMITH_API_KEY")
    base = _base(env, "LANGSMITH_ENDPOINT", "https://api.smith.langchain.com")
    headers = {"x-api-key": key}
    if project := env.get("LANGSMITH_PROJECT", "").strip():
        headers["langsmith-project"] = project
    # LangSmith is documented for protobuf; JSON is not a safe choice there.
    return PresetTarget(base + "/otel/v1/traces", headers, protocol="http/protobuf")


def _phoenix(env: Mapping[str, str]) -> PresetTarget:
    base = _base(env, "PHOENIX_COLLECTOR_ENDPOINT", "http://localhost:6006")
    headers = {}
    if key := env.get("PHOENIX_API_KEY", "").strip():
        headers["authorization"] = f"Bearer {key}"
    if project := env.get("PHOENIX_PROJECT_NAME", "").strip():
        headers["x-project-name"] = project
    # Phoenix answers 415 to OTLP/JSON.
    return PresetTarget(base + "/v1/traces", headers, protocol="http/protobuf")


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("local", "otelcli tail / a local Collector on 127.0.0.1:4318", "-", _local),
        Preset("collector", "an OpenTelemetry Collector", "OTEL_COLLECTOR_URL", _collector),
        Preset(
            "portkey",
            "Portkey (x-portkey-api-key)",
            "PORTKEY_API_KEY, PORTKEY_BASE_URL",
            _portkey,
        ),
        Preset(
            "langfuse",
            "Langfuse (Basic auth from the key pair)",
            "LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, LANGFUSE_HOST",
            _langfuse,
        ),
        Preset(
            "openobserve",
            "OpenObserve (Basic auth, per organisation)",
            "OPENOBSERVE_USER, OPENOBSERVE_TOKEN, OPENOBSERVE_URL, OPENOBSERVE_ORG",
            _openobserve,
        ),
        Preset(
            "langsmith",
            "LangSmith (x-api-key)",
            "LANGSMITH_API_KEY, LANGSMITH_ENDPOINT, LANGSMITH_PROJECT",
            _langsmith,
        ),
        Preset(
            "phoenix",
            "Arize Phoenix (protobuf only)",
            "PHOENIX_COLLECTOR_ENDPOINT, PHOENIX_API_KEY, PHOENIX_PROJECT_NAME",
            _phoenix,
        ),
    )
}


def resolve_preset(name: str, env: Mapping[str, str]) -> PresetTarget:
    preset = PRESETS.get(name.lower())
    if preset is None:
        raise ConfigError(
            f"--to {name}: unknown backend preset",
            hint=f"choose one of: {', '.join(PRESETS)}",
        )
    return preset.build(env)
