"""A loopback OTLP/HTTP receiver that keeps what it got as OTLP/JSON, per signal.

Protobuf bodies (the Python SDK's exporters) are decoded with the opentelemetry-proto
messages and written with google.protobuf.json_format the way the OTLP/JSON spec asks:
camelCase names, enums as integers, trace and span ids as hex. JSON bodies (the JavaScript
exporters) are kept as received, re-serialised compactly. Runs in the parent interpreter,
which needs opentelemetry-proto (the main virtualenv has it).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from corpus.fakes import read_body

SIGNALS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
ROOT_KEYS = {"traces": "resourceSpans", "logs": "resourceLogs", "metrics": "resourceMetrics"}
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(node: Any) -> Any:
    """json_format writes bytes as base64; OTLP/JSON wants ids as hex."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex()
            if key in _ID_KEYS and isinstance(value, str)
            else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def decode_protobuf(signal: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """The request as an OTLP/JSON dict, and the serialised (empty) response."""
    from google.protobuf import json_format
    from google.protobuf.message import Message
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    request: Message
    response: Message
    if signal == "traces":
        request = trace_service_pb2.ExportTraceServiceRequest()
        response = trace_service_pb2.ExportTraceServiceResponse()
    elif signal == "logs":
        request = logs_service_pb2.ExportLogsServiceRequest()
        response = logs_service_pb2.ExportLogsServiceResponse()
    else:
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        response = metrics_service_pb2.ExportMetricsServiceResponse()
    request.ParseFromString(body)
    as_dict = json_format.MessageToDict(request, use_integers_for_enums=True)
    return _hex_ids(as_dict), response.SerializeToString()


class _Handler(BaseHTTPRequestHandler):
    server: OtlpSink
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = read_body(self)
        encoding = (self.headers.get("content-encoding") or "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        signal = SIGNALS.get(self.path.split("?")[0])
        if signal is None:
            self._answer(404, b"", "text/plain")
            return
        kind = (self.headers.get("content-type") or "").split(";")[0].strip()
        if kind == "application/json":
            request = json.loads(body)
            answer, answer_type = b"{}", "application/json"
        else:
            request, answer = decode_protobuf(signal, body)
            answer_type = "application/x-protobuf"
        if request.get(ROOT_KEYS[signal]):
            with self.server.lock:
                self.server.received[signal].append(request)
        self._answer(200, answer, answer_type)

    def _answer(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class OtlpSink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.received: dict[str, list[dict[str, Any]]] = {signal: [] for signal in ROOT_KEYS}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self) -> dict[str, list[dict[str, Any]]]:
        """What arrived since the last take, by signal."""
        with self.lock:
            received = self.received
            self.received = {signal: [] for signal in ROOT_KEYS}
        return received


@contextmanager
def otlp_sink() -> Iterator[OtlpSink]:
    server = OtlpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
