"""A local OTLP/gRPC receiver: the OTLP Export services on a grpc.server (the `grpc` extra).

    with GrpcReceiver("127.0.0.1", 0, on_traces=batches.put) as receiver:
        print(receiver.url)  # http://127.0.0.1:<bound port>: a gRPC exporter's endpoint
        ...

It answers TraceService, LogsService and MetricsService Export with the same callbacks and
meaning as the OTLP/HTTP Receiver:

- Success returns an Export*ServiceResponse, with a partial success when the callback asks
  for one (PartialSuccess).
- An optional bearer token: without it, UNAUTHENTICATED.
- Messages over `max_body_bytes` (after decompression) are refused by gRPC itself with
  RESOURCE_EXHAUSTED before any of them is buffered here, so they never reach `stats`;
  gzip and deflate are accepted.
- A payload that is not the service's request message is INVALID_ARGUMENT; a failing
  callback is INTERNAL. The server keeps serving.
- stop() refuses new calls and lets those in flight finish.

Callbacks run on the server's worker threads, one at a time and before the client gets its
answer, so an acknowledged batch has always been handed over. Keep them quick.

Memory and slow clients. gRPC reads and decompresses a message itself, so its size is known
only once it is in memory. Export is therefore served as a stream-unary method (the same on
the wire as unary: one message, then the client half-closes), which lets a call be admitted
*before* its message is read: it reserves max_body_bytes of the receiver-wide budget
(max_in_flight_bytes, 4 x max_body_bytes by default), waiting up to budget_wait_s for room,
else it is refused UNAVAILABLE (retryable for every OTLP sender; RESOURCE_EXHAUSTED is not,
without RetryInfo). Once read, the reservation shrinks to the message's size and is held
until the call ends. So at most max_in_flight_bytes / max_body_bytes messages are being read
at once and all held messages fit the budget. A call whose message does not arrive within
read_timeout_s is cancelled, so stalled clients cannot pin the workers or the budget.

grpcio is imported only when a receiver starts: `grpc_available()` tells whether it can.
The services are registered as generic handlers taking the raw request bytes, rather than
through the generated *_pb2_grpc modules: their deserializer would turn a bad payload into
INTERNAL ("Exception deserializing request!") where OTLP wants INVALID_ARGUMENT.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from otelcli.errors import OtelcliError, UsageError
from otelcli.transport.receiver import (
    DEFAULT_BODY_TIMEOUT_S,
    DEFAULT_HOST,
    DEFAULT_MAX_BODY_BYTES,
    ConsumerUnavailable,
    LogsCallback,
    MetricsCallback,
    PartialSuccess,
    ReceiverStats,
    TracesCallback,
    bearer_matches,
    client_host,
    count_data_points,
    count_log_records,
    in_flight_limit,
)

if TYPE_CHECKING:
    import grpc

DEFAULT_GRPC_PORT = 4317
_MAX_WORKERS = 8
_STOP_GRACE_S = 5.0
_BUDGET_WAIT_S = 1.0  # how long a call may wait for room in the budget before UNAVAILABLE

# gRPC status codes by number (what ReceiverStats.rejected_requests counts for this receiver).
GRPC_CODE_NAMES = {
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    8: "RESOURCE_EXHAUSTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    16: "UNAUTHENTICATED",
}


def grpc_code_name(code: int | str) -> str:
    """A gRPC status code's name (ReceiverStats.to_dict() keys are strings)."""
    return GRPC_CODE_NAMES.get(int(code), f"code {code}")


def grpc_available() -> bool:
    """Whether grpcio is installed (without importing it)."""
    return importlib.util.find_spec("grpc") is not None


def require_grpc() -> None:
    if not grpc_available():
        raise UsageError(
            "OTLP/gRPC needs grpcio, which is not installed",
            hint="pip install 'otelcli[grpc]', or leave gRPC off with --no-grpc",
        )


class _Service:
    """One OTLP Export service: how to decode its request, count it and answer it."""

    def __init__(
        self,
        name: str,
        request_type: Any,
        response_type: Any,
        count: Callable[[Any], int],
        rejected_field: str,
    ) -> None:
        self.name = name
        self.request_type = request_type
        self.response_type = response_type
        self.count = count
        self.rejected_field = rejected_field

    def response(self, partial: PartialSuccess | None) -> bytes:
        response = self.response_type()
        if partial is not None:
            setattr(response.partial_success, self.rejected_field, partial.rejected)
            response.partial_success.error_message = partial.message
        data: bytes = response.SerializeToString()
        return data


