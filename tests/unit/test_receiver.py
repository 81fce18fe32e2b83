"""The OTLP/HTTP receiver, driven by real clients: the OTel Python SDK exporters, httpx, and
otelcli's own exporter; plus the robustness cases (garbage, truncation, wrong types, size
limits, compression bombs, concurrency)."""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli.errors import UsageError
from otelcli.otlp.jsoncodec import request_to_dict
from otelcli.otlp.spans import count_spans
from otelcli.transport.config import ExporterConfig
from otelcli.transport.exporter import OtlpExporter
from otelcli.transport.receiver import (
    PartialSuccess,
    Receiver,
    _Reject,
    decompress_bounded,
    otlp_environment,
    parse_listen,
)
from tests.conftest import make_request
from tests.receiver import Sink

PB = {"content-type": "application/x-protobuf"}
JS = {"content-type": "application/json"}


def status_message(body: bytes) -> str:
    """Field 2 (message) of a google.rpc.Status, read off the wire (code is field 1)."""
    assert body[0] == 0x08  # field 1, varint
    pos = 2
    assert body[pos] == 0x12  # field 2, length-delimited
    length, shift, pos = 0, 0, pos + 1
    while True:
        byte = body[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return body[pos : pos + length].decode()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def receiver(sink: Sink) -> Iterator[Receiver]:
    with Receiver(
        "127.0.0.1",
        0,
        on_traces=sink.on_traces,
        on_logs=sink.logs.append,
        on_metrics=sink.metrics.append,
        max_body_bytes=1 << 20,
    ) as running:
        yield running


def _sdk_spans(count: int = 3) -> list[Any]:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.sdk")
    with tracer.start_as_current_span("root"):
        for i in range(count - 1):
            with tracer.start_as_current_span(f"chat {i}") as span:
                span.set_attribute("gen_ai.request.model", "gpt-4o")
                span.set_attribute("gen_ai.usage.input_tokens", 100 + i)
    provider.shutdown()
    return list(memory.get_finished_spans())


# -- real clients ------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "gzip", "deflate"])
def test_sdk_protobuf_exporter_delivers_every_span(
    receiver: Receiver, sink: Sink, compression: str
) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    spans = _sdk_spans(4)
    exporter = OTLPSpanExporter(endpoint=receiver.traces_url, compression=Compression(compression))
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()  # type: ignore[no-untyped-call]
    received = sink.spans
    assert sorted(v.name for v in received) == sorted(s.name for s in spans)
    by_name = {v.name: v for v in received}
    assert by_name["chat 1"].attributes["gen_ai.usage.input_tokens"] == 101
    assert by_name["chat 1"].service_name == "sdk-app"
    root = spans[-1]
    assert by_name["root"].span_id == format(root.context.span_id, "016x")
    assert receiver.stats.spans == 4 and receiver.stats.failed_requests == 0


@pytest.mark.parametrize("gzipped", [False, True])
def test_otlp_json_with_httpx(receiver: Receiver, sink: Sink, gzipped: bool) -> None:
    # The SDK has no OTLP/JSON exporter: send spec OTLP/JSON (hex ids) the way one would.
    request = make_request(3, service="json-app", trace_byte=0xAB)
    body = orjson.dumps(request_to_dict(request))
    headers = {**JS, **({"content-encoding": "gzip"} if gzipped else {})}
    response = httpx.post(
        receiver.traces_url, content=gzip.compress(body) if gzipped else body, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.content) == {}  # full success: partial_success unset
    assert sink.traces == [request]
    assert sink.spans[0].trace_id == "ab" * 16


def test_otelcli_exporter_both_encodings(receiver: Receiver, sink: Sink) -> None:
    for protocol in ("http/protobuf", "http/json"):
        config = ExporterConfig(receiver.traces_url, protocol=protocol, compression="gzip")
        with OtlpExporter(config) as exporter:
            result = exporter.export(make_request(5))
        assert (result.accepted, result.failed, result.status) == (5, 0, 200)
    assert len(sink.spans) == 10


def test_sdk_log_and_metric_exporters(receiver: Receiver, sink: Sink) -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    logs = LoggerProvider()
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=receiver.url + "/v1/logs"))
    )
    logger = logs.get_logger("tests.receiver")
    logger.emit(body="first", severity_text="WARN")
    logger.emit(body="second", severity_text="WARN")
    logs.shutdown()

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=receiver.url + "/v1/metrics"), export_interval_millis=60_000
    )
    meters = MeterProvider(metric_readers=[reader])
    counter = meters.get_meter("tests").create_counter("requests")
    counter.add(1, {"route": "a"})
    counter.add(2, {"route": "b"})
    meters.shutdown()

    bodies = [
        r.body.string_value
        for request in sink.logs
        for rl in request.resource_logs
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert bodies == ["first", "second"]
    assert receiver.stats.log_records == 2
    assert receiver.stats.data_points == 2  # one point per attribute set
    assert sink.metrics and receiver.stats.failed_requests == 0


def test_json_logs_with_hex_ids(receiver: Receiver, sink: Sink) -> None:
    body = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "traceId": "0102030405060708090a0b0c0d0e0f10",
                                "spanId": "0102030405060708",
                                "severityNumber": 9,
                                "body": {"stringValue": "hello"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    response = httpx.post(receiver.url + "/v1/logs", content=orjson.dumps(body), headers=JS)
    assert response.status_code == 200 and response.json() == {}
    record = sink.logs[0].resource_logs[0].scope_logs[0].log_records[0]
    assert record.trace_id == bytes(range(1, 17)) and record.span_id == bytes(range(1, 9))


def test_json_log_ids_are_read_as_trace_ids_are(receiver: Receiver, sink: Sink) -> None:
    """One id converter for every signal: base64 ids of the right length pass, others are 400."""

    def logs(trace_id: str) -> bytes:
        record = {"traceId": trace_id, "body": {"stringValue": "hi"}}
        return orjson.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]})

    url = receiver.url + "/v1/logs"
    good = httpx.post(url, content=logs("AQIDBAUGBwgJCgsMDQ4PEA=="), headers=JS)
    assert good.status_code == 200
    assert sink.logs[0].resource_logs[0].scope_logs[0].log_records[0].trace_id == bytes(
        range(1, 17)
    )
    bad = httpx.post(url, content=logs("not-an-id"), headers=JS)
    assert bad.status_code == 400 and "is not 32 hex digits" in bad.text


