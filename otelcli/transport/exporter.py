"""OTLP/HTTP trace exporter, per the OTLP spec.

Retries only 429/502/503/504 and connection failures, honouring Retry-After, with exponential
back-off and jitter inside one deadline per batch; answers 413 by splitting the batch; reports
partial success without retrying it; accepts responses of either content type.

The timeout is the spec's: one deadline for the whole export of a batch, retries, back-off and
every read and write included. A network backend bounds each socket operation by what is left
of the deadline (a server trickling its answer cannot stretch it); a Retry-After or back-off
that would end past the deadline fails the batch at once. Without a deadline a single wait is
capped at MAX_UNBOUNDED_WAIT_S. A request that timed out after its body was sent may have been
delivered: its spans are counted as `unknown`, apart from the failed ones.

`export()` never raises for what the endpoint does: it returns an ExportResult whose `error`
holds the typed error (rejected, failed, network) and whose `undelivered` holds the batches
that did not get through, for a dead-letter file.
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli import __version__
from otelcli.errors import (
    EndpointFailed,
    EndpointRejected,
    Interrupted,
    NetworkError,
    OtelcliError,
    TlsSetupError,
)
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.signals import REQUEST_TYPES, Batch, Signal, count_records
from otelcli.otlp.split import split_batch
from otelcli.otlp.wire import string_field
from otelcli.redact import redact_headers, redact_text, redact_url
from otelcli.transport.config import ExporterConfig

log = logging.getLogger("otelcli.transport")

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
_RESPONSES: dict[Signal, tuple[Any, str]] = {
    Signal.TRACES: (ExportTraceServiceResponse, "rejected_spans"),
    Signal.LOGS: (ExportLogsServiceResponse, "rejected_log_records"),
    Signal.METRICS: (ExportMetricsServiceResponse, "rejected_data_points"),
}
_REJECTED_JSON = {
    Signal.TRACES: "rejectedSpans",
    Signal.LOGS: "rejectedLogRecords",
    Signal.METRICS: "rejectedDataPoints",
}
MAX_REQUEST_BYTES = 64 << 20  # the spec's client limit, before compression
MAX_RESPONSE_BYTES = 4 << 20
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 8.0
MAX_ATTEMPTS = 10
MAX_UNBOUNDED_WAIT_S = 300.0  # the longest single retry wait without a deadline (--timeout 0)
POLL_S = 0.2  # a blocked read wakes this often to see a deadline that moved (an interruption)
WRITE_CHUNK = 64 << 10  # writes go in pieces, each bounded by what is left of the deadline
USER_AGENT = f"otelcli/{__version__} OTel-OTLP-Exporter-Python"


@dataclass
class ExportResult:
    spans: int = 0
    accepted: int = 0
    rejected: int = 0  # dropped by the server under partial success (not retried)
    failed: int = 0  # not delivered: 4xx/5xx/network after retries
    unknown: int = 0  # timed out after the request was sent: may have been delivered
    not_sent: int = 0  # never attempted: the export was cut off (an interruption) before it
    requests: int = 0
    attempts: int = 0
    status: int | None = None  # the last HTTP status seen
    latency_s: float = 0.0  # time to the last response
    messages: list[str] = field(default_factory=list)  # server messages (partial success, errors)
    error: OtelcliError | None = None
    undelivered: list[Batch] = field(default_factory=list)

    def merge(self, other: ExportResult) -> None:
        self.spans += other.spans
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.failed += other.failed
        self.unknown += other.unknown
        self.not_sent += other.not_sent
        self.requests += other.requests
        self.attempts += other.attempts
        self.status = other.status if other.status is not None else self.status
        self.latency_s = max(self.latency_s, other.latency_s)
        self.messages.extend(m for m in other.messages if m not in self.messages)
        self.error = self.error or other.error
        self.undelivered.extend(other.undelivered)


# -- the deadline on the wire ----------------------------------------------------------------

_current = threading.local()  # .remaining: what is left of the deadline of this thread's request


def _left(timeout: float | None) -> float | None:
    """The lesser of a socket timeout and what is left of the current request's deadline."""
    remaining: Callable[[], float | None] | None = getattr(_current, "remaining", None)
    left = remaining() if remaining is not None else None
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """Every read and write is bounded by what is left of the deadline, not just by its own
    timeout, so a peer that sends (or takes) a byte at a time cannot stretch the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        clock = time.monotonic
        ends = None if timeout is None else clock() + timeout
        while True:
            left = _left(None if ends is None else ends - clock())
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout("the deadline passed while reading the answer")
            try:
                # Short waits, so that a deadline moved by an interruption is seen at once.
                return self._inner.read(max_bytes, POLL_S if left is None else min(left, POLL_S))
            except httpcore.ReadTimeout:
                continue  # nothing arrived in this slice: look at the deadline again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_CHUNK):
            left = _left(timeout)
            if left is not None and left <= 0:
                raise httpcore.WriteTimeout("the deadline passed while sending the request")
            self._inner.write(buffer[start : start + WRITE_CHUNK], left)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(timeout)
        if left is not None and left <= 0:
            raise httpcore.ConnectTimeout("the deadline passed before connecting")
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, left, local_address, socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, _left(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def build_client(config: ExporterConfig) -> httpx.Client:
    verify: ssl.SSLContext | bool = config.verify_tls
    if config.verify_tls and (config.certificate or config.client_certificate):
        verify = _tls_context(config)
    transport = httpx.HTTPTransport(verify=verify)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
        # Connections made from here on read and write under the request's deadline. Without
        # it (another httpcore), _post still checks the deadline between chunks.
        pool._network_backend = _DeadlineBackend()
    return httpx.Client(transport=transport, follow_redirects=False)


def _tls_context(config: ExporterConfig) -> ssl.SSLContext:
    """The TLS context for the configured CA and client certificate files, or a TlsSetupError."""
    setting, path = "OTEL_EXPORTER_OTLP_CERTIFICATE", config.certificate
    try:
        context = ssl.create_default_context(cafile=config.certificate)
        if config.client_certificate:
            setting, path = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", config.client_certificate
            context.load_cert_chain(config.client_certificate, config.client_key)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise TlsSetupError(
            f"cannot use the TLS file {path}: {reason}",
            hint=f"check {setting} (and _CLIENT_KEY): each must name a readable PEM file",
        ) from None
    return context


class OtlpExporter:
    def __init__(
        self,
        config: ExporterConfig,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        signal: Signal = Signal.TRACES,
    ) -> None:
        """`signal`: what this exporter sends, to where `config.for_signal` says."""
        self.signal = signal
        self._request = REQUEST_TYPES[signal]
        config = config.for_signal(signal)
        self.config = config
        self._client = client or build_client(config)
        self._owns_client = client is None
        self._wake = threading.Event()  # set by cut_off: ends back-off waits early
        self._sleep = sleep or (lambda seconds: None if self._wake.wait(seconds) else None)
        self._clock = clock
        self._cutoff: float | None = None  # set by cut_off: no export goes on past it
        self._rng = rng or random.Random()
        self._headers = {
            "content-type": config.content_type,
            "user-agent": USER_AGENT,
            **config.headers,
        }
        if config.compression == "gzip":
            self._headers["content-encoding"] = "gzip"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OtlpExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------

    def cut_off(self, grace_s: float) -> None:
        """Stop: exports under way get `grace_s` more at most (their deadlines still hold),
        back-off waits end now, no retry starts, and new exports are not sent (`not_sent`).
        Safe to call from any thread but a signal handler; calling again can only shorten."""
        at = self._clock() + max(0.0, grace_s)
        self._cutoff = at if self._cutoff is None else min(self._cutoff, at)
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._cutoff is not None

    def export(self, batch: Batch) -> ExportResult:
        """Export a batch of this exporter's signal."""
        return self._export(batch, None, count_records(batch), self._deadline())

    def export_serialized(self, data: bytes, spans: int) -> ExportResult:
        """Export a pre-encoded protobuf request (the fast path for load generation)."""
        return self._export(None, data, spans, self._deadline())

    # -- internals --------------------------------------------------------------------------

    def _deadline(self) -> float | None:
        timeout = self.config.timeout_s
        return None if timeout is None else self._clock() + timeout

    def _remaining(self, deadline: float | None) -> float | None:
        """What is left of the batch's deadline, or of the grace after a cut-off if sooner."""
        cutoff = self._cutoff
        if cutoff is not None:
            deadline = cutoff if deadline is None else min(deadline, cutoff)
        return None if deadline is None else deadline - self._clock()

    def _export(
        self,
        batch: Batch | None,
        data: bytes | None,
        spans: int,
        deadline: float | None,
    ) -> ExportResult:
        if spans == 0:
            return ExportResult()  # the spec: senders should not send empty envelopes
        body = self._encode(batch, data)
        if len(body) > MAX_REQUEST_BYTES and spans > 1:
            return self._split(batch, data, deadline)
        result = ExportResult(spans=spans, requests=1)
        payload = (
            gzip.compress(body, compresslevel=5) if self.config.compression == "gzip" else body
        )
        started = self._clock()
        attempt = 0
        while True:
            if self.stopping and attempt == 0:
                # Cut off before its first attempt: never sent, and not counted as a request.
                result.requests = 0
                result.not_sent = spans
                result.undelivered.append(_as_request(batch, data))
                return result
            attempt += 1
            result.attempts = attempt
            remaining = self._remaining(deadline)
            if remaining is not None and remaining <= 0:
                return self._give_up(result, batch, data, self._deadline_error())
            sent = [False]
            try:
                status, content_type, response_body, retry_after = self._post(
                    payload, deadline, sent
                )
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException) and sent[0]:
                    # The whole request went out and no answer came before the deadline: the
                    # endpoint may have taken it. Not retried (that could duplicate it).
                    return self._give_up(
                        result, batch, data, self._sent_timeout_error(), unknown=True
                    )
                error = self._network_error(exc)
                delay = self._backoff(attempt)
                refusal = self._refusal(attempt, delay, deadline, asked=False)
                if refusal is None and _is_transient(exc):
                    log.info("attempt %d failed (%s); retrying in %.2fs", attempt, exc, delay)
                    self._sleep(delay)
                    if not self.stopping:  # a cut-off during the wait: no new attempt
                        continue
                return self._give_up(result, batch, data, error)
            result.status = status
            result.latency_s = self._clock() - started
            if 200 <= status < 300:
                self._read_partial_success(result, content_type, response_body)
                return result
            message = _error_message(content_type, response_body)
            if message and message not in result.messages:  # retries: said once
                result.messages.append(message)
            if status == 413 and spans > 1:
                log.info("413 for %d spans: splitting the batch", spans)
                halves = self._split(batch, data, deadline)
                halves.requests += 1  # count this request and its attempts too
                halves.attempts += attempt
                return halves
            if status in RETRYABLE_STATUS:
                asked = retry_after is not None
                delay = retry_after if retry_after is not None else self._backoff(attempt)
                refusal = self._refusal(attempt, delay, deadline, asked=asked)
                if refusal is None:
                    log.info("HTTP %d; retrying in %.2fs", status, delay)
                    self._sleep(delay)
                    if not self.stopping:
                        continue
                    refusal = "not retried: interrupted"  # a cut-off during the wait
                return self._give_up(
                    result,
                    batch,
                    data,
                    EndpointFailed(
                        f"{redact_url(self.config.endpoint)} answered HTTP {status} "
                        f"after {attempt} attempt{'s' if attempt > 1 else ''}"
                        + (f": {message}" if message else "")
                        + f" ({refusal})",
                        hint="the endpoint is overloaded or down; retry later or raise --timeout",
                    ),
                )
            return self._give_up(result, batch, data, self._status_error(status, message))

    def _encode(self, batch: Batch | None, data: bytes | None) -> bytes:
        if self.config.protocol == "http/json":
            if batch is None:
                batch = self._request.FromString(data or b"")
            return orjson.dumps(request_to_dict(batch))
        if data is not None:
            return data
        assert batch is not None
        return batch.SerializeToString()

    def _split(
        self,
        batch: Batch | None,
        data: bytes | None,
        deadline: float | None,
    ) -> ExportResult:
        if batch is None:
            batch = self._request.FromString(data or b"")
        result = ExportResult()
        for half in split_batch(batch):
            result.merge(self._export(half, None, count_records(half), deadline))
        return result

    def _post(
        self, payload: bytes, deadline: float | None, sent: list[bool]
    ) -> tuple[int, str, bytes, float | None]:
        """One attempt. Sets sent[0] once the whole request is on the wire."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "POST %s %d bytes headers=%s",
                redact_url(self.config.endpoint),
                len(payload),
                redact_headers(self._headers),
            )

        def trace(event: str, info: object) -> None:
            if event.endswith(".send_request_body.complete"):
                sent[0] = True

        def remaining() -> float | None:
            return self._remaining(deadline)

        _current.remaining = remaining  # read by _DeadlineStream in this thread
        try:
            with self._client.stream(
                "POST",
                self.config.endpoint,
                content=payload,
                headers=self._headers,
                timeout=httpx.Timeout(remaining()),
                extensions={"trace": trace},
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    left = remaining()
                    if left is not None and left <= 0:  # also without the deadline backend
                        raise httpx.ReadTimeout("the deadline passed while reading the answer")
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        body = bytearray()  # over the limit: ignore the body, keep the status
                        break
                return self._answer(response, body)
        finally:
            _current.remaining = None

    def _answer(
        self, response: httpx.Response, body: bytearray
    ) -> tuple[int, str, bytes, float | None]:
        retry_after = _retry_after(response.headers.get("retry-after"), self._clock)
        log.debug("-> HTTP %d (%d body bytes)", response.status_code, len(body))
        return (
            response.status_code,
            response.headers.get("content-type", ""),
            bytes(body),
            retry_after,
        )

    def _backoff(self, attempt: int) -> float:
        delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** (attempt - 1))
        return float(delay * self._rng.uniform(0.5, 1.0))  # jitter spreads retries of many clients

    def _refusal(
        self, attempt: int, delay: float, deadline: float | None, *, asked: bool
    ) -> str | None:
        """Why the next attempt, `delay` seconds away, will not be made; None if it will."""
        if attempt >= MAX_ATTEMPTS:
            return f"gave up after {MAX_ATTEMPTS} attempts"
        if self.stopping:
            return "not retried: interrupted"
        wait = f"asked to retry after {delay:g}s" if asked else f"next retry in {delay:.1f}s"
        remaining = self._remaining(deadline)
        if remaining is None:
            if delay > MAX_UNBOUNDED_WAIT_S:
                return (
                    f"{wait}; without a deadline (--timeout 0) otelcli waits at most "
                    f"{MAX_UNBOUNDED_WAIT_S:g}s at a time"
                )
            return None
        if delay >= remaining:
            return (
                f"{wait}, past the --timeout {self.config.timeout_s:g}s deadline "
                f"({max(0.0, remaining):.1f}s left)"
            )
        return None

    def _deadline_error(self) -> OtelcliError:
        where = redact_url(self.config.endpoint)
        if self.stopping:
            return Interrupted(f"interrupted before the batch could be delivered to {where}")
        return NetworkError(
            f"timed out after {self.config.timeout_s:g}s sending to {where}",
            hint="raise --timeout (or OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds)",
        )

    def _sent_timeout_error(self) -> OtelcliError:
        where = redact_url(self.config.endpoint)
        if self.stopping:
            why = "it was still waiting when the grace period after the interruption ended"
        elif self.config.timeout_s is None:
            why = "the connection timed out"
        else:
            why = f"the --timeout {self.config.timeout_s:g}s deadline passed"
        return NetworkError(
            f"unknown: timed out after sending to {where} ({why}, with no answer); "
            "the endpoint may have received these spans",
            hint="they are dead-lettered all the same: check the backend before replaying them",
        )

    def _give_up(
        self,
        result: ExportResult,
        batch: Batch | None,
        data: bytes | None,
        error: OtelcliError,
        *,
        unknown: bool = False,
    ) -> ExportResult:
        if unknown:
            result.unknown = result.spans
        else:
            result.failed = result.spans
        result.error = error
        result.undelivered.append(_as_request(batch, data))
        return result

    def _read_partial_success(self, result: ExportResult, content_type: str, body: bytes) -> None:
        rejected, message = 0, ""
        if body:
            try:
                if "json" in content_type:
                    partial = orjson.loads(body).get("partialSuccess") or {}
                    rejected = int(partial.get(_REJECTED_JSON[self.signal]) or 0)
                    message = str(partial.get("errorMessage") or "")
                else:
                    kind, rejected_field = _RESPONSES[self.signal]
                    response = kind.FromString(body)
                    rejected = getattr(response.partial_success, rejected_field)
                    message = response.partial_success.error_message
            except Exception:  # a 2xx with a body we cannot read is still a success
                log.debug("2xx with an unreadable body (%s)", content_type)
        rejected = max(0, min(rejected, result.spans))
        result.rejected = rejected
        result.accepted = result.spans - rejected
        if message:
            result.messages.append(message)

    def _status_error(self, status: int, message: str) -> OtelcliError:
        where = redact_url(self.config.endpoint)
        detail = f": {message}" if message else ""
        if 400 <= status < 500:
            return EndpointRejected(
                f"{where} rejected the data: HTTP {status}{detail}",
                hint=_hint_for_status(status, self.config),
            )
        return EndpointFailed(
            f"{where} failed: HTTP {status}{detail}",
            hint="a server error that the OTLP spec says not to retry",
        )

    def _network_error(self, exc: httpx.TransportError) -> NetworkError:
        where = redact_url(self.config.endpoint)
        reason = redact_text(str(exc) or type(exc).__name__)
        if isinstance(exc, httpx.TimeoutException):
            return NetworkError(
                f"timed out talking to {where}",
                hint="raise --timeout (or OTEL_EXPORTER_OTLP_TIMEOUT, in ms)",
            )
        if "CERTIFICATE" in reason.upper() or "SSL" in reason.upper():
            return NetworkError(
                f"TLS failed for {where}: {reason}",
                hint="set OTEL_EXPORTER_OTLP_CERTIFICATE to the CA file, "
                "or --tls-no-verify for a test server",
            )
        return NetworkError(
            f"cannot reach {where}: {reason}",
            hint="is the endpoint up? check --endpoint / OTEL_EXPORTER_OTLP_ENDPOINT"
            " (try `otelcli tail` for a local receiver)",
        )


def _as_request(batch: Batch | None, data: bytes | None) -> Batch:
    # Pre-encoded bytes come from send's load mode only: traces.
    return batch if batch is not None else ExportTraceServiceRequest.FromString(data or b"")


def _is_transient(exc: httpx.TransportError) -> bool:
    """Connection failures and drops are retried; a TLS failure or a bad URL will not heal."""
    text = str(exc).upper()
    if "CERTIFICATE" in text or "SSL" in text:
        return False
    return not isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError))


def _retry_after(value: str | None, clock: Callable[[], float]) -> float | None:
    """Retry-After as seconds, from delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_message(content_type: str, body: bytes) -> str:
    """The message of an error body, with any secret the server echoed back masked."""
    return redact_text(_raw_error_message(content_type, body))


