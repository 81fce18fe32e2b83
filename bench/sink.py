"""A loopback OTLP/HTTP trace sink for the benchmarks: counts what it is sent, answers 200.

It runs in its own process (`Sink()` starts one) so it never shares the GIL with the sender
being measured. Every POST body is parsed as an ExportTraceServiceRequest (gzip and OTLP/JSON
too) to count spans: the sink's count, not the sender's, is the truth. The protobuf parse uses
a skeleton of the OTLP schema whose spans are opaque bytes, so the resource/scope/span
structure is checked and counted while the span contents are not decoded: the sink stays
cheap and never becomes the bottleneck it is measuring. Endpoints:

- POST /v1/traces: count, answer an empty ExportTraceServiceResponse.
- GET /stats: JSON {spans, requests, bad_requests, first_s, last_s, cpu_s}: first and last
  on the system-wide monotonic clock (comparable with time.monotonic() in any process), cpu_s
  the sink's own CPU time since the last reset (how busy it was).
- POST /reset: zero the counters.

    python bench/sink.py   # prints the port, serves until killed
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
import urllib.request
from types import TracebackType
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]


class _Counter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.spans = 0
        self.requests = 0
        self.bad_requests = 0
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.cpu_started = time.process_time()

    def stats(self) -> dict[str, Any]:
        return {
            "spans": self.spans,
            "requests": self.requests,
            "bad_requests": self.bad_requests,
            "first_s": self.first_s,
            "last_s": self.last_s,
            "cpu_s": time.process_time() - self.cpu_started,
        }


def _skeleton_request() -> Any:
    """ExportTraceServiceRequest with resource_spans -> scope_spans -> spans as bytes."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    schema = descriptor_pb2.FileDescriptorProto(
        name="bench_sink.proto", package="bench.sink", syntax="proto3"
    )
    for name, number, kind, type_name in (
        ("ScopeSpans", 2, field.TYPE_BYTES, ""),  # field 2: spans, left undecoded
        ("ResourceSpans", 2, field.TYPE_MESSAGE, ".bench.sink.ScopeSpans"),
        ("Request", 1, field.TYPE_MESSAGE, ".bench.sink.ResourceSpans"),
    ):
        message = schema.message_type.add(name=name)
        items = message.field.add(
            name="items", number=number, type=kind, label=field.LABEL_REPEATED
        )
        if type_name:
            items.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.sink.Request"))


_REQUEST: Any = None


def count_request_spans(body: bytes, content_type: str, content_encoding: str) -> int:
    """Spans in one OTLP/HTTP trace request body (raises on a body that is not one)."""
    global _REQUEST
    if _REQUEST is None:
        _REQUEST = _skeleton_request()
    if content_encoding == "gzip":
        body = gzip.decompress(body)
    if content_type.startswith("application/json"):
        document = json.loads(body)
        return sum(
            len(scope_spans.get("spans") or ())
            for resource_spans in document.get("resourceSpans") or ()
            for scope_spans in resource_spans.get("scopeSpans") or ()
        )
    request = _REQUEST.FromString(body)
    return sum(len(scope_spans.items) for rs in request.items for scope_spans in rs.items)


def make_app(counter: _Counter) -> Any:
    """A raw ASGI app: no framework between the socket and the count."""

    async def respond(send: Any, status: int, body: bytes, content_type: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message: Message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == "/stats":
            await respond(send, 200, json.dumps(counter.stats()).encode(), b"application/json")
            return
        if method == "POST" and path == "/reset":
            counter.reset()
            await respond(send, 200, b"{}", b"application/json")
            return
        if method != "POST" or path != "/v1/traces":
            await respond(send, 404, b"", b"text/plain")
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode()
        encoding = headers.get(b"content-encoding", b"").decode()
        now = time.monotonic()
        if counter.first_s is None:
            counter.first_s = now
        try:
            spans = count_request_spans(b"".join(chunks), content_type, encoding)
        except Exception:  # noqa: BLE001 - any undecodable body is a bad request
            counter.bad_requests += 1
            await respond(send, 400, b"", b"text/plain")
            return
        counter.spans += spans
        counter.requests += 1
        counter.last_s = time.monotonic()
        # An empty ExportTraceServiceResponse serialises to no bytes (JSON: {}).
        if content_type.startswith("application/json"):
            await respond(send, 200, b"{}", b"application/json")
        else:
            await respond(send, 200, b"", b"application/x-protobuf")

    return app


def serve() -> None:
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    print(listener.getsockname()[1], flush=True)
    config = uvicorn.Config(
        make_app(_Counter()),
        log_level="warning",
        access_log=False,
        lifespan="off",
        limit_concurrency=None,
        timeout_keep_alive=60,
    )
    uvicorn.Server(config).run(sockets=[listener])


class Sink:
    """The sink in a child process: `with Sink() as sink: ... sink.url ... sink.stats()`."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, __file__], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            raise RuntimeError(f"the sink did not start (printed {line!r})")
        self.port = int(line)
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/v1/traces"
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.stats()
                return
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/stats", timeout=10) as response:
            stats: dict[str, Any] = json.loads(response.read())
            return stats

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.base}/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


if __name__ == "__main__":
    serve()
