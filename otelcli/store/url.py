"""Store URLs: `chdb:PATH` (an embedded store in a directory) or a ClickHouse server,
`clickhouse://[user[:password]@]host[:port]/database` (`clickhouses://` or `?secure=true`
for TLS). Credentials may also come from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD; every
password is remembered as a secret, so no output, log or error shows it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from otelcli.errors import UsageError
from otelcli.redact import remember_secret

URL_HINT = "use chdb:DIR or clickhouse://[user[:password]@]host[:port]/database"
DEFAULT_DATABASE = "default"
DEFAULT_TABLE = "otel_traces"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class StoreUrl:
    kind: str  # "chdb" or "server"
    path: str = ""  # chdb: the data directory
    host: str = ""
    port: int = 0
    database: str = DEFAULT_DATABASE
    user: str = "default"
    password: str = field(default="", repr=False)
    secure: bool = False

    @property
    def display(self) -> str:
        """Where the store is, without credentials (safe to print)."""
        if self.kind == "chdb":
            return f"chdb:{self.path}"
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.host}:{self.port}/{self.database}"


def parse_store_url(text: str, environ: dict[str, str] | None = None) -> StoreUrl:
    env = os.environ if environ is None else environ
    if text.startswith("chdb:"):
        path = text[len("chdb:") :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise UsageError(f"store {text!r} names no directory", "e.g. chdb:./traces.chdb")
        return StoreUrl("chdb", path=os.path.abspath(os.path.expanduser(path)))
    try:
        parts = urlsplit(text)
        port_text = parts.port
    except ValueError as exc:
        raise UsageError(f"store URL is not valid: {exc}", URL_HINT) from None
    if parts.scheme not in ("clickhouse", "clickhouses", "http", "https"):
        raise UsageError(f"store {text!r} is neither chdb:DIR nor a clickhouse:// URL", URL_HINT)
    remember_secret(parts.password)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme in ("clickhouses", "https") or query.get("secure", "").lower() in _TRUE
    if not parts.hostname:
        raise UsageError(f"store URL {_safe(text)!r} names no host", URL_HINT)
    database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
    check_identifier(database, "database")
    password = unquote(parts.password) if parts.password else env.get("CLICKHOUSE_PASSWORD", "")
    remember_secret(password)
    user = unquote(parts.username) if parts.username else env.get("CLICKHOUSE_USER", "default")
    return StoreUrl(
        "server",
        host=parts.hostname,
        port=port_text or (8443 if secure else 8123),
        database=database,
        user=user or "default",
        password=password,
        secure=secure,
    )


def check_identifier(name: str, what: str = "table") -> str:
    """Table and database names go into SQL as identifiers: plain names only."""
    if not _IDENTIFIER.match(name):
        raise UsageError(
            f"{what} name {name!r} is not a plain identifier",
            "use letters, digits and underscores (e.g. otel_traces)",
        )
    return name


def _safe(text: str) -> str:
    from otelcli.redact import redact_url

    return redact_url(text)