# -- responses ---------------------------------------------------------------------------------


def test_partial_success_in_both_encodings() -> None:
    def reject_two(request: ExportTraceServiceRequest) -> PartialSuccess:
        return PartialSuccess(2, "two spans dropped")

    with Receiver("127.0.0.1", 0, on_traces=reject_two) as receiver:
        raw = httpx.post(
            receiver.traces_url, content=make_request(3).SerializeToString(), headers=PB
        )
        parsed = ExportTraceServiceResponse.FromString(raw.content)
        assert raw.status_code == 200
        assert parsed.partial_success.rejected_spans == 2
        assert parsed.partial_success.error_message == "two spans dropped"
        as_json = httpx.post(
            receiver.traces_url,
            content=orjson.dumps(request_to_dict(make_request(3))),
            headers=JS,
        )
        assert as_json.json()["partialSuccess"]["rejectedSpans"] == "2"
        # otelcli's exporter reads it as a partial success and does not retry
        with OtlpExporter(ExporterConfig(receiver.traces_url)) as exporter:
            result = exporter.export(make_request(3))
        assert (result.accepted, result.rejected, result.attempts) == (1, 2, 1)
        assert "two spans dropped" in result.messages


def test_empty_request_is_success(receiver: Receiver) -> None:
    assert httpx.post(receiver.traces_url, content=b"", headers=PB).status_code == 200
    assert httpx.post(receiver.traces_url, content=b"{}", headers=JS).status_code == 200


def test_bearer_token() -> None:
    got: list[ExportTraceServiceRequest] = []
    with Receiver("127.0.0.1", 0, on_traces=got.append, auth_token="s3cret") as receiver:
        body = make_request(2).SerializeToString()
        missing = httpx.post(receiver.traces_url, content=body, headers=PB)
        wrong = httpx.post(
            receiver.traces_url, content=body, headers={**PB, "authorization": "Bearer nope"}
        )
        right = httpx.post(
            receiver.traces_url, content=body, headers={**PB, "authorization": "Bearer s3cret"}
        )
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401 and right.status_code == 200
    assert len(got) == 1
    assert "s3cret" not in str(receiver.stats.to_dict())


