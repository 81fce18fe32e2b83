"""Keep secrets out of everything otelcli shows, logs or saves."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
_SECRET_NAME = re.compile(
    r"authorization|cookie|api[-_]?key|token|secret|password|passwd|credential|signature"
    r"|access[-_]?key|private[-_]?key|service[-_]?account"
    r"|^x-portkey-(?:api-key|virtual-key|provider-auth)|-key$",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if is_secret_name(k) else v) for k, v in headers.items()}


def redact_url(url: str) -> str:
    """Drop user:password@ and secret-looking query values from a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{k}={REDACTED}" if is_secret_name(k) else (f"{k}={v}" if sep else k)
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