def _raw_error_message(content_type: str, body: bytes) -> str:
    """The first line of what an error body says: a google.rpc.Status message (protobuf or
    JSON), the usual JSON error fields, or the start of a text body."""
    if not body:
        return ""
    text = ""
    if "protobuf" in content_type:
        # google.rpc.Status field 2 is the message; read off the wire, no googleapis protos needed.
        text = string_field(body, 2) or ""
    if not text:  # JSON or text, whatever the content type claims
        try:
            text = _json_message(orjson.loads(body))
        except orjson.JSONDecodeError:
            text = ""
    if not text:
        start = body[:2000].decode("utf-8", "replace")
        text = start if start.isprintable() or "\n" in start else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


_MESSAGE_KEYS = ("message", "error", "detail", "error_description", "title", "msg", "description")


def _json_message(value: object, depth: int = 0) -> str:
    """The message in an error document: {"message": ...}, {"error": {"message": ...}},
    FastAPI's {"detail": [{"msg": ...}]} and the like."""
    if depth > 3:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _json_message(value[0], depth + 1)
    if isinstance(value, dict):
        for key in _MESSAGE_KEYS:
            found = _json_message(value.get(key), depth + 1)
            if found:
                return found
    return ""


def _hint_for_status(status: int, config: ExporterConfig) -> str:
    if status in (401, 403):
        names = ", ".join(config.headers) or "none"
        if config.preset is not None:
            from otelcli.transport.presets import PRESETS

            preset = PRESETS.get(config.preset)
            variables = preset.variables if preset else "its variables"
            return (
                f"check the key --to {config.preset} reads from {variables} (headers sent: "
                f"{names}); OTEL_EXPORTER_OTLP_HEADERS is not used with a preset"
            )
        return (
            f"check the auth header (headers sent: {names}); set OTEL_EXPORTER_OTLP_HEADERS "
            "or pass --header"
        )
    if status in (404, 405):
        return (
            "wrong path? OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended, "
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as-is"
        )
    if status == 415:
        return "the endpoint does not take this encoding: try --protocol http/protobuf"
    if status == 413:
        return "a single span is larger than the endpoint accepts"
    return "the endpoint refused the data; the OTLP spec says not to retry it"
