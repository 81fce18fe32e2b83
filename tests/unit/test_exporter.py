"""The exporter against a real loopback HTTP receiver: encodings, retries, 413, partial success."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from otelcli.errors import EndpointFailed, EndpointRejected, NetworkError
from otelcli.otlp.spans import count_spans
from otelcli.transport.config import ExporterConfig, resolve_exporter_config
from otelcli.transport.exporter import OtlpExporter, _retry_after
from tests.conftest import make_request
from tests.raw_server import ANSWER, RawServer, hold, never_read, trickle
from tests.receiver import Received, RecordingReceiver, Reply

Start = Callable[[Callable[[Received, int], Reply]], RecordingReceiver]


class FakeTime:
    """Sleeps advance a fake clock instantly, and are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


_open: list[OtlpExporter] = []


@pytest.fixture(autouse=True)
def close_exporters() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def exporter_for(url: str, fake: FakeTime | None = None, **overrides: Any) -> OtlpExporter:
    config = ExporterConfig(endpoint=url, **overrides)
    if fake is None:
        exporter = OtlpExporter(config)
    else:
        exporter = OtlpExporter(config, sleep=fake.sleep, clock=fake.clock)
    _open.append(exporter)
    return exporter


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_delivers_both_encodings(
    receiver: RecordingReceiver, protocol: str, compression: str
) -> None:
    batch = make_request(4)
    with exporter_for(
        receiver.url, protocol=protocol, compression=compression, headers={"x-api-key": "secret"}
    ) as exporter:
        result = exporter.export(batch)
    assert (result.spans, result.accepted, result.rejected, result.failed) == (4, 4, 0, 0)
    assert result.error is None and result.status == 200
    (got,) = receiver.requests
    assert got.path == "/v1/traces"
    assert got.request == batch
    assert got.headers["x-api-key"] == "secret"
    expected_type = "application/json" if protocol == "http/json" else "application/x-protobuf"
    assert got.headers["content-type"] == expected_type
    assert (got.headers.get("content-encoding") == "gzip") is (compression == "gzip")
    assert got.headers["user-agent"].startswith("otelcli/")


def test_env_config_reaches_the_wire(receiver: RecordingReceiver) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url,
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20tok%3D",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
    }
    with OtlpExporter(resolve_exporter_config(env=env)) as exporter:
        assert exporter.export(make_request(1)).accepted == 1
    (got,) = receiver.requests
    assert got.path == "/v1/traces"
    assert got.headers["authorization"] == "Bearer tok="
    assert got.headers["content-type"] == "application/json"
    assert got.headers["content-encoding"] == "gzip"


def test_retries_503_then_succeeds(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(503) if i < 2 else Reply())
    fake = FakeTime()
    result = exporter_for(receiver.url, fake).export(make_request(2))
    assert result.accepted == 2 and result.attempts == 3
    assert len(fake.sleeps) == 2
    assert 0.25 <= fake.sleeps[0] <= 0.5 and 0.5 <= fake.sleeps[1] <= 1.0  # exponential + jitter