def test_bearer_scheme_is_case_insensitive() -> None:
    # RFC 7235: the auth scheme is case-insensitive; the token itself is not
    got: list[ExportTraceServiceRequest] = []
    with Receiver("127.0.0.1", 0, on_traces=got.append, auth_token="s3cret") as receiver:
        body = make_request(2).SerializeToString()

        def status(authorization: str) -> int:
            headers = {**PB, "authorization": authorization}
            return httpx.post(receiver.traces_url, content=body, headers=headers).status_code

        accepted = [status(v) for v in ("bearer s3cret", "BEARER s3cret", "bEaReR  s3cret")]
        refused = [status(v) for v in ("bearer S3CRET", "basic s3cret", "bearers3cret", "s3cret")]
    assert accepted == [200, 200, 200]
    assert refused == [401, 401, 401, 401]
    assert len(got) == 3


def test_paths_and_methods(receiver: Receiver) -> None:
    assert httpx.post(receiver.url + "/v1/nope", content=b"", headers=PB).status_code == 404
    get = httpx.get(receiver.traces_url)
    assert get.status_code == 405 and get.headers["allow"] == "POST"


# -- robustness --------------------------------------------------------------------------------


def _still_serving(receiver: Receiver, sink: Sink) -> None:
    before = len(sink.spans)
    response = httpx.post(
        receiver.traces_url, content=make_request(2, trace_byte=9).SerializeToString(), headers=PB
    )
    assert response.status_code == 200
    assert len(sink.spans) == before + 2


