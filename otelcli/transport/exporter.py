"""OTLP/HTTP trace exporter, per the OTLP spec.

Retries only 429/502/503/504 and connection failures, honouring Retry-After, with exponential
back-off and jitter inside one deadline per batch; answers 413 by splitting the batch; reports
partial success without retrying it; accepts responses of either content type.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli import __version__
from otelcli.errors import (
    EndpointFailed,
    EndpointRejected,
    NetworkError,
    OtelcliError,
    TlsSetupError,
)
from otelcli.otlp.batching import split_request
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.spans import count_spans
from otelcli.otlp.wire import string_field
from otelcli.redact import redact_headers, redact_text, redact_url
from otelcli.transport.config import ExporterConfig

log = logging.getLogger("otelcli.transport")

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_REQUEST_BYTES = 64 << 20  # the spec's client limit, before compression
MAX_RESPONSE_BYTES = 4 << 20
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 8.0
MAX_ATTEMPTS = 10
USER_AGENT = f"otelcli/{__version__} OTel-OTLP-Exporter-Python"


@dataclass
class ExportResult:
    spans: int = 0
    accepted: int = 0
    rejected: int = 0  # dropped by the server under partial success (not retried)
    failed: int = 0  # not delivered: 4xx/5xx/network after retries
    requests: int = 0
    attempts: int = 0
    status: int | None = None  # the last HTTP status seen
    latency_s: float = 0.0  # time to the last response
    messages: list[str] = field(default_factory=list)  # server messages (partial success, errors)
    error: OtelcliError | None = None
    undelivered: list[ExportTraceServiceRequest] = field(default_factory=list)

    def merge(self, other: ExportResult) -> None:
        self.spans += other.spans
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.failed += other.failed
        self.requests += other.requests
        self.attempts += other.attempts
        self.status = other.status if other.status is not None else self.status
        self.latency_s = max(self.latency_s, other.latency_s)
        self.messages.extend(m for m in other.messages if m not in self.messages)
        self.error = self.error or other.error
        self.undelivered.extend(other.undelivered)


def build_client(config: ExporterConfig) -> httpx.Client:
    verify: ssl.SSLContext | bool = config.verify_tls
    if config.verify_tls and (config.certificate or config.client_certificate):
        verify = _tls_context(config)
    return httpx.Client(verify=verify, follow_redirects=False)


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
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._client = client or build_client(config)
        self._owns_client = client is None
        self._sleep = sleep
        self._clock = clock
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

    def export(self, batch: ExportTraceServiceRequest) -> ExportResult:
        return self._export(batch, None, count_spans(batch), self._deadline())

    def export_serialized(self, data: bytes, spans: int) -> ExportResult:
        """Export a pre-encoded protobuf request (the fast path for load generation)."""
        return self._export(None, data, spans, self._deadline())

    # -- internals --------------------------------------------------------------------------

    def _deadline(self) -> float | None:
        timeout = self.config.timeout_s
        return None if timeout is None else self._clock() + timeout

    def _remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else deadline - self._clock()

    def _export(
        self,
        batch: ExportTraceServiceRequest | None,
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
            attempt += 1
            result.attempts = attempt
            remaining = self._remaining(deadline)
            if remaining is not None and remaining <= 0:
                return self._give_up(
                    result,
                    batch,
                    data,
                    NetworkError(
                        f"timed out after {self.config.timeout_s:g}s sending to "
                        f"{redact_url(self.config.endpoint)}",
                        hint="raise --timeout (or OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds)",
                    ),
                )
            try:
                status, content_type, response_body, retry_after = self._post(payload, remaining)
            except httpx.TransportError as exc:
                error = self._network_error(exc)
                delay = self._backoff(attempt)
                if self._can_retry(attempt, delay, deadline) and _is_transient(exc):
                    log.debug("attempt %d failed (%s); retrying in %.2fs", attempt, exc, delay)
                    self._sleep(delay)
                    continue
                return self._give_up(result, batch, data, error)
            result.status = status
            result.latency_s = self._clock() - started
            if 200 <= status < 300:
                self._read_partial_success(result, content_type, response_body)
                return result
            message = _error_message(content_type, response_body)
            if message:
                result.messages.append(message)
            if status == 413 and spans > 1:
                log.debug("413 for %d spans: splitting the batch", spans)
                halves = self._split(batch, data, deadline)
                halves.requests += 1  # count this request and its attempts too
                halves.attempts += attempt
                return halves
            if status in RETRYABLE_STATUS:
                delay = retry_after if retry_after is not None else self._backoff(attempt)
                if self._can_retry(attempt, delay, deadline):
                    log.debug("HTTP %d; retrying in %.2fs", status, delay)
                    self._sleep(delay)
                    continue
                return self._give_up(
                    result,
                    batch,
                    data,
                    EndpointFailed(
                        f"{redact_url(self.config.endpoint)} answered HTTP {status} "
                        f"after {attempt} attempt{'s' if attempt > 1 else ''}"
                        + (f": {message}" if message else ""),
                        hint="the endpoint is overloaded or down; retry later or raise --timeout",
                    ),
                )
            return self._give_up(result, batch, data, self._status_error(status, message))

    def _encode(self, batch: ExportTraceServiceRequest | None, data: bytes | None) -> bytes:
        if self.config.protocol == "http/json":
            if batch is None:
                batch = ExportTraceServiceRequest.FromString(data or b"")
            return orjson.dumps(request_to_dict(batch))
        if data is not None:
            return data
        assert batch is not None
        return batch.SerializeToString()

    def _split(
        self,
        batch: ExportTraceServiceRequest | None,
        data: bytes | None,
        deadline: float | None,
    ) -> ExportResult:
        if batch is None:
            batch = ExportTraceServiceRequest.FromString(data or b"")
        result = ExportResult()
        for half in split_request(batch):
            result.merge(self._export(half, None, count_spans(half), deadline))
        return result

    def _post(
        self, payload: bytes, remaining: float | None
    ) -> tuple[int, str, bytes, float | None]:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "POST %s %d bytes headers=%s",
                redact_url(self.config.endpoint),
                len(payload),
                redact_headers(self._headers),
            )
        with self._client.stream(
            "POST",
            self.config.endpoint,
            content=payload,
            headers=self._headers,
            timeout=httpx.Timeout(remaining),
        ) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    body = bytearray()  # over the limit: ignore the body, keep the status
                    break
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

    def _can_retry(self, attempt: int, delay: float, deadline: float | None) -> bool:
        if attempt >= MAX_ATTEMPTS:
            return False
        remaining = self._remaining(deadline)
        return remaining is None or delay < remaining

    def _give_up(
        self,
        result: ExportResult,
        batch: ExportTraceServiceRequest | None,
        data: bytes | None,
        error: OtelcliError,
    ) -> ExportResult:
        result.failed = result.spans
        result.error = error
        result.undelivered.append(
            batch if batch is not None else ExportTraceServiceRequest.FromString(data or b"")
        )
        return result

    def _read_partial_success(self, result: ExportResult, content_type: str, body: bytes) -> None:
        rejected, message = 0, ""
        if body:
            try:
                if "json" in content_type:
                    partial = orjson.loads(body).get("partialSuccess") or {}
                    rejected = int(partial.get("rejectedSpans") or 0)
                    message = str(partial.get("errorMessage") or "")
                else:
                    response = ExportTraceServiceResponse.FromString(body)
                    rejected = response.partial_success.rejected_spans
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
    """The message of a google.rpc.Status body (protobuf or JSON), or the start of a text body."""
    if not body:
        return ""
    if "json" in content_type:
        try:
            value = orjson.loads(body)
            if isinstance(value, dict):
                return str(value.get("message") or value.get("error") or "")[:300]
        except orjson.JSONDecodeError:
            pass
    elif "protobuf" in content_type:
        # google.rpc.Status field 2 is the message; read off the wire, no googleapis protos needed.
        return (string_field(body, 2) or "")[:300]
    return body[:300].decode("utf-8", "replace").strip()


def _hint_for_status(status: int, config: ExporterConfig) -> str:
    if status in (401, 403):
        names = ", ".join(config.headers) or "none"
        return (
            f"check the auth header (headers sent: {names}); set OTEL_EXPORTER_OTLP_HEADERS, "
            "--header, or the preset's key variable"
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
