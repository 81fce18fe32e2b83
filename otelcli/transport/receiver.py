"""A local OTLP/HTTP receiver: a small ASGI app served by uvicorn in a background thread.

    with Receiver("127.0.0.1", 0, on_traces=batches.put) as receiver:
        print(receiver.url)  # http://127.0.0.1:<bound port>: the OTLP endpoint
        ...                  # every ExportTraceServiceRequest reaches on_traces

What it does, per the OTLP/HTTP spec:

- POST /v1/traces, /v1/logs and /v1/metrics; protobuf (application/x-protobuf) and JSON
  (application/json) chosen by Content-Type, anything else 415; Content-Encoding gzip (the
  spec's), deflate (the Python SDK offers it) or none.
- The body is limited (64 MiB by default) on the wire *and* after decompression: over the
  limit is 413, so a gzip bomb costs at most the limit. Decompression is linear in the body
  and takes at most MAX_GZIP_MEMBERS gzip members (real senders write one); more, or an empty
  member in a body of several, is 400.
- Memory is bounded receiver-wide too: all requests together hold at most
  max_in_flight_bytes of body (4 x max_body_bytes by default), counting a gzip body on the
  wire and after decompression. A request's Content-Length is reserved before its body is
  read, a chunked body as it arrives; past the budget the answer is 503 with Retry-After
  (the OTLP spec's "server busy", which senders retry) and the body is discarded unread.
- Success is 200 with an Export*ServiceResponse in the request's content type; a callback may
  ask for a partial success. Bad payloads get 400 with a google.rpc.Status body; the server
  keeps serving.
- An optional bearer token (401 without it).
- Slow or stalled clients (slowloris): a connection that has not finished a request's headers
  header_timeout_s (10 s) after connecting, or after the request's first byte, is closed,
  however it trickles; a body with no new bytes for body_timeout_s (10 s) gets 408 and the
  connection is closed; an idle keep-alive connection closes after 5 s (uvicorn's).

Delivery: decompression, decoding and the callbacks run on worker threads, never on the
event loop, so one costly request does not stall the other connections. The callbacks run
one at a time (under a lock) and each before its client gets its 200, so an acknowledged
batch has always been handed over; requests on one connection are delivered in order, those
on different connections in the order their decoding finishes. Keep the callbacks quick (put
the batch on a queue); while one runs, the others wait rather than drop anything.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli.errors import InvalidInputError, OtelcliError, UsageError

if TYPE_CHECKING:
    import subprocess

    import uvicorn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_MAX_BODY_BYTES = 64 << 20  # the spec's recommended server limit
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_CONTENT_TYPES = {"application/x-protobuf": PROTOBUF, "application/protobuf": PROTOBUF, JSON: JSON}
_RECENT_ERRORS = 20
_START_TIMEOUT_S = 10.0
DEFAULT_HEADER_TIMEOUT_S = 10.0  # from connecting (or the first byte of a request) to its headers
DEFAULT_BODY_TIMEOUT_S = 10.0  # the longest wait for the next piece of a body

# google.rpc.Code values for the Status bodies of failures.
_RPC_CODE = {400: 3, 401: 16, 404: 5, 405: 12, 408: 4, 413: 8, 415: 3, 500: 13, 503: 14}
RETRY_AFTER_S = 1  # what a 503 asks the client to wait

Message = MutableMapping[str, Any]
Body = bytes | bytearray
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class PartialSuccess:
    """What a callback returns to answer a partial success (the client must not retry)."""

    rejected: int
    message: str = ""


TracesCallback = Callable[[ExportTraceServiceRequest], PartialSuccess | None]
LogsCallback = Callable[[ExportLogsServiceRequest], PartialSuccess | None]
MetricsCallback = Callable[[ExportMetricsServiceRequest], PartialSuccess | None]


@dataclass
class ReceiverStats:
    """Counters, updated by the server's threads (HTTP: the event loop and, under the delivery
    lock, the decoding workers); read them from anywhere."""

    requests: int = 0
    trace_requests: int = 0
    spans: int = 0
    log_requests: int = 0
    log_records: int = 0
    metric_requests: int = 0
    data_points: int = 0
    bytes_received: int = 0  # on the wire, before decompression
    rejected_requests: dict[int, int] = field(default_factory=dict)  # status -> count (4xx/5xx)
    recent_errors: deque[str] = field(default_factory=lambda: deque(maxlen=_RECENT_ERRORS))

    @property
    def failed_requests(self) -> int:
        return sum(self.rejected_requests.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "trace_requests": self.trace_requests,
            "spans": self.spans,
            "log_requests": self.log_requests,
            "log_records": self.log_records,
            "metric_requests": self.metric_requests,
            "data_points": self.data_points,
            "bytes_received": self.bytes_received,
            "rejected_requests": {str(k): v for k, v in sorted(self.rejected_requests.items())},
            "recent_errors": list(self.recent_errors),
        }


def in_flight_limit(max_body_bytes: int, max_in_flight_bytes: int | None) -> int:
    """The receiver-wide budget: 4 bodies by default, never less than one."""
    if max_in_flight_bytes is None:
        return 4 * max_body_bytes
    if max_in_flight_bytes < max_body_bytes:
        raise UsageError(
            f"an in-flight budget of {max_in_flight_bytes} bytes is below the body limit "
            f"({max_body_bytes}): the largest batches could never be received"
        )
    return max_in_flight_bytes


def client_host(host: str) -> str:
    """How a local client reaches a server bound to `host` (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]" if ":" in host else host


