"""Exporter configuration.

Precedence: flags > OTEL_EXPORTER_OTLP_TRACES_* > OTEL_EXPORTER_OTLP_* > preset > default.

Follows the OTel SDK environment-variable spec exactly: the general endpoint gets `v1/traces`
appended, the traces endpoint is used as-is (and so are the LOGS and METRICS ones, each with
its own _HEADERS on top of the general ones; without them logs and metrics go beside the traces
URL), headers are W3C-baggage-style `k=v,k=v` with
percent-decoding, the timeout is integer milliseconds (0 = no limit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from otelcli.errors import ConfigError
from otelcli.redact import redact_url, remember_headers, remember_url

if TYPE_CHECKING:
    from otelcli.otlp.signals import Signal

DEFAULT_ENDPOINT = "http://localhost:4318/"
DEFAULT_TIMEOUT_S = 10.0
PROTOCOLS = ("http/protobuf", "http/json")
COMPRESSIONS = ("gzip", "none")


@dataclass(frozen=True)
class ExporterConfig:
    endpoint: str
    protocol: str = "http/protobuf"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = DEFAULT_TIMEOUT_S  # one deadline per batch, retries included
    compression: str = "none"
    certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    verify_tls: bool = True
    endpoint_source: str = "default"  # which setting the endpoint came from, for messages
    preset: str | None = None  # the --to backend, whose own variables carry the auth
    # logs/metrics URL and headers from their own variables; otherwise beside the traces URL
    signal_targets: dict[str, tuple[str, dict[str, str], str]] = field(default_factory=dict)

    def for_signal(self, signal: Signal) -> ExporterConfig:
        """This configuration as the exporter of `signal` uses it: the one place deciding it."""
        if signal.value == "traces":
            return self
        url, headers, source = self.signal_targets.get(signal.value, ("", self.headers, ""))
        return replace(
            self,
            endpoint=url or signal_endpoint(self.endpoint, signal),
            headers=headers,
            endpoint_source=source or self.endpoint_source,
            signal_targets={},
        )

    @property
    def content_type(self) -> str:
        return "application/json" if self.protocol == "http/json" else "application/x-protobuf"


def signal_url(base: str, signal: str = "traces") -> str:
    """The general endpoint rule: make sure the base ends with '/' and append v1/<signal>."""
    return (base if base.endswith("/") else base + "/") + "v1/" + signal


def signal_endpoint(traces_url: str, signal: Signal) -> str:
    """The logs or metrics URL beside a traces URL (.../v1/traces -> .../v1/logs)."""
    parts = urlsplit(traces_url)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1/traces"):
        raise ConfigError(
            f"cannot tell where {signal.value} go from the traces endpoint "
            f"{redact_url(traces_url)}",
            hint="give --endpoint as a base URL (e.g. http://localhost:4318): otelcli sends "
            "to /v1/traces, /v1/logs and /v1/metrics under it",
        )
    return urlunsplit(parts._replace(path=path[: -len("traces")] + signal.value))


def as_is_url(url: str) -> str:
    """The signal endpoint rule: used as-is, except that an empty path becomes '/'."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path or "/"))


def flag_endpoint_url(url: str) -> str:
    """--endpoint takes a base URL like OTEL_EXPORTER_OTLP_ENDPOINT, or a full .../v1/traces URL."""
    return (
        as_is_url(url) if urlsplit(url).path.rstrip("/").endswith("/v1/traces") else signal_url(url)
    )


def check_url(url: str, setting: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{setting}: {url!r} is not an http(s) URL",
            hint="e.g. http://localhost:4318 (otelcli speaks OTLP/HTTP)",
        )
    return url