def test_honours_retry_after(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(
        lambda r, i: Reply(429, headers={"retry-after": "3"}) if i == 0 else Reply()
    )
    fake = FakeTime()
    result = exporter_for(receiver.url, fake).export(make_request(1))
    assert result.accepted == 1
    assert fake.sleeps == [3.0]


def test_gives_up_at_the_deadline(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(
        lambda r, i: Reply(
            503,
            body=b"upstream down",
            headers={"content-type": "text/plain", "retry-after": "2"},
        )
    )
    fake = FakeTime()
    result = exporter_for(receiver.url, fake, timeout_s=5.0).export(make_request(3))
    assert isinstance(result.error, EndpointFailed), result.error
    assert "503" in result.error.message and "upstream down" in result.error.message
    assert (result.accepted, result.failed) == (0, 3)
    # 2 s + 2 s of waiting fit in the 5 s deadline; a third wait would not.
    assert fake.sleeps == [2.0, 2.0] and result.attempts == 3
    assert result.undelivered and count_spans(result.undelivered[0]) == 3


def test_backoff_is_exponential_up_to_the_attempt_limit(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(502))
    fake = FakeTime()
    result = exporter_for(receiver.url, fake, timeout_s=None).export(make_request(1))
    assert isinstance(result.error, EndpointFailed)
    assert result.attempts == 10 and len(fake.sleeps) == 9
    for attempt, slept in enumerate(fake.sleeps, start=1):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= slept <= ceiling


def test_retry_after_beyond_the_deadline_stops_at_once(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(503, headers={"retry-after": "60"}))
    fake = FakeTime()
    result = exporter_for(receiver.url, fake, timeout_s=10.0).export(make_request(1))
    assert isinstance(result.error, EndpointFailed)
    assert fake.sleeps == [] and len(receiver.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_non_retryable_statuses_are_not_retried(scripted_receiver: Start, status: int) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(status))
    result = exporter_for(receiver.url, FakeTime()).export(make_request(2))
    assert len(receiver.requests) == 1
    expected = EndpointRejected if status < 500 else EndpointFailed
    assert isinstance(result.error, expected)
    assert result.failed == 2


def test_error_message_from_a_protobuf_status_body(scripted_receiver: Start) -> None:
    # google.rpc.Status{code=3, message="bad span"} encoded by hand
    status_body = b"\x08\x03\x12\x08bad span"
    receiver = scripted_receiver(lambda r, i: Reply(400, body=status_body))
    result = exporter_for(receiver.url).export(make_request(1))
    assert result.error is not None and "bad span" in result.error.message


def test_auth_failure_hints_at_headers(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(401))
    result = exporter_for(receiver.url, headers={"authorization": "Basic x"}).export(
        make_request(1)
    )
    assert result.error is not None and result.error.hint is not None
    assert "auth header" in result.error.hint
    assert "Basic x" not in result.error.hint  # names only, never values


def test_413_splits_until_it_fits(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(
        lambda r, i: Reply(413) if r.request and count_spans(r.request) > 2 else Reply()
    )
    batch = make_request(4, resources=2)  # 8 spans over two resources
    result = exporter_for(receiver.url).export(batch)
    assert (result.spans, result.accepted, result.failed) == (8, 8, 0)
    delivered = [r.request for r in receiver.requests if r.request and count_spans(r.request) <= 2]
    ids = sorted(
        s.span_id
        for d in delivered
        for rs in d.resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    )
    originals = sorted(
        s.span_id for rs in batch.resource_spans for ss in rs.scope_spans for s in ss.spans
    )
    assert ids == originals  # every span exactly once, each under its own resource


def test_partial_success_is_reported_not_retried(scripted_receiver: Start) -> None:
    for protocol in ("http/protobuf", "http/json"):
        receiver = scripted_receiver(lambda r, i: Reply(rejected=2, message="2 spans too old"))
        result = exporter_for(receiver.url, protocol=protocol).export(make_request(5))
        assert (result.accepted, result.rejected, result.failed) == (3, 2, 0), protocol
        assert result.messages == ["2 spans too old"]
        assert result.error is None and len(receiver.requests) == 1


def test_accepts_a_json_answer_to_a_protobuf_request(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(
        lambda r, i: Reply(
            body=b'{"partialSuccess":{"rejectedSpans":"1","errorMessage":"m"}}',
            headers={"content-type": "application/json"},
        )
    )
    result = exporter_for(receiver.url).export(make_request(3))
    assert (result.accepted, result.rejected) == (2, 1)


def test_dropped_connection_is_retried(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(drop=True) if i == 0 else Reply())
    fake = FakeTime()
    result = exporter_for(receiver.url, fake).export(make_request(2))
    assert result.accepted == 2 and len(receiver.requests) == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_is_a_network_error_within_the_deadline() -> None:
    fake = FakeTime()
    url = f"http://127.0.0.1:{_closed_port()}/v1/traces"
    result = exporter_for(url, fake, timeout_s=3.0).export(make_request(1))
    assert isinstance(result.error, NetworkError)
    assert "cannot reach" in result.error.message
    assert sum(fake.sleeps) < 3.0 and len(fake.sleeps) >= 2


def test_empty_batch_sends_nothing(receiver: RecordingReceiver) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    result = exporter_for(receiver.url).export(ExportTraceServiceRequest())
    assert result.spans == 0 and receiver.requests == []


def test_retry_after_forms() -> None:
    assert _retry_after("7", lambda: 0.0) == 7.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT", lambda: 0.0) == 0.0  # in the past
    assert _retry_after("soon", lambda: 0.0) is None


# -- the deadline bounds the whole export ---------------------------------------------------


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_answer_cannot_stretch_the_deadline(part: str) -> None:
    # 120 bytes at one every 0.5 s: a minute, were each read timed on its own.
    body = b"\x00" * 120
    head = ANSWER % len(body)
    payload = head + body if part == "headers" else body
    with RawServer(
        trickle(payload, 0.5, head=b"" if part == "headers" else head)
    ).running() as server:
        started = time.monotonic()
        result = exporter_for(server.url, timeout_s=2.0).export(make_request(3))
        elapsed = time.monotonic() - started
    assert elapsed < 20, f"the 2 s deadline stretched to {elapsed:.0f} s"
    # The request was sent and no whole answer came: it may have been delivered.
    assert (result.accepted, result.failed, result.unknown) == (0, 0, 3)
    assert isinstance(result.error, NetworkError)
    assert "unknown: timed out after sending" in result.error.message
    assert result.undelivered and count_spans(result.undelivered[0]) == 3


def test_a_held_request_is_unknown_not_failed() -> None:
    with RawServer(hold).running() as server:
        result = exporter_for(server.url, timeout_s=1.0).export(make_request(2))
    assert (result.failed, result.unknown) == (0, 2)
    assert result.attempts == 1  # never retried: that could deliver it twice


def test_a_request_that_could_not_be_sent_is_failed_not_unknown() -> None:
    big = make_request(1, attributes={"blob": "x" * (24 << 20)})
    with RawServer(never_read).running() as server:
        result = exporter_for(server.url, timeout_s=1.5).export(big)
    assert (result.failed, result.unknown) == (1, 0)
    assert isinstance(result.error, NetworkError)


def test_retry_after_past_the_deadline_fails_with_the_reason(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(429, headers={"retry-after": "86400"}))
    fake = FakeTime()
    result = exporter_for(receiver.url, fake, timeout_s=10.0).export(make_request(2))
    assert fake.sleeps == [] and len(receiver.requests) == 1 and result.failed == 2
    assert isinstance(result.error, EndpointFailed)
    assert "asked to retry after 86400s" in result.error.message
    assert "past the --timeout 10s deadline" in result.error.message


def test_without_a_deadline_a_single_wait_is_capped(scripted_receiver: Start) -> None:
    waits = ["120", "86400"]
    receiver = scripted_receiver(lambda r, i: Reply(503, headers={"retry-after": waits[min(i, 1)]}))
    fake = FakeTime()
    result = exporter_for(receiver.url, fake, timeout_s=None).export(make_request(1))
    assert fake.sleeps == [120.0] and len(receiver.requests) == 2
    assert isinstance(result.error, EndpointFailed) and result.failed == 1
    assert "asked to retry after 86400s" in result.error.message
    assert "--timeout 0" in result.error.message and "300s" in result.error.message


def test_cut_off_ends_a_back_off_at_once(scripted_receiver: Start) -> None:
    receiver = scripted_receiver(lambda r, i: Reply(503, headers={"retry-after": "60"}))
    exporter = exporter_for(receiver.url, timeout_s=None)
    waiting = threading.Event()
    wait_as_usual = exporter._sleep

    def sleep(seconds: float) -> None:
        waiting.set()
        wait_as_usual(seconds)

    exporter._sleep = sleep
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(exporter.export(make_request(2))))
    worker.start()
    assert waiting.wait(30)  # in the 60 s wait the endpoint asked for
    exporter.cut_off(5.0)
    worker.join(30)  # the 60 s wait is over long before this
    assert not worker.is_alive()
    [result] = results
    # No new attempt after the cut-off, though 5 s of grace were left.
    assert result.failed == 2 and len(receiver.requests) == 1
    assert "not retried: interrupted" in result.error.message


def test_after_a_cut_off_nothing_new_is_sent(receiver: RecordingReceiver) -> None:
    exporter = exporter_for(receiver.url)
    exporter.cut_off(5.0)
    result = exporter.export(make_request(4))
    assert (result.not_sent, result.failed, result.requests) == (4, 0, 0)
    assert receiver.requests == [] and count_spans(result.undelivered[0]) == 4
