"""A loopback ClickHouse HTTP interface for tests: the real engine (chDB) behind it, and a mode
to refuse every request the way a server refuses a wrong password.

It answers what clickhouse-connect sends: the query in the body (or `query` with the data in
the body, for inserts), the output format as the query's FORMAT or TabSeparated, settings as
URL parameters. Errors come back as a server sends them: HTTP 4xx/5xx, the
X-ClickHouse-Exception-Code header and "Code: N. DB::Exception: ..." in the body.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_SETTINGS = ("max_execution_time", "max_memory_usage", "output_format_json_quote_64bit_integers")
_CODE = re.compile(r"Code:\s*(\d+)")


class FakeClickHouse:
    def __init__(self, session: Any, refuse_auth: bool = False) -> None:
        self.session = session
        self.refuse_auth = refuse_auth
        self.queries: list[str] = []
        self.lock = threading.Lock()  # one engine: one statement at a time


@contextmanager
def fake_clickhouse(
    path: str | None = None, refuse_auth: bool = False
) -> Iterator[tuple[int, FakeClickHouse]]:
    from chdb import session

    factory: Any = session.Session  # chdb ships no type hints
    state = FakeClickHouse(factory(path) if path else factory(), refuse_auth)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            params = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size).decode() if size else ""
            if state.refuse_auth:
                self._error(
                    403,
                    "Code: 516. DB::Exception: u: Authentication failed: password is incorrect,"
                    " or there is no user with such name. (AUTHENTICATION_FAILED)",
                )
                return
            sql = params["query"] + "\n" + body if "query" in params else body
            limits = [f"{k} = {int(params[k])}" for k in _SETTINGS if k in params]
            if limits and sql.lstrip().upper().startswith(("SELECT", "WITH")):
                sql = f"{sql}\nSETTINGS {', '.join(limits)}"
            fmt = "TabSeparated"
            found = re.search(r"\bFORMAT\s+(\w+)\s*$", sql.strip())
            if found:
                fmt = found.group(1)
            state.queries.append(sql)
            try:
                with state.lock:
                    data = state.session.query(sql, fmt).bytes()
            except Exception as exc:
                text = str(exc)
                code = _CODE.search(text)
                self._error(400 if code and code.group(1) == "62" else 500, text)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-ClickHouse-Format", fmt)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, text: str) -> None:
            code = _CODE.search(text)
            data = (text + "\n").encode()
            self.send_response(status)
            if code:
                self.send_header("X-ClickHouse-Exception-Code", code.group(1))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], state
    finally:
        server.shutdown()
        server.server_close()
        state.session.close()
