"""Keep secrets out of everything otelcli shows, logs or saves.

Two ways a secret is recognised: by the name it travels under (an Authorization header, an
`api_key` query parameter), and by its value. Every value the user hands otelcli to send on
(`--header`, `OTEL_EXPORTER_OTLP_*HEADERS`, a preset's keys, `--auth-token`, URL credentials) is
remembered for the life of the process, so it is masked wherever it would appear: a debug log, a
server error body that echoes the request, an exception message, a saved report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "***"
_SECRET_NAME = re.compile(
    r"authorization|cookie|api[-_]?key|token|secret|password|passwd|credential|signature"
    r"|access[-_]?key|private[-_]?key|service[-_]?account"
    r"|^x-portkey-(?:api-key|virtual-key|provider-auth)|-key$",
    re.IGNORECASE,
)
# Query parameters that carry credentials under short names (signed URLs, OAuth codes, keys).
_SECRET_QUERY_NAMES = frozenset(
    {"key", "sig", "code", "auth", "pass", "pwd", "jwt", "session", "sid"}
)
# Shorter values are not masked in free text: "1" or "true" would blank out half a report.
MIN_SECRET_LENGTH = 6
_AUTH_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey|api-key)\s+(\S+)$", re.IGNORECASE)

_secret_values: set[str] = set()
_secret_header_names: set[str] = set()


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def is_secret_query_name(name: str) -> bool:
    return name.lower() in _SECRET_QUERY_NAMES or is_secret_name(name)


def remember_secret(value: str | None) -> None:
    """Mask `value` (and the credential inside an `Authorization`-style value) from now on."""
    if not value:
        return
    value = value.strip()
    for candidate in (value, unquote(value)):
        if len(candidate) >= MIN_SECRET_LENGTH:
            _secret_values.add(candidate)
        scheme = _AUTH_SCHEME.match(candidate)
        if scheme and len(scheme.group(1)) >= MIN_SECRET_LENGTH:
            _secret_values.add(scheme.group(1))


def remember_headers(headers: Mapping[str, str]) -> None:
    """Every header the user configured is treated as a secret, whatever its name."""
    for name, value in headers.items():
        _secret_header_names.add(name.lower())
        remember_secret(value)


def remember_url(url: str) -> None:
    """The password and secret query values of a URL the user gave."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    remember_secret(parts.password)
    for name, _, value in (item.partition("=") for item in parts.query.split("&") if item):
        if is_secret_query_name(name):
            remember_secret(value)


def forget_secrets() -> None:
    """For tests: start from an empty registry."""
    _secret_values.clear()
    _secret_header_names.clear()


def redact_text(text: str) -> str:
    """`text` with every remembered secret value masked (longest first, so parts stay hidden)."""
    if not _secret_values:
        return text
    for secret in sorted(_secret_values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: (
            REDACTED
            if is_secret_name(name) or name.lower() in _secret_header_names
            else redact_text(value)
        )
        for name, value in headers.items()
    }


def redact_url(url: str) -> str:
    """Drop user:password@ and secret-looking query values from a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{k}={REDACTED}" if is_secret_query_name(k) else (f"{k}={v}" if sep else k)
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