def test_garbage_and_truncated_protobuf_get_400_with_status(receiver: Receiver, sink: Sink) -> None:
    whole = make_request(5).SerializeToString()
    for body in (b"\xff\xfe garbage \x00", whole[: len(whole) // 2]):
        response = httpx.post(receiver.traces_url, content=body, headers=PB)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/x-protobuf"
        assert "invalid protobuf" in status_message(response.content)
    bad_json = httpx.post(receiver.traces_url, content=b'{"resourceSpans": [', headers=JS)
    assert bad_json.status_code == 400 and bad_json.json()["message"].startswith("invalid JSON")
    not_traces = httpx.post(receiver.traces_url, content=b'{"resourceLogs": []}', headers=JS)
    assert not_traces.status_code == 400
    bad_id = httpx.post(
        receiver.traces_url,
        content=b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
        headers=JS,
    )
    assert bad_id.status_code == 400
    assert sink.traces == []
    assert receiver.stats.rejected_requests == {400: 5}
    _still_serving(receiver, sink)


def test_wrong_content_type_and_encoding_get_415(receiver: Receiver, sink: Sink) -> None:
    body = make_request(2).SerializeToString()
    for headers in ({"content-type": "text/plain"}, {}, {**PB, "content-encoding": "br"}):
        response = httpx.post(receiver.traces_url, content=body, headers=headers)
        assert response.status_code == 415, headers
    assert sink.traces == []
    _still_serving(receiver, sink)


def test_oversized_body_gets_413(receiver: Receiver, sink: Sink) -> None:
    big = b"\x0a" + b"\x00" * (2 << 20)  # over the 1 MiB limit of this receiver
    response = httpx.post(receiver.traces_url, content=big, headers=PB)
    assert response.status_code == 413
    # without a content-length (chunked), the limit is enforced while reading
    chunked = httpx.post(
        receiver.traces_url, content=iter([big[:700_000], big[700_000:]]), headers=PB
    )
    assert chunked.status_code == 413
    _still_serving(receiver, sink)


def test_oversized_bodies_always_get_their_413(receiver: Receiver, sink: Sink) -> None:
    # Closing right after an early 413 reset clients still sending (a few in a hundred saw
    # "server disconnected"); the body is now discarded and the connection kept.
    big = b"\x0a" + b"\x00" * (2 << 20)
    with httpx.Client(timeout=30) as client:
        for _ in range(100):
            assert client.post(receiver.traces_url, content=big, headers=PB).status_code == 413
    _still_serving(receiver, sink)


def test_a_body_stalled_after_its_early_answer_is_closed(sink: Sink) -> None:
    with Receiver(
        "127.0.0.1", 0, max_body_bytes=1 << 20, header_timeout_s=0.5, body_timeout_s=0.5
    ) as receiver:
        with socket.create_connection(("127.0.0.1", receiver.port)) as stalled:
            stalled.sendall(
                b"POST /v1/traces HTTP/1.1\r\nhost: x\r\n"
                b"content-type: application/x-protobuf\r\ncontent-length: 2000000\r\n\r\n"
            )
            stalled.settimeout(30)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += stalled.recv(1)
            # More body bytes stop uvicorn's keep-alive timer; then they stop coming.
            stalled.sendall(b"\x0a" * 1000)
            answer += _read_until_closed(stalled)  # the 413's Status body, then the close
    assert answer.startswith(b"HTTP/1.1 413 ")


def _bomb(expanded: int, encoding: str = "gzip") -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    zeros = b"\x00" * (1 << 20)
    parts = [compressor.compress(zeros) for _ in range(expanded >> 20)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_is_413_within_bounded_memory(
    receiver: Receiver, sink: Sink, encoding: str
) -> None:
    bomb = _bomb(256 << 20, encoding)  # 256 MiB of zeros in a few hundred KiB
    assert len(bomb) < (1 << 20)
    tracemalloc.start()
    try:
        response = httpx.post(
            receiver.traces_url, content=bomb, headers={**PB, "content-encoding": encoding}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert peak < 32 << 20  # the receiver's limit is 1 MiB; nothing near 256 MiB was held
    _still_serving(receiver, sink)


def test_gzip_members_and_corruption() -> None:
    data = gzip.compress(b"abc") + gzip.compress(b"def")
    assert decompress_bounded(data, 100) == b"abcdef"
    with pytest.raises(_Reject) as truncated:
        decompress_bounded(gzip.compress(b"x" * 1000)[:-12], 10_000)
    assert truncated.value.status == 400
    with pytest.raises(_Reject) as over:
        decompress_bounded(data, 5)
    assert over.value.status == 413


def test_gzip_member_count_is_capped_and_empty_members_are_refused() -> None:
    member = gzip.compress(b"x", mtime=0)
    assert decompress_bounded(member * 1000, 10_000) == b"x" * 1000
    with pytest.raises(_Reject) as too_many:
        decompress_bounded(member * 1001, 10_000)
    assert too_many.value.status == 400 and "1000 members" in too_many.value.message
    empty = gzip.compress(b"", mtime=0)
    assert decompress_bounded(empty, 100) == b""  # an empty export, gzipped: fine
    for padded in (empty * 3, empty + member, member + empty):
        with pytest.raises(_Reject) as refused:
            decompress_bounded(padded, 100)
        assert refused.value.status == 400 and "empty gzip member" in refused.value.message


def test_many_member_body_is_refused_at_once_and_others_are_served(sink: Sink) -> None:
    # ~200k empty gzip members in 4 MiB: it used to take seconds of event-loop time, and answer 200
    hostile = gzip.compress(b"", mtime=0) * 200_000
    assert len(hostile) <= 4 << 20
    with Receiver("127.0.0.1", 0, on_traces=sink.on_traces, max_body_bytes=8 << 20) as big:
        answers: dict[str, httpx.Response] = {}

        def send_hostile() -> None:
            answers["hostile"] = httpx.post(
                big.traces_url,
                content=hostile,
                headers={**PB, "content-encoding": "gzip"},
                timeout=60,
            )

        thread = threading.Thread(target=send_hostile)
        thread.start()
        good = httpx.post(
            big.traces_url, content=make_request(2).SerializeToString(), headers=PB, timeout=60
        )
        thread.join()
    assert good.status_code == 200 and len(sink.spans) == 2
    assert answers["hostile"].status_code == 400
    assert "gzip member" in status_message(answers["hostile"].content)


def test_a_slow_consumer_does_not_stall_other_connections() -> None:
    entered, release = threading.Event(), threading.Event()
    got: list[ExportTraceServiceRequest] = []

    def slow(request: ExportTraceServiceRequest) -> None:
        entered.set()
        assert release.wait(60)
        got.append(request)

    with Receiver("127.0.0.1", 0, on_traces=slow, max_body_bytes=1 << 20) as receiver:
        held: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: held.append(
                httpx.post(
                    receiver.traces_url,
                    content=make_request(2).SerializeToString(),
                    headers=PB,
                    timeout=60,
                )
            )
        )
        thread.start()
        try:
            assert entered.wait(30)
            # While the callback holds one batch, the server still reads, decodes and answers
            # the others (they used to wait for the event loop, i.e. for the callback).
            # A long client timeout: on a stalled server this fails by timing out, not flakily.
            garbage = httpx.post(receiver.traces_url, content=b"\xff" * 64, headers=PB, timeout=30)
            bomb = httpx.post(
                receiver.traces_url,
                content=_bomb(8 << 20),
                headers={**PB, "content-encoding": "gzip"},
                timeout=30,
            )
            get = httpx.get(receiver.traces_url, timeout=30)
            assert not held  # the first batch is still being handed over
        finally:
            release.set()
            thread.join()
    assert (garbage.status_code, bomb.status_code, get.status_code) == (400, 413, 405)
    assert held[0].status_code == 200 and len(got) == 1


def test_not_http_at_all(receiver: Receiver, sink: Sink) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port)) as raw:
        raw.sendall(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        raw.settimeout(5)
        try:
            raw.recv(1024)
        except OSError:
            pass
    _still_serving(receiver, sink)


def _read_until_closed(sock: socket.socket, limit_s: float = 30.0) -> bytes:
    """Everything the server sends until it closes the connection; fails past limit_s (the
    server's own timeouts in these tests are 0.5 s, so this is only a generous bound)."""
    sock.settimeout(limit_s)
    received = b""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            raise AssertionError(f"still open after {limit_s} s; got {received[:80]!r}") from None
        if not data:
            return received
        received += data


@pytest.fixture
def impatient(sink: Sink) -> Iterator[Receiver]:
    with Receiver(
        "127.0.0.1", 0, on_traces=sink.on_traces, header_timeout_s=0.5, body_timeout_s=0.5
    ) as running:
        yield running


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /v1/tr", b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: appl"],
    ids=["nothing", "part-of-request-line", "part-of-headers"],
)
def test_a_connection_stalled_in_its_headers_is_closed(
    impatient: Receiver, sink: Sink, sent: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port)) as stalled:
        stalled.sendall(sent)
        assert _read_until_closed(stalled) == b""
    _still_serving(impatient, sink)


