"""A loopback OTLP/HTTP receiver for tests: records every request, answers from a script."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli.otlp.jsoncodec import dict_to_request
from otelcli.otlp.spans import SpanView, iter_spans


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: an empty ExportTraceServiceResponse in the request's type
    rejected: int = 0  # partial success
    message: str = ""
    drop: bool = False  # close the connection without answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    body: bytes
    request: ExportTraceServiceRequest | None


Script = Callable[["Received", int], Reply]


class Sink:
    """Collects what otelcli's own receivers deliver, from their threads."""

    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.logs: list[ExportLogsServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.lock = threading.Lock()

    def on_traces(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            self.traces.append(request)

    @property
    def spans(self) -> list[SpanView]:
        return [view for batch in self.traces for view in iter_spans(batch)]


class RecordingReceiver:
    def __init__(self, script: Script | None = None) -> None:
        self.requests: list[Received] = []
        self.script: Script = script or (lambda received, index: Reply())
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
                request = None
                try:
                    if "json" in headers.get("content-type", ""):
                        request = dict_to_request(orjson.loads(body), "request")
                    else:
                        request = ExportTraceServiceRequest.FromString(body)
                except Exception:
                    request = None
                received = Received(self.path, headers, raw, body, request)
                with receiver._lock:
                    index = len(receiver.requests)
                    receiver.requests.append(received)
                reply = receiver.script(received, index)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                content_type = headers.get("content-type", "application/x-protobuf")
                payload = reply.body
                if payload is None:
                    response = ExportTraceServiceResponse()
                    if reply.rejected or reply.message:
                        response.partial_success.rejected_spans = reply.rejected
                        response.partial_success.error_message = reply.message
                    if "json" in content_type:
                        partial = {}
                        if reply.rejected or reply.message:
                            partial = {
                                "partialSuccess": {
                                    "rejectedSpans": str(reply.rejected),
                                    "errorMessage": reply.message,
                                }
                            }
                        payload = orjson.dumps(partial)
                    else:
                        payload = response.SerializeToString()
                self.send_response(reply.status)
                self.send_header("content-type", reply.headers.pop("content-type", content_type))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.url = self.base_url + "/v1/traces"

    @property
    def spans(self) -> list[object]:
        return [
            span
            for r in self.requests
            if r.request is not None
            for rs in r.request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    @contextmanager
    def running(self) -> Iterator[RecordingReceiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