def bearer_matches(authorization: bytes, token: bytes) -> bool:
    """Whether an Authorization value is `Bearer <token>`: the scheme in any case (RFC 7235),
    the token compared in constant time."""
    scheme, _, given = authorization.strip().partition(b" ")
    # compare_digest runs for every value, so a wrong scheme takes as long as a wrong token
    matches = hmac.compare_digest(given.strip(), token)
    return scheme.lower() == b"bearer" and matches


class ConsumerUnavailable(Exception):
    """Raised by a callback that cannot keep the batch right now (the save file failed, a
    budget is spent): the client gets 503 (gRPC UNAVAILABLE) and retries, so nothing that
    was acknowledged is ever lost."""


class InFlightBudget:
    """The body bytes held by all requests at once (on the wire and after decompression).

    Thread-safe: the event loop reserves wire bytes, the worker threads decompressed ones.
    `in_flight` and `peak` are there to be read (tests, benchmarks)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if self.in_flight + size > self.limit:
                return False
            self.in_flight += size
            self.peak = max(self.peak, self.in_flight)
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self.in_flight -= size


class _Hold:
    """What one request holds of the budget; released once, when the request ends."""

    def __init__(self, budget: InFlightBudget) -> None:
        self.budget = budget
        self.held = 0

    def take(self, size: int) -> None:
        if not self.budget.take(size):
            raise _Reject(
                503,
                f"the receiver is busy ({self.budget.in_flight} body bytes in flight, "
                f"budget {self.budget.limit}): retry later",
            )
        self.held += size

    def release(self) -> None:
        self.budget.give(self.held)
        self.held = 0


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- listen addresses --------------------------------------------------------------------------


def parse_listen(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """HOST:PORT, :PORT, PORT, HOST or [v6]:PORT -> (host, port)."""
    value = text.strip()
    host, port_text = DEFAULT_HOST, ""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise UsageError(f"--listen {text!r}: unclosed '['", hint="e.g. [::1]:4318")
        host, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            raise UsageError(f"--listen {text!r}: expected [host]:port")
        port_text = rest[1:]
    elif value.isdigit():
        port_text = value
    elif value.count(":") == 1:
        head, port_text = value.split(":")
        host = head or DEFAULT_HOST
    elif value.count(":") > 1:
        host = value  # a bare IPv6 address
    elif value:
        host = value
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(
            f"--listen {text!r}: {port_text!r} is not a port number",
            hint="e.g. --listen 127.0.0.1:4318 (port 0 picks a free port)",
        )
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="is another receiver (otelcli tail, a collector) using the port? "
            "pick another with --listen, or port 0 for any free one",
        ) from None
    sock.setblocking(False)
    return sock


# -- bodies ------------------------------------------------------------------------------------


_WBITS = {b"gzip": 16 + zlib.MAX_WBITS, b"x-gzip": 16 + zlib.MAX_WBITS, b"deflate": zlib.MAX_WBITS}


MAX_GZIP_MEMBERS = 1000  # real senders write one member; many tiny ones are an attack
_FIRST_WINDOW = 1 << 10
_MAX_WINDOW = 1 << 18


def decompress_bounded(
    data: Body,
    limit: int,
    encoding: bytes = b"gzip",
    *,
    max_members: int = MAX_GZIP_MEMBERS,
    reserve: Callable[[int], None] | None = None,
) -> bytearray:
    """Inflate gzip (one or more members) or deflate, never holding more than `limit` bytes.

    Linear in the size of `data`: the input is fed through a window that starts small for
    every member and doubles while the member goes on, so the bytes zlib copies past a
    member's end (unused_data) are bounded by that member's own size, never the rest of the
    body. `reserve(n)` is called before n more output bytes are kept (a memory budget may
    refuse by raising).

    Raises _Reject: 413 past the limit (so a compression bomb costs at most `limit`), 400 for
    corrupt or truncated data, more than `max_members` gzip members, or an empty member that
    is not the whole body (padding that decompresses to nothing).
    """
    wbits = _WBITS[encoding]
    name = encoding.decode()
    view = memoryview(data)
    out = bytearray()
    pos, members = 0, 0
    while pos < len(view):
        members += 1
        if members > max_members:
            raise _Reject(400, f"{name} body of more than {max_members} members")
        decompressor = zlib.decompressobj(wbits)
        member_start, window = len(out), _FIRST_WINDOW
        while not decompressor.eof:
            if pos >= len(view):
                raise _Reject(400, f"truncated {name} body")
            chunk = view[pos : pos + window]
            try:
                piece = decompressor.decompress(chunk, limit + 1 - len(out))
            except zlib.error as exc:
                raise _Reject(400, f"invalid {name} body: {exc}") from None
            if len(out) + len(piece) > limit:
                raise _Reject(413, f"body larger than {limit} bytes after decompression")
            if reserve is not None and piece:
                reserve(len(piece))
            out += piece
            # What zlib did not take stays in the view: re-read from there, never copied.
            pos += len(chunk) - len(decompressor.unconsumed_tail) - len(decompressor.unused_data)
            window = min(window * 2, _MAX_WINDOW)
        if encoding == b"deflate":
            break  # one stream; trailing bytes are ignored, as zlib does
        if len(out) == member_start and (pos < len(view) or members > 1):
            raise _Reject(400, f"empty {name} member in a body of several")
    return out  # not copied into bytes: both decoders take any buffer


def _decode_traces(body: Body, content_type: str) -> ExportTraceServiceRequest:
    if content_type == PROTOBUF:
        try:
            # type: ignore: upb (and the others) parse any buffer, the stubs say bytes
            return ExportTraceServiceRequest.FromString(body)  # type: ignore[arg-type]
        except Exception as exc:  # DecodeError (or RuntimeError from some backends)
            raise _Reject(400, f"invalid protobuf ExportTraceServiceRequest: {exc}") from None
    from otelcli.otlp.jsoncodec import dict_to_request

    try:
        return dict_to_request(_json(body), "request")
    except InvalidInputError as exc:
        raise _Reject(400, exc.message) from None


def _json(body: Body) -> Any:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Reject(400, f"invalid JSON: {exc}") from None


def _decode_other(body: Body, content_type: str, message_type: Any) -> Any:
    if content_type == PROTOBUF:
        try:
            return message_type.FromString(body)
        except Exception as exc:
            raise _Reject(400, f"invalid protobuf {message_type.__name__}: {exc}") from None
    from google.protobuf import json_format

    data = _json(body)
    if not isinstance(data, dict):
        raise _Reject(400, f"expected a JSON object, got {type(data).__name__}")
    from otelcli.otlp.jsoncodec import hex_ids_to_base64

    try:
        hex_ids_to_base64(data, "request")
    except InvalidInputError as exc:
        raise _Reject(400, exc.message) from None
    try:
        return json_format.ParseDict(data, message_type(), ignore_unknown_fields=True)
    except (json_format.ParseError, AttributeError, TypeError, ValueError) as exc:
        raise _Reject(400, f"not valid OTLP/JSON: {str(exc).splitlines()[0][:200]}") from None


def count_log_records(request: ExportLogsServiceRequest) -> int:
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def count_data_points(request: ExportMetricsServiceRequest) -> int:
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


def _status_body(status: int, message: str, content_type: str) -> bytes:
    """A google.rpc.Status (code, message) in the request's encoding."""
    code = _RPC_CODE.get(status, 2)
    if content_type == JSON:
        return orjson.dumps({"code": code, "message": message})
    encoded = message.encode("utf-8")
    return bytes([0x08]) + _varint(code) + bytes([0x12]) + _varint(len(encoded)) + encoded


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _success_body(signal: str, partial: PartialSuccess | None, content_type: str) -> bytes:
    if content_type == JSON:
        if partial is None:
            return b"{}"
        key = {"traces": "rejectedSpans", "logs": "rejectedLogRecords"}.get(
            signal, "rejectedDataPoints"
        )
        return orjson.dumps(
            {"partialSuccess": {key: str(partial.rejected), "errorMessage": partial.message}}
        )
    response: Any
    if signal == "traces":
        response = ExportTraceServiceResponse()
        if partial is not None:
            response.partial_success.rejected_spans = partial.rejected
    elif signal == "logs":
        response = ExportLogsServiceResponse()
        if partial is not None:
            response.partial_success.rejected_log_records = partial.rejected
    else:
        response = ExportMetricsServiceResponse()
        if partial is not None:
            response.partial_success.rejected_data_points = partial.rejected
    if partial is not None:
        response.partial_success.error_message = partial.message
    data: bytes = response.SerializeToString()
    return data


