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

grpcio is imported only when a receiver starts: `grpc_available()` tells whether it can.
The services are registered as generic handlers taking the raw request bytes, rather than
through the generated *_pb2_grpc modules: their deserializer would turn a bad payload into
INTERNAL ("Exception deserializing request!") where OTLP wants INVALID_ARGUMENT.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from otelcli.errors import OtelcliError, UsageError
from otelcli.transport.receiver import (
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
)

if TYPE_CHECKING:
    import grpc

DEFAULT_GRPC_PORT = 4317
_MAX_WORKERS = 8
_STOP_GRACE_S = 5.0

# gRPC status codes by number (what ReceiverStats.rejected_requests counts for this receiver).
GRPC_CODE_NAMES = {
    3: "INVALID_ARGUMENT",
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
    ) -> None:
        self.host = host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.max_workers = max_workers
        # bytes_received counts messages after decompression; rejected_requests is keyed by
        # gRPC status code (GRPC_CODE_NAMES), not HTTP status.
        self.stats = ReceiverStats()
        self._callbacks: dict[str, Callable[[Any], PartialSuccess | None] | None] = {
            "traces": on_traces,
            "logs": on_logs,
            "metrics": on_metrics,
        }
        self._expected_token = auth_token.encode() if auth_token else None
        # One lock for the counters and the callbacks: callbacks never run concurrently.
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
                    "Export": grpc.unary_unary_rpc_method_handler(
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

    def _export_behaviour(self, signal: str, service: _Service) -> Callable[[bytes, Any], bytes]:
        def export(raw: bytes, context: grpc.ServicerContext) -> bytes:
            return self._export(signal, service, raw, context)

        return export

    def _export(
        self, signal: str, service: _Service, raw: bytes, context: grpc.ServicerContext
    ) -> bytes:
        stats = self.stats
        with self._lock:
            stats.requests += 1
            stats.bytes_received += len(raw)
        if self._expected_token is not None and not self._authorized(context):
            self._fail(context, 16, "missing or wrong bearer token")
        try:
            request = service.request_type.FromString(raw)
        except Exception as exc:  # DecodeError (or RuntimeError from some backends)
            self._fail(context, 3, f"invalid protobuf {service.request_type.__name__}: {exc}")
        callback = self._callbacks[signal]
        with self._lock:
            if signal == "traces":
                stats.trace_requests += 1
                stats.spans += service.count(request)
            elif signal == "logs":
                stats.log_requests += 1
                stats.log_records += service.count(request)
            else:
                stats.metric_requests += 1
                stats.data_points += service.count(request)
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

    def _fail(self, context: grpc.ServicerContext, code: int, message: str) -> NoReturn:
        import grpc

        with self._lock:
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