def parse_key_values(text: str, setting: str) -> dict[str, str]:
    """`k1=v1,k2=v2` with percent-decoding of keys and values (headers, resource attributes)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"{setting}: {item.strip()!r} is not key=value",
                hint="use k1=v1,k2=v2; percent-encode ',' and '=' inside values",
            )
        out[unquote(key.strip())] = unquote(value.strip())
    return out


def parse_header_flag(text: str) -> tuple[str, str]:
    """`Name: value` (curl style) or `name=value`."""
    colon, equals = text.find(":"), text.find("=")
    cut = colon if colon > 0 and (equals < 0 or colon < equals) else equals
    if cut <= 0:
        raise ConfigError(
            f"--header {text!r}: expected 'Name: value' or name=value",
            hint="e.g. --header 'x-api-key: 123'",
        )
    return text[:cut].strip().lower(), text[cut + 1 :].strip()


def parse_timeout_ms(value: str, setting: str) -> float | None:
    try:
        millis = int(value.strip())
    except ValueError:
        raise ConfigError(
            f"{setting}={value!r} is not an integer number of milliseconds",
            hint="the OTLP spec takes milliseconds, e.g. 10000 for 10 s (0 = no limit)",
        ) from None
    if millis < 0:
        raise ConfigError(f"{setting} must not be negative")
    return None if millis == 0 else millis / 1000


def _first_env(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _choice(value: str, allowed: Sequence[str], setting: str) -> str:
    value = value.strip().lower()
    if value == "grpc":
        raise ConfigError(
            f"{setting}=grpc: otelcli sends OTLP over HTTP, not gRPC",
            hint="use http/protobuf (port 4318), e.g. --protocol http/protobuf",
        )
    if value not in allowed:
        raise ConfigError(f"{setting}={value!r} is not one of {', '.join(allowed)}")
    return value


def resolve_exporter_config(
    *,
    endpoint: str | None = None,
    traces_endpoint: str | None = None,
    preset: str | None = None,
    headers: Sequence[str] = (),
    protocol: str | None = None,
    timeout_s: float | None = None,
    compression: str | None = None,
    tls_no_verify: bool = False,
    env: Mapping[str, str] | None = None,
) -> ExporterConfig:
    env = os.environ if env is None else env
    merged_headers: dict[str, str] = {}
    preset_protocol = None
    url: str
    source: str

    if traces_endpoint:
        url, source = as_is_url(traces_endpoint), "--traces-endpoint"
    elif endpoint:
        url, source = flag_endpoint_url(endpoint), "--endpoint"
    elif (found := _first_env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) and not preset:
        url, source = as_is_url(found[1]), found[0]
    elif (found := _first_env(env, "OTEL_EXPORTER_OTLP_ENDPOINT")) and not preset:
        url, source = signal_url(found[1]), found[0]
    else:
        url, source = signal_url(DEFAULT_ENDPOINT), "default"

    if preset:
        from otelcli.transport.presets import resolve_preset

        target = resolve_preset(preset, env)
        if source not in ("--endpoint", "--traces-endpoint"):
            url, source = target.url, f"--to {preset}"
        merged_headers.update(target.headers)
        preset_protocol = target.protocol
    else:
        # A preset brings its own auth; the OTLP header variables may belong to another backend.
        merged_headers.update(_env_headers(env, "OTEL_EXPORTER_OTLP_HEADERS"))
    general_headers = dict(merged_headers)
    if not preset:
        merged_headers.update(_env_headers(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"))
    flag_headers = dict(parse_header_flag(item) for item in headers)
    merged_headers.update(flag_headers)
    check_url(url, source)
    signal_targets = (
        {}
        if preset or source in ("--endpoint", "--traces-endpoint")
        else _signal_targets(env, general_headers, flag_headers)
    )

    protocol_from = "--protocol"
    if protocol:
        resolved_protocol = _choice(protocol, PROTOCOLS, "--protocol")
    elif found := _first_env(
        env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"
    ):
        protocol_from = found[0]
        resolved_protocol = _choice(found[1], PROTOCOLS, found[0])
    else:
        resolved_protocol = preset_protocol or "http/protobuf"
    if preset_protocol and resolved_protocol != preset_protocol:
        # said before sending: the backend would refuse every batch
        raise ConfigError(
            f"--to {preset} takes {preset_protocol} only, not {resolved_protocol} "
            f"(from {protocol_from})",
            hint=f"drop {protocol_from}, or set it to {preset_protocol}",
        )

    resolved_timeout: float | None = DEFAULT_TIMEOUT_S
    if timeout_s is not None:
        resolved_timeout = None if timeout_s == 0 else timeout_s
    elif found := _first_env(
        env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"
    ):
        resolved_timeout = parse_timeout_ms(found[1], found[0])

    if compression:
        resolved_compression = _choice(compression, COMPRESSIONS, "--compression")
    elif found := _first_env(
        env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"
    ):
        resolved_compression = _choice(found[1], COMPRESSIONS, found[0])
    else:
        resolved_compression = "none"

    # From here on these values are masked in everything otelcli prints or logs.
    remember_headers(merged_headers)
    remember_url(url)
    for signal_url_, signal_headers, _ in signal_targets.values():
        remember_headers(signal_headers)
        remember_url(signal_url_)

    def tls_file(kind: str) -> str | None:
        found = _first_env(env, f"OTEL_EXPORTER_OTLP_TRACES_{kind}", f"OTEL_EXPORTER_OTLP_{kind}")
        return found[1] if found else None

    return ExporterConfig(
        endpoint=url,
        protocol=resolved_protocol,
        headers=merged_headers,
        timeout_s=resolved_timeout,
        compression=resolved_compression,
        certificate=tls_file("CERTIFICATE"),
        client_certificate=tls_file("CLIENT_CERTIFICATE"),
        client_key=tls_file("CLIENT_KEY"),
        verify_tls=not tls_no_verify,
        endpoint_source=source,
        preset=preset.lower() if preset else None,
        signal_targets=signal_targets,
    )


def _env_headers(env: Mapping[str, str], name: str) -> dict[str, str]:
    if not env.get(name, "").strip():
        return {}
    return {k.lower(): v for k, v in parse_key_values(env[name], name).items()}


def _signal_targets(
    env: Mapping[str, str], general_headers: dict[str, str], flag_headers: dict[str, str]
) -> dict[str, tuple[str, dict[str, str], str]]:
    """Logs and metrics endpoints from the environment when it names them (as-is, or under the
    general endpoint); the headers of each: general, then its own variable, then --header."""
    targets: dict[str, tuple[str, dict[str, str], str]] = {}
    for signal in ("logs", "metrics"):
        var = f"OTEL_EXPORTER_OTLP_{signal.upper()}"
        own = _env_headers(env, f"{var}_HEADERS")
        if found := _first_env(env, f"{var}_ENDPOINT"):
            url, source = as_is_url(found[1]), found[0]
        elif found := _first_env(env, "OTEL_EXPORTER_OTLP_ENDPOINT"):
            url, source = signal_url(found[1], signal), found[0]
        elif own:
            url, source = "", ""  # beside the traces URL, with its own headers
        else:
            continue
        if url:
            check_url(url, source)
        targets[signal] = (url, {**general_headers, **own, **flag_headers}, source)
    return targets


def resource_from_env(env: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """OTEL_RESOURCE_ATTRIBUTES then OTEL_SERVICE_NAME (which wins); plus warnings.

    Per the spec, a variable that fails to decode is discarded whole and reported.
    """
    env = os.environ if env is None else env
    attributes: dict[str, str] = {}
    warnings: list[str] = []
    raw = env.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if raw.strip():
        try:
            attributes.update(parse_key_values(raw, "OTEL_RESOURCE_ATTRIBUTES"))
        except ConfigError as exc:
            warnings.append(f"{exc.message}; OTEL_RESOURCE_ATTRIBUTES ignored")
    service = env.get("OTEL_SERVICE_NAME", "").strip()
    if service:
        attributes["service.name"] = service
    return attributes, warnings
