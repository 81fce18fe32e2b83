"""A loopback server at the socket level, for what http.server cannot do: trickle an answer a
byte at a time, hold a request without answering, or never read the request at all."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket, threading.Event], None]

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: %d\r\n\r\n"


def read_request(conn: socket.socket) -> bytes:
    """The whole HTTP request (headers and a content-length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def trickle(payload: bytes, every_s: float, head: bytes = b"") -> Behaviour:
    """Read the request, send `head` at once, then `payload` one byte every `every_s` seconds."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(head)
        for byte in payload:
            if stop.wait(every_s):
                return
            conn.sendall(bytes([byte]))

    return behave


def hold(conn: socket.socket, stop: threading.Event) -> None:
    """Read the request and never answer."""
    read_request(conn)
    stop.wait(120)


def never_read(conn: socket.socket, stop: threading.Event) -> None:
    """Accept and never read: a large request cannot be sent."""
    stop.wait(120)


class RawServer:
    def __init__(self, behave: Behaviour) -> None:
        self.behave = behave
        self.connections = 0
        self.accepted = threading.Condition()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/v1/traces"
        self.base_url = f"http://127.0.0.1:{self.port}"

    def wait_for_connections(self, count: int, timeout_s: float = 60.0) -> bool:
        ends = time.monotonic() + timeout_s
        with self.accepted:
            while self.connections < count:
                left = ends - time.monotonic()
                if left <= 0:
                    return False
                self.accepted.wait(left)
        return True

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.accepted:
                self.connections += 1
                self.accepted.notify_all()
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.behave(conn, self._stop)
            except OSError:
                pass  # the client went away

    @contextmanager
    def running(self) -> Iterator[RawServer]:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._sock.close()