# -- the ASGI app ------------------------------------------------------------------------------

_PATHS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}


class OtlpApp:
    """The ASGI application; usable on its own with any ASGI server."""

    def __init__(
        self,
        *,
        on_traces: TracesCallback | None = None,
        on_logs: LogsCallback | None = None,
        on_metrics: MetricsCallback | None = None,
        auth_token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
        max_in_flight_bytes: int | None = None,
    ) -> None:
        self.on_traces = on_traces
        self.on_logs = on_logs
        self.on_metrics = on_metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.budget = InFlightBudget(in_flight_limit(max_body_bytes, max_in_flight_bytes))
        self.stats = ReceiverStats()
        self._expected_token = auth_token.encode() if auth_token else None
        self._deliver_lock = threading.Lock()

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.stats.requests += 1
        headers: dict[bytes, bytes] = dict(scope["headers"])
        content_type = _CONTENT_TYPES.get(
            headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower().decode("latin-1")
        )
        # Failures before we know the encoding are answered as protobuf Status bodies.
        reply_type = content_type or PROTOBUF
        hold = _Hold(self.budget)
        try:
            signal = self._check(scope, headers, content_type)
            assert content_type is not None
            given = headers.get(b"content-length", b"")
            length = int(given) if given.isdigit() else None
            if length is not None:
                hold.take(length)  # before reading: a refused body is never buffered
            body = await self._read_body(receive, hold, length)
            if body is None:
                return  # the client went away
            encoding = headers.get(b"content-encoding", b"").strip().lower()
            # Off the event loop, so a costly body never stalls the other connections.
            partial = await asyncio.to_thread(
                self._deliver, signal, body, encoding, content_type, hold
            )
        except _Reject as reject:
            await self._fail(send, reject, reply_type)
            return
        finally:
            hold.release()
        await _respond(send, 200, _success_body(signal, partial, content_type), content_type)

    def _check(self, scope: Message, headers: dict[bytes, bytes], content_type: str | None) -> str:
        signal = _PATHS.get(scope["path"])
        if signal is None:
            raise _Reject(404, f"no OTLP endpoint at {scope['path']}: use /v1/traces")
        if scope["method"] != "POST":
            raise _Reject(405, f"{scope['method']} is not allowed: OTLP/HTTP uses POST")
        if self._expected_token is not None and not bearer_matches(
            headers.get(b"authorization", b""), self._expected_token
        ):
            raise _Reject(401, "missing or wrong bearer token")
        if content_type is None:
            raise _Reject(
                415,
                "unsupported content type "
                f"{headers.get(b'content-type', b'').decode('latin-1')!r}: "
                "use application/x-protobuf or application/json",
            )
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding not in _WBITS and encoding not in (b"identity", b""):
            raise _Reject(
                415, f"unsupported content encoding {encoding.decode('latin-1')!r}: use gzip"
            )
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise _Reject(413, f"body of {int(length)} bytes is over {self.max_body_bytes}")
        return signal

    async def _read_body(self, receive: Receive, hold: _Hold, length: int | None) -> Body | None:
        """The whole body; with a Content-Length (already reserved) read into one buffer, so
        it is never held twice (chunks and their join)."""
        limit = self.max_body_bytes
        chunks: list[bytes] = []
        buffer = bytearray(length) if length is not None else None
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout_s)
            except TimeoutError:
                raise _Reject(
                    408, f"no body bytes for {self.body_timeout_s:g} s (after {size})"
                ) from None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            if buffer is not None and size + len(chunk) <= len(buffer):
                buffer[size : size + len(chunk)] = chunk
            else:  # chunked: reserved as it arrives
                if size + len(chunk) > limit:
                    raise _Reject(413, f"body larger than {limit} bytes")
                hold.take(len(chunk))
                chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        self.stats.bytes_received += size
        if buffer is not None and not chunks:
            return buffer if size == len(buffer) else buffer[:size]
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _deliver(
        self, signal: str, body: Body, encoding: bytes, content_type: str, hold: _Hold
    ) -> PartialSuccess | None:
        """Decompress and decode (on a worker thread), then hand over under the lock."""
        if encoding in _WBITS:
            body = decompress_bounded(body, self.max_body_bytes, encoding, reserve=hold.take)
        request: Any
        if signal == "traces":
            request = _decode_traces(body, content_type)
        elif signal == "logs":
            request = _decode_other(body, content_type, ExportLogsServiceRequest)
        else:
            request = _decode_other(body, content_type, ExportMetricsServiceRequest)
        del body
        stats = self.stats
        with self._deliver_lock:  # callbacks one at a time, as the module docstring promises
            try:
                if signal == "traces":
                    stats.trace_requests += 1
                    stats.spans += sum(
                        len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans
                    )
                    return self.on_traces(request) if self.on_traces else None
                if signal == "logs":
                    stats.log_requests += 1
                    stats.log_records += count_log_records(request)
                    return self.on_logs(request) if self.on_logs else None
                stats.metric_requests += 1
                stats.data_points += count_data_points(request)
                return self.on_metrics(request) if self.on_metrics else None
            except ConsumerUnavailable as exc:
                raise _Reject(503, str(exc)) from None
            except Exception as exc:  # a failing consumer must not take the server down
                raise _Reject(
                    500, f"the receiver's consumer failed: {type(exc).__name__}: {exc}"
                ) from None

    async def _fail(self, send: Send, reject: _Reject, content_type: str) -> None:
        stats = self.stats
        stats.rejected_requests[reject.status] = stats.rejected_requests.get(reject.status, 0) + 1
        stats.recent_errors.append(f"HTTP {reject.status}: {reject.message[:300]}")
        extra: list[tuple[bytes, bytes]] = []
        if reject.status == 401:
            extra.append((b"www-authenticate", b"Bearer"))
        elif reject.status == 405:
            extra.append((b"allow", b"POST"))
        elif reject.status == 503:
            extra.append((b"retry-after", str(RETRY_AFTER_S).encode()))
        elif reject.status == 408:
            extra.append((b"connection", b"close"))  # the client stalled: no use waiting
        # A 413 or 503 keeps the connection: uvicorn discards the rest of the body unbuffered
        # (the drain deadline bounds it). Closing instead would reset a client still sending
        # its body, and it would see a dropped connection rather than the answer.
        body = _status_body(reject.status, reject.message[:1000], content_type)
        await _respond(send, reject.status, body, content_type, extra)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or ()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- the connection protocol ------------------------------------------------------------------