def test_trickled_headers_do_not_extend_the_deadline(impatient: Receiver) -> None:
    # One byte at a time, never finishing the headers: the deadline counts from the first byte.
    import select

    with socket.create_connection(("127.0.0.1", impatient.port)) as slow:
        # poll, not select: late in a full run the socket's number can pass select's 1024
        ready = select.poll()
        ready.register(slow, select.POLLIN)
        # 600 bytes at 50 ms: half a minute, while the server's deadline is 0.5 s
        for byte in b"POST /v1/traces HTTP/1.1\r\n" + b"x-pad: " + b"a" * 570:
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break  # closed by the server
            if ready.poll(50):  # pacing, not a check
                break
        else:
            raise AssertionError("the server kept a trickling connection open")
        assert _read_until_closed(slow) == b""


def test_a_stalled_body_gets_408_and_the_connection_closed(impatient: Receiver, sink: Sink) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port)) as stalled:
        stalled.sendall(
            b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\n"
            b"content-length: 1000\r\n\r\n" + b"\x0a" * 10
        )
        answer = _read_until_closed(stalled)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert impatient.stats.rejected_requests == {408: 1} and sink.traces == []


def test_a_keep_alive_connection_stalled_in_its_next_request_is_closed(
    impatient: Receiver, sink: Sink
) -> None:
    body = make_request(1).SerializeToString()
    request = (
        b"POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    ) + body
    with socket.create_connection(("127.0.0.1", impatient.port)) as client:
        client.sendall(request)
        client.settimeout(30)
        answer = b""
        while not answer.endswith(b"\r\n\r\n") or b"content-length: 0" not in answer:
            answer += client.recv(1)  # the 200 (empty success body): the connection is idle
        # Bytes of a next request stop uvicorn's keep-alive timer; the header deadline holds.
        client.sendall(request[:20])
        assert _read_until_closed(client) == b""
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert len(sink.spans) == 1


def test_many_stalled_connections_are_closed_and_do_not_block_a_good_request(
    impatient: Receiver, sink: Sink
) -> None:
    import selectors

    stalled = [socket.create_connection(("127.0.0.1", impatient.port)) for _ in range(300)]
    try:
        for index, sock in enumerate(stalled):
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\n" if index % 2 else b"")
        _still_serving(impatient, sink)  # while they all hang on
        with selectors.DefaultSelector() as selector:
            for sock in stalled:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            open_ = set(stalled)
            while open_:
                events = selector.select(timeout=30)
                assert events, f"{len(open_)} stalled connections still open after 30 s"
                for key, _ in events:
                    closed = key.fileobj
                    assert isinstance(closed, socket.socket)
                    try:
                        data = closed.recv(1024)
                    except ConnectionResetError:
                        data = b""
                    assert data == b""
                    selector.unregister(closed)
                    open_.discard(closed)
    finally:
        for sock in stalled:
            sock.close()
    _still_serving(impatient, sink)


def test_failing_consumer_gets_500_and_server_continues() -> None:
    calls = []

    def flaky(request: ExportTraceServiceRequest) -> None:
        calls.append(request)
        if len(calls) == 1:
            raise RuntimeError("disk full")

    with Receiver("127.0.0.1", 0, on_traces=flaky) as receiver:
        body = make_request(2).SerializeToString()
        first = httpx.post(receiver.traces_url, content=body, headers=PB)
        second = httpx.post(receiver.traces_url, content=body, headers=PB)
    assert first.status_code == 500 and "disk full" in status_message(first.content)
    assert second.status_code == 200 and len(calls) == 2


def test_many_concurrent_clients_lose_nothing(receiver: Receiver, sink: Sink) -> None:
    clients, per_client = 16, 20
    errors: list[str] = []

    def good(index: int) -> None:
        with httpx.Client() as client:
            for n in range(per_client):
                request = make_request(3, trace_byte=index + 1, service=f"svc{index}")
                gzipped = n % 2 == 0
                body = request.SerializeToString()
                response = client.post(
                    receiver.traces_url,
                    content=gzip.compress(body) if gzipped else body,
                    headers={**PB, **({"content-encoding": "gzip"} if gzipped else {})},
                )
                if response.status_code != 200:
                    errors.append(f"{index}/{n}: {response.status_code}")

    def bad() -> None:
        with httpx.Client() as client:
            for _ in range(per_client):
                client.post(receiver.traces_url, content=b"\xff" * 100, headers=PB)
                client.post(receiver.traces_url, content=b"x", headers={"content-type": "a/b"})

    threads = [threading.Thread(target=good, args=(i,)) for i in range(clients)]
    threads += [threading.Thread(target=bad) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(sink.traces) == clients * per_client
    assert sum(count_spans(b) for b in sink.traces) == clients * per_client * 3
    assert receiver.stats.rejected_requests == {400: 4 * per_client, 415: 4 * per_client}


def _wait_for(condition: Any, what: str, limit_s: float = 30.0) -> None:
    """Wait for a condition the server reaches on its own threads (a generous bound)."""
    import time

    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {limit_s} s: {what}"
        time.sleep(0.01)


def _big_request(size: int, trace_byte: int = 1) -> bytes:
    request = make_request(1, trace_byte=trace_byte)
    request.resource_spans[0].scope_spans[0].spans[0].name = "x" * size
    return request.SerializeToString()


def test_in_flight_budget_answers_503_with_retry_after_and_the_sdk_retries(sink: Sink) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    entered, release = threading.Event(), threading.Event()

    def held_first(request: ExportTraceServiceRequest) -> None:
        entered.set()
        assert release.wait(60)
        sink.on_traces(request)

    body = _big_request(700 << 10)  # two fit in the 2 MiB budget, a third does not
    with Receiver(
        "127.0.0.1", 0, on_traces=held_first, max_body_bytes=1 << 20, max_in_flight_bytes=2 << 20
    ) as receiver:
        budget = receiver.app.budget
        answers: list[int] = []

        def post() -> None:
            answers.append(httpx.post(receiver.traces_url, content=body, headers=PB).status_code)

        holders = [threading.Thread(target=post) for _ in range(2)]
        for thread in holders:
            thread.start()
        try:
            # one in the callback, one decoded and waiting for it: both hold their bodies
            _wait_for(lambda: entered.is_set() and budget.in_flight >= 2 * len(body), "2 held")
            refused = httpx.post(receiver.traces_url, content=body, headers=PB)
            chunked = httpx.post(
                receiver.traces_url,
                content=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
                headers=PB,
            )
            # The SDK's exporter is refused too, and retries after Retry-After.
            memory = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(memory))
            with provider.get_tracer("tests").start_as_current_span("big") as span:
                span.set_attribute("payload", "y" * (700 << 10))
            provider.shutdown()
            exporter = OTLPSpanExporter(endpoint=receiver.traces_url)
            result: list[SpanExportResult] = []
            sdk = threading.Thread(
                target=lambda: result.append(exporter.export(memory.get_finished_spans()))
            )
            sdk.start()
            _wait_for(lambda: receiver.stats.rejected_requests.get(503, 0) >= 3, "SDK refused")
        finally:
            release.set()
            for thread in holders:
                thread.join()
        sdk.join()
        exporter.shutdown()  # type: ignore[no-untyped-call]
        assert budget.in_flight == 0
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "busy" in status_message(refused.content)
    assert chunked.status_code == 503 and chunked.headers["retry-after"] == "1"
    assert answers == [200, 200]
    assert result == [SpanExportResult.SUCCESS]
    assert sorted(s.name for s in sink.spans) == ["big"] + ["x" * (700 << 10)] * 2
    assert budget.peak <= 2 << 20


_RETRYING_SENDERS = """
import sys, threading, httpx
url, clients = sys.argv[1], int(sys.argv[2])
body = sys.stdin.buffer.read()
start, codes = threading.Barrier(clients), []
def send():
    with httpx.Client(timeout=60) as client:
        start.wait()
        for _ in range(3000):  # retry every 503 (quickly, for the test)
            status = client.post(
                url, content=body, headers={"content-type": "application/x-protobuf"}
            ).status_code
            if status != 503:
                break
            threading.Event().wait(0.01)
        codes.append(status)
threads = [threading.Thread(target=send) for _ in range(clients)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(" ".join(map(str, codes)))
"""


def test_concurrent_bodies_stay_within_the_budget(sink: Sink) -> None:
    import subprocess
    import sys

    clients, body = 16, _big_request(700 << 10)
    with Receiver(
        "127.0.0.1",
        0,
        on_traces=sink.on_traces,
        max_body_bytes=1 << 20,
        max_in_flight_bytes=2 << 20,
    ) as receiver:
        # The senders run in another process, so tracemalloc here sees the receiver's memory.
        tracemalloc.start()
        try:
            senders = subprocess.run(
                [sys.executable, "-c", _RETRYING_SENDERS, receiver.traces_url, str(clients)],
                input=body,
                capture_output=True,
                check=True,
                timeout=120,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        budget = receiver.app.budget
    assert senders.stdout.split() == [b"200"] * clients and len(sink.traces) == clients
    # All 16 at once were over 20 MiB here; within the 2 MiB budget, ~6 MiB (uvicorn's buffers)
    assert peak < 12 << 20, f"peak {peak / (1 << 20):.1f} MiB"
    assert budget.peak <= 2 << 20 and budget.in_flight == 0
    assert receiver.stats.rejected_requests.get(503, 0) > 0  # the budget did refuse some


def test_in_flight_budget_must_hold_one_body() -> None:
    with pytest.raises(UsageError, match="budget"):
        Receiver("127.0.0.1", 0, max_body_bytes=1 << 20, max_in_flight_bytes=1 << 19)


# -- lifecycle and helpers ---------------------------------------------------------------------


def test_stop_releases_the_port() -> None:
    receiver = Receiver("127.0.0.1", 0).start()
    port = receiver.port
    assert port != 0 and receiver.running
    receiver.stop()
    assert not receiver.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_port_in_use_is_a_usage_error() -> None:
    with Receiver("127.0.0.1", 0) as first:
        with pytest.raises(UsageError, match="cannot listen"):
            Receiver("127.0.0.1", first.port).start()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4318", ("127.0.0.1", 4318)),
        (":0", ("127.0.0.1", 0)),
        ("0.0.0.0:4000", ("0.0.0.0", 4000)),
        ("localhost", ("localhost", 4318)),
        ("[::1]:4319", ("::1", 4319)),
        ("::1", ("::1", 4318)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["host:port", "1:99999", "[::1"])
def test_parse_listen_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_listen(text)


def test_otlp_environment_points_every_signal_at_the_receiver() -> None:
    base = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://backend/v1/traces",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=secret",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_TRACES_EXPORTER": "console",
        "PATH": "/bin",
    }
    env = otlp_environment("http://127.0.0.1:5555", "tok en", base)
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:5555"
    assert env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://127.0.0.1:5555/v1/traces"
    assert env["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"] == "http://127.0.0.1:5555/v1/logs"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"] == "authorization=Bearer%20tok%20en"
    assert env["PATH"] == "/bin" and base["OTEL_EXPORTER_OTLP_HEADERS"] == "x-api-key=secret"
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in otlp_environment("http://h:1", None, base)