def _services() -> dict[str, _Service]:
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace

    def count_spans(request: Any) -> int:
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)

    return {
        "traces": _Service(
            trace.DESCRIPTOR.services_by_name["TraceService"].full_name,
            trace.ExportTraceServiceRequest,
            trace.ExportTraceServiceResponse,
            count_spans,
            "rejected_spans",
        ),
        "logs": _Service(
            logs.DESCRIPTOR.services_by_name["LogsService"].full_name,
            logs.ExportLogsServiceRequest,
            logs.ExportLogsServiceResponse,
            count_log_records,
            "rejected_log_records",
        ),
        "metrics": _Service(
            metrics.DESCRIPTOR.services_by_name["MetricsService"].full_name,
            metrics.ExportMetricsServiceRequest,
            metrics.ExportMetricsServiceResponse,
            count_data_points,
            "rejected_data_points",
        ),
    }


class GrpcReceiver:
    """An OTLP/gRPC receiver on grpc's own threads. Use as a context manager, or start()/stop().

    Port 0 binds any free port; `port`, `url` and `target` report the one bound.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_GRPC_PORT,
        *,
        on_traces: TracesCallback | None = None,
        on_logs: LogsCallback | None = None,
        on_metrics: MetricsCallback | None = None,
        auth_token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_workers: int = _MAX_WORKERS,
        max_in_flight_bytes: int | None = None,
        budget_wait_s: float = _BUDGET_WAIT_S,
        read_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.max_workers = max_workers
        self.max_in_flight_bytes = in_flight_limit(max_body_bytes, max_in_flight_bytes)
        self.budget_wait_s = budget_wait_s
        self.read_timeout_s = read_timeout_s
        self.in_flight_bytes = 0  # reserved now; and the most ever reserved at once
        self.peak_in_flight_bytes = 0
        self._budget = threading.Condition()
        # bytes_received counts messages after decompression; rejected_requests is keyed by
        # gRPC status code (GRPC_CODE_NAMES), not HTTP status.
        self.stats = ReceiverStats()
        self._callbacks: dict[str, Callable[[Any], PartialSuccess | None] | None] = {
            "traces": on_traces,
            "logs": on_logs,
            "metrics": on_metrics,
        }
        self._expected_token = auth_token.encode() if auth_token else None
        # The callbacks never run concurrently; the counters have their own lock, so that
        # refusing a call never waits for a callback.
        self._deliver_lock = threading.Lock()
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._executor: Any = None

    @property
    def target(self) -> str:
        """host:port for a gRPC channel."""
        return f"{client_host(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        """The endpoint for a gRPC exporter (http: plaintext, as OTEL_EXPORTER_OTLP_ENDPOINT)."""
        return f"http://{self.target}"

    def start(self) -> GrpcReceiver:
        require_grpc()
        from concurrent.futures import ThreadPoolExecutor

        import grpc

        handlers = [
            grpc.method_handlers_generic_handler(
                service.name,
                {
                    # stream-unary: admitted before the message is read (module docstring)
                    "Export": grpc.stream_unary_rpc_method_handler(
                        self._export_behaviour(signal, service),
                        request_deserializer=None,  # raw bytes: decoded in _export
                        response_serializer=None,
                    )
                },
            )
            for signal, service in _services().items()
        ]
        executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="otelcli-grpc")
        server = grpc.server(
            executor,
            handlers=handlers,
            options=[
                ("grpc.max_receive_message_length", self.max_body_bytes),
                # Without this a second server could share the port and split the traffic.
                ("grpc.so_reuseport", 0),
            ],
        )
        address = f"{_bracketed(self.host)}:{self.port}"
        # Checked first so that a taken port is one clear error, not a gRPC core log line too.
        problem = _bind_problem(self.host, self.port)
        if problem is not None:
            executor.shutdown(wait=False)
            raise _port_error(address, problem)
        try:
            bound = server.add_insecure_port(address)
        except RuntimeError as exc:  # recent grpcio raises; older ones return 0
            bound, detail = 0, str(exc)
        else:
            detail = "the address is not available"
        if not bound:
            executor.shutdown(wait=False)
            raise _port_error(address, detail)
        self.port = bound
        try:
            server.start()
        except Exception as exc:
            executor.shutdown(wait=False)
            raise OtelcliError(f"the OTLP/gRPC receiver failed to start: {exc}") from None
        self._server, self._executor = server, executor
        return self

    def stop(self, grace_s: float = _STOP_GRACE_S) -> None:
        """Refuse new calls, let calls in flight finish (up to grace_s), release the port."""
        server, executor = self._server, self._executor
        if server is None:
            return
        self._server = self._executor = None
        server.stop(grace_s).wait()
        executor.shutdown(wait=True)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> GrpcReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one call ------------------------------------------------------------------------------

    def _export_behaviour(
        self, signal: str, service: _Service
    ) -> Callable[[Iterator[bytes], Any], bytes]:
        def export(messages: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
            if self._expected_token is not None and not self._authorized(context):
                self._fail(context, 16, "missing or wrong bearer token", early=True)
            if not self._reserve(self.max_body_bytes):
                self._fail(
                    context,
                    14,
                    f"the receiver is busy ({self.in_flight_bytes} message bytes in flight, "
                    f"budget {self.max_in_flight_bytes}): retry later",
                    early=True,
                )
            held = self.max_body_bytes
            try:
                raw = self._read_one(messages, context)
                self._release(held - len(raw))  # from the worst case to what arrived
                held = len(raw)
                return self._export(signal, service, raw, context)
            finally:
                self._release(held)

        return export

    def _read_one(self, messages: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        """The call's one message, or the call cancelled when it is not there in time."""
        import grpc

        stalled = threading.Event()

        def expire() -> None:
            stalled.set()
            context.cancel()

        timer = threading.Timer(self.read_timeout_s, expire)
        timer.daemon = True
        timer.start()
        try:
            return next(messages)
        except (StopIteration, grpc.RpcError) as exc:
            # a cancelled call ends its messages either way
            if stalled.is_set():
                message = f"no request message within {self.read_timeout_s:g} s"
                self._fail(context, 4, message, early=True)
            if isinstance(exc, StopIteration):
                self._fail(context, 3, "no request message", early=True)
            # The client gave up, or gRPC refused the message (over the limit: the client
            # got RESOURCE_EXHAUSTED): nothing of it reached this receiver, nothing to count.
            context.abort(grpc.StatusCode.CANCELLED, "no request message")
            raise AssertionError("unreachable: abort raises") from None
        finally:
            timer.cancel()

    def _reserve(self, size: int) -> bool:
        deadline = time.monotonic() + self.budget_wait_s
        with self._budget:
            while self.in_flight_bytes + size > self.max_in_flight_bytes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._budget.wait(remaining)
            self.in_flight_bytes += size
            self.peak_in_flight_bytes = max(self.peak_in_flight_bytes, self.in_flight_bytes)
            return True

    def _release(self, size: int) -> None:
        with self._budget:
            self.in_flight_bytes -= size
            self._budget.notify_all()

    def _export(
        self, signal: str, service: _Service, raw: bytes, context: grpc.ServicerContext
    ) -> bytes:
        stats = self.stats
        with self._lock:
            stats.requests += 1
            stats.bytes_received += len(raw)
        try:
            request = service.request_type.FromString(raw)
        except Exception as exc:  # DecodeError (or RuntimeError from some backends)
            self._fail(context, 3, f"invalid protobuf {service.request_type.__name__}: {exc}")
        del raw
        callback = self._callbacks[signal]
        count = service.count(request)
        with self._lock:
            if signal == "traces":
                stats.trace_requests += 1
                stats.spans += count
            elif signal == "logs":
                stats.log_requests += 1
                stats.log_records += count
            else:
                stats.metric_requests += 1
                stats.data_points += count
        with self._deliver_lock:
            try:
                partial = callback(request) if callback is not None else None
            except ConsumerUnavailable as exc:  # the client retries UNAVAILABLE
                code, failure = 14, str(exc)
            except Exception as exc:  # a failing consumer must not take the server down
                code = 13
                failure = f"the receiver's consumer failed: {type(exc).__name__}: {exc}"
            else:
                return service.response(partial)
        self._fail(context, code, failure)

    def _authorized(self, context: grpc.ServicerContext) -> bool:
        assert self._expected_token is not None
        for key, value in context.invocation_metadata():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else bytes(value)
                return bearer_matches(given, self._expected_token)
        return False

    def _fail(
        self, context: grpc.ServicerContext, code: int, message: str, *, early: bool = False
    ) -> NoReturn:
        """Count and abort; `early`: before the message was read (so not yet a request)."""
        import grpc

        with self._lock:
            if early:
                self.stats.requests += 1
            rejected = self.stats.rejected_requests
            rejected[code] = rejected.get(code, 0) + 1
            self.stats.recent_errors.append(f"gRPC {GRPC_CODE_NAMES[code]}: {message[:300]}")
        status = next(s for s in grpc.StatusCode if s.value[0] == code)
        context.abort(status, message[:1000])
        raise AssertionError("unreachable: abort raises")  # for type checkers


def _bind_problem(host: str, port: int) -> str | None:
    """Why host:port cannot be bound (None when it can), checked with a throwaway socket."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return str(exc.strerror)
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
        try:
            probe.bind(address)
        except OSError as exc:
            return str(exc.strerror or exc)
    return None


def _port_error(address: str, detail: str) -> UsageError:
    return UsageError(
        f"cannot listen for OTLP/gRPC on {address}: {detail}",
        hint="is another receiver (otelcli tail, a collector) using the port? "
        "pick another with --grpc-listen (port 0 for any free one), or --no-grpc",
    )


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