def _timed_protocol(header_timeout_s: float, drain_timeout_s: float) -> Any:
    """uvicorn's h11 protocol with the deadlines it lacks (uvicorn has only a keep-alive one).

    - Headers: a connection must complete a request's headers within header_timeout_s of
      connecting, or of the first byte of a later request; trickling bytes does not extend it
      (slowloris). Past it the connection is closed.
    - A body being discarded after an early answer (413, 503): closed when no byte comes for
      drain_timeout_s. While the app reads a body, its own body timeout applies (408).

    This leans on H11Protocol's conn/transport/loop and on_response_complete, the same from
    uvicorn 0.30 on; h11 is explicit (never httptools) so those are the internals in use.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    hooks = ("connection_made", "data_received", "on_response_complete", "connection_lost")
    if not all(callable(getattr(H11Protocol, name, None)) for name in hooks):
        return "h11"  # an uvicorn we do not know: its own protocol, without the deadlines

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._deadline = self.loop.call_later(header_timeout_s, self._expire)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            conn = self.conn
            if conn.their_state is h11.IDLE:  # between requests or inside headers
                if self._deadline is None:  # set once per request: bytes do not extend it
                    self._deadline = self.loop.call_later(header_timeout_s, self._expire)
            elif conn.their_state is h11.SEND_BODY and conn.our_state in (h11.DONE, h11.MUST_CLOSE):
                self._cancel()  # answered early, the rest is discarded: an idle limit
                self._deadline = self.loop.call_later(drain_timeout_s, self._expire)
            else:
                self._cancel()  # the app has the request (and its body timeout)

        def on_response_complete(self) -> None:
            self._cancel()  # uvicorn's keep-alive timeout takes over until the next bytes
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            super().connection_lost(exc)

        def _cancel(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

    return TimedH11Protocol


# -- the server --------------------------------------------------------------------------------


class Receiver:
    """An OTLP/HTTP receiver on a background thread. Use as a context manager, or start()/stop().

    Port 0 binds any free port; `port` and `url` report the one bound.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        on_traces: TracesCallback | None = None,
        on_logs: LogsCallback | None = None,
        on_metrics: MetricsCallback | None = None,
        auth_token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
        body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
        max_in_flight_bytes: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.header_timeout_s = header_timeout_s
        self.app = OtlpApp(
            on_traces=on_traces,
            on_logs=on_logs,
            on_metrics=on_metrics,
            auth_token=auth_token,
            max_body_bytes=max_body_bytes,
            body_timeout_s=body_timeout_s,
            max_in_flight_bytes=max_in_flight_bytes,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def stats(self) -> ReceiverStats:
        return self.app.stats

    @property
    def url(self) -> str:
        """The base URL a local client should use (OTEL_EXPORTER_OTLP_ENDPOINT)."""
        return f"http://{client_host(self.host)}:{self.port}"

    @property
    def traces_url(self) -> str:
        return self.url + "/v1/traces"

    def start(self) -> Receiver:
        import uvicorn

        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            http=_timed_protocol(self.header_timeout_s, self.app.body_timeout_s),
            log_config=None,
            log_level="error",
            access_log=False,
            lifespan="off",
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        self._server = server

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # noqa: BLE001 - reported by start()/stop()
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name="otelcli-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise OtelcliError(
                    f"the receiver failed to start: {self._failure!r}",
                    hint="re-run with --debug for details",
                )
            if time.monotonic() > deadline:
                self.stop()
                raise OtelcliError("the receiver did not start within 10 s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish, and wait for the thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=15)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- running a command against the receiver ----------------------------------------------------

_SIGNAL_PATHS = {"TRACES": "v1/traces", "LOGS": "v1/logs", "METRICS": "v1/metrics"}


def otlp_environment(
    url: str, auth_token: str | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A copy of `base` (default os.environ) with every OTLP exporter pointed at `url`.

    The signal-specific endpoints are set too, since they would win over the general one;
    the protocol is http/protobuf (the receiver speaks OTLP/HTTP) and the traces exporter otlp;
    headers meant for another backend are dropped and replaced by the bearer token, if any.
    """
    import os
    from urllib.parse import quote

    env = dict(os.environ if base is None else base)
    root = url.rstrip("/")
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = root
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    env["OTEL_TRACES_EXPORTER"] = "otlp"  # a console or none exporter would send us nothing
    for signal, path in _SIGNAL_PATHS.items():
        env[f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"] = f"{root}/{path}"
        env[f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"] = "http/protobuf"
        env.pop(f"OTEL_EXPORTER_OTLP_{signal}_HEADERS", None)
    env.pop("OTEL_EXPORTER_OTLP_HEADERS", None)
    if auth_token:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = "authorization=" + quote(f"Bearer {auth_token}")
    return env


def start_command(
    command: Sequence[str],
    url: str,
    auth_token: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` with its OTLP exporters pointed at the receiver at `url`."""
    import subprocess

    if not command:
        raise UsageError("no command given", hint="put the command after --, e.g. -- python app.py")
    env = otlp_environment(url, auth_token)
    env.update(extra_env or {})
    try:
        return subprocess.Popen(list(command), env=env)
    except OSError as exc:
        raise UsageError(
            f"cannot run {command[0]!r}: {exc.strerror or exc}",
            hint="check the command after --",
        ) from None
