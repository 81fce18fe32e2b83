"""The OTLP/gRPC receiver, driven by the OTel Python SDK's gRPC exporters and by a raw gRPC
client for what an SDK never sends (bad payloads, wrong tokens, oversized messages)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

grpc = pytest.importorskip("grpc")

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from otelcli.errors import UsageError  # noqa: E402
from otelcli.flows import receive  # noqa: E402
from otelcli.otlp.spans import count_spans, iter_spans  # noqa: E402
from otelcli.transport.grpc_receiver import GrpcReceiver, grpc_code_name  # noqa: E402
from otelcli.transport.receiver import PartialSuccess  # noqa: E402
from tests.conftest import make_request  # noqa: E402
from tests.receiver import Sink  # noqa: E402

TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def receiver(sink: Sink) -> Iterator[GrpcReceiver]:
    with GrpcReceiver(
        "127.0.0.1",
        0,
        on_traces=sink.on_traces,
        on_logs=sink.logs.append,
        on_metrics=sink.metrics.append,
        max_body_bytes=1 << 16,
    ) as running:
        yield running


class RawClient:
    """A plain gRPC channel calling Export with bytes we choose."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)

    def call(self, method: str, payload: bytes, **kwargs: Any) -> bytes:
        export = self.channel.unary_unary(method)  # no serializers: bytes in, bytes out
        response: bytes = export(payload, timeout=10, **kwargs)
        return response

    def failure(self, method: str, payload: bytes, **kwargs: Any) -> Any:
        with pytest.raises(grpc.RpcError) as caught:
            self.call(method, payload, **kwargs)
        return caught.value

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
def raw(receiver: GrpcReceiver) -> Iterator[RawClient]:
    client = RawClient(receiver.target)
    yield client
    client.close()


def _sdk_spans(count: int = 3) -> list[Any]:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "grpc-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.grpc")
    with tracer.start_as_current_span("root"):
        for i in range(count - 1):
            with tracer.start_as_current_span(f"chat {i}") as span:
                span.set_attribute("gen_ai.request.model", "gpt-4o")
                span.set_attribute("gen_ai.usage.input_tokens", 100 + i)
    provider.shutdown()
    return list(memory.get_finished_spans())


# -- the SDK's gRPC exporters ------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["NoCompression", "Gzip"])
def test_sdk_grpc_exporter_delivers_every_span(
    receiver: GrpcReceiver, sink: Sink, compression: str
) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    spans = _sdk_spans(4)
    exporter = OTLPSpanExporter(
        endpoint=receiver.url,
        insecure=True,
        compression=getattr(grpc.Compression, compression),
    )
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    received = sink.spans
    assert sorted(v.name for v in received) == sorted(s.name for s in spans)
    by_name = {v.name: v for v in received}
    assert by_name["chat 1"].attributes["gen_ai.usage.input_tokens"] == 101
    assert by_name["chat 1"].service_name == "grpc-app"
    root = next(s for s in spans if s.name == "root")
    assert by_name["root"].span_id == format(root.context.span_id, "016x")
    assert by_name["chat 0"].parent_span_id == by_name["root"].span_id
    assert receiver.stats.spans == 4 and receiver.stats.trace_requests == 1
    assert receiver.stats.failed_requests == 0


def test_sdk_exporter_configured_by_environment_with_token(
    sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an app with a gRPC exporter gets from OTEL_EXPORTER_OTLP_* alone."""
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    with GrpcReceiver("127.0.0.1", 0, on_traces=sink.on_traces, auth_token="s3cret") as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret")
        exporter = OTLPSpanExporter()
        assert exporter.export(_sdk_spans(2)) is SpanExportResult.SUCCESS
        exporter.shutdown()
    assert len(sink.spans) == 2 and receiver.stats.failed_requests == 0


def test_sdk_log_and_metric_exporters(receiver: GrpcReceiver, sink: Sink) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    logs = LoggerProvider()
    logs.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=receiver.url, insecure=True))
    )
    logger = logs.get_logger("tests.grpc")
    logger.emit(body="first", severity_text="WARN")
    logger.emit(body="second", severity_text="WARN")
    logs.shutdown()

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=receiver.url, insecure=True), export_interval_millis=60_000
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


# -- answers -----------------------------------------------------------------------------------


def test_raw_request_and_empty_request(receiver: GrpcReceiver, sink: Sink, raw: RawClient) -> None:
    answer = raw.call(TRACES, make_request(3).SerializeToString())
    assert ExportTraceServiceResponse.FromString(answer) == ExportTraceServiceResponse()
    assert raw.call(TRACES, b"") == b""  # an empty request is a valid, empty export
    assert count_spans(sink.traces[0]) == 3 and len(sink.traces) == 2


def test_partial_success_reaches_the_client() -> None:
    def reject_two(request: ExportTraceServiceRequest) -> PartialSuccess:
        return PartialSuccess(2, "two spans dropped")

    def reject_logs(request: ExportLogsServiceRequest) -> PartialSuccess:
        return PartialSuccess(1, "one record dropped")

    with GrpcReceiver("127.0.0.1", 0, on_traces=reject_two, on_logs=reject_logs) as receiver:
        client = RawClient(receiver.target)
        traces = ExportTraceServiceResponse.FromString(
            client.call(TRACES, make_request(3).SerializeToString())
        )
        logs = ExportLogsServiceResponse.FromString(client.call(LOGS, b""))
        client.close()
    assert traces.partial_success.rejected_spans == 2
    assert traces.partial_success.error_message == "two spans dropped"
    assert logs.partial_success.rejected_log_records == 1


def test_bearer_token() -> None:
    got: list[ExportTraceServiceRequest] = []
    with GrpcReceiver("127.0.0.1", 0, on_traces=got.append, auth_token="s3cret") as receiver:
        client = RawClient(receiver.target)
        body = make_request(2).SerializeToString()
        missing = client.failure(TRACES, body)
        wrong = client.failure(TRACES, body, metadata=[("authorization", "Bearer nope")])
        client.call(TRACES, body, metadata=[("authorization", "Bearer s3cret")])
        client.close()
    assert missing.code() is grpc.StatusCode.UNAUTHENTICATED
    assert wrong.code() is grpc.StatusCode.UNAUTHENTICATED
    assert len(got) == 1
    assert receiver.stats.rejected_requests == {16: 2}
    assert "s3cret" not in str(receiver.stats.to_dict())


def test_bearer_scheme_is_case_insensitive() -> None:
    # RFC 7235: the auth scheme is case-insensitive; the token itself is not
    got: list[ExportTraceServiceRequest] = []
    with GrpcReceiver("127.0.0.1", 0, on_traces=got.append, auth_token="s3cret") as receiver:
        client = RawClient(receiver.target)
        body = make_request(2).SerializeToString()
        for value in ("bearer s3cret", "BEARER s3cret"):
            client.call(TRACES, body, metadata=[("authorization", value)])
        wrong = client.failure(TRACES, body, metadata=[("authorization", "bearer S3CRET")])
        other = client.failure(TRACES, body, metadata=[("authorization", "basic s3cret")])
        client.close()
    assert wrong.code() is grpc.StatusCode.UNAUTHENTICATED
    assert other.code() is grpc.StatusCode.UNAUTHENTICATED
    assert len(got) == 2


@pytest.mark.parametrize(
    "payload",
    [b"\xff" * 50, make_request(3).SerializeToString()[:-7], b"\x0a\x05abc"],
    ids=["garbage", "truncated", "short-field"],
)
def test_bad_payload_is_invalid_argument_and_serving_goes_on(
    receiver: GrpcReceiver, sink: Sink, raw: RawClient, payload: bytes
) -> None:
    error = raw.failure(TRACES, payload)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "ExportTraceServiceRequest" in error.details()
    assert sink.traces == []
    raw.call(TRACES, make_request(2).SerializeToString())
    assert len(sink.spans) == 2
    assert receiver.stats.rejected_requests == {3: 1}
    assert receiver.stats.recent_errors[-1].startswith("gRPC INVALID_ARGUMENT")


def test_oversized_message_is_resource_exhausted_also_when_compressed(
    receiver: GrpcReceiver, sink: Sink, raw: RawClient
) -> None:
    # one span whose name is just over the 64 KiB limit: a valid message, compressing to ~100 B
    big = make_request(1)
    big.resource_spans[0].scope_spans[0].spans[0].name = "x" * (1 << 16)
    payload = big.SerializeToString()
    plain = raw.failure(TRACES, payload)
    packed = raw.failure(TRACES, payload, compression=grpc.Compression.Gzip)
    assert plain.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert packed.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert sink.traces == []
    raw.call(TRACES, make_request(2).SerializeToString(), compression=grpc.Compression.Gzip)
    assert len(sink.spans) == 2


def test_failing_consumer_is_internal_and_serving_goes_on() -> None:
    calls: list[int] = []

    def flaky(request: ExportTraceServiceRequest) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")

    with GrpcReceiver("127.0.0.1", 0, on_traces=flaky) as receiver:
        client = RawClient(receiver.target)
        body = make_request(2).SerializeToString()
        first = client.failure(TRACES, body)
        client.call(TRACES, body)
        client.close()
    assert first.code() is grpc.StatusCode.INTERNAL and "disk full" in first.details()
    assert len(calls) == 2 and receiver.stats.rejected_requests == {13: 1}
    assert grpc_code_name("13") == "INTERNAL"


def test_many_concurrent_clients_lose_nothing(receiver: GrpcReceiver, sink: Sink) -> None:
    clients, per_client = 8, 15
    errors: list[str] = []

    def good(index: int) -> None:
        client = RawClient(receiver.target)
        for n in range(per_client):
            request = make_request(3, trace_byte=index + 1, service=f"svc{index}")
            compression = grpc.Compression.Gzip if n % 2 else grpc.Compression.NoCompression
            try:
                client.call(TRACES, request.SerializeToString(), compression=compression)
            except grpc.RpcError as exc:
                errors.append(f"{index}/{n}: {exc.code()}")
        client.close()

    def bad() -> None:
        client = RawClient(receiver.target)
        for _ in range(per_client):
            client.failure(TRACES, b"\xff" * 100)
        client.close()

    threads = [threading.Thread(target=good, args=(i,)) for i in range(clients)]
    threads += [threading.Thread(target=bad) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(sink.traces) == clients * per_client
    assert sum(count_spans(b) for b in sink.traces) == clients * per_client * 3
    assert receiver.stats.rejected_requests == {3: 2 * per_client}


def _wait_for(condition: Any, what: str, limit_s: float = 30.0) -> None:
    """Wait for a condition the server reaches on its own threads (a generous bound)."""
    import time

    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {limit_s} s: {what}"
        time.sleep(0.01)


def test_in_flight_budget_is_unavailable_past_it_and_the_sdk_retries(sink: Sink) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    entered, release = threading.Event(), threading.Event()

    def held_first(request: ExportTraceServiceRequest) -> None:
        entered.set()
        assert release.wait(60)
        sink.on_traces(request)

    big = make_request(1)
    big.resource_spans[0].scope_spans[0].spans[0].name = "x" * (50 << 10)
    payload = big.SerializeToString()  # two held fit the 128 KiB budget; a third call does not
    with GrpcReceiver(
        "127.0.0.1",
        0,
        on_traces=held_first,
        max_body_bytes=64 << 10,
        max_in_flight_bytes=128 << 10,
        budget_wait_s=0.2,
    ) as receiver:
        client = RawClient(receiver.target)
        answers: list[bytes] = []
        holders = [
            threading.Thread(target=lambda: answers.append(client.call(TRACES, payload)))
            for _ in range(2)
        ]
        for thread in holders:
            thread.start()
        try:
            _wait_for(
                lambda: entered.is_set() and receiver.in_flight_bytes == 2 * len(payload),
                "two messages held",
            )
            refused = client.failure(TRACES, payload)
            # The SDK's exporter is refused too, and retries UNAVAILABLE.
            memory = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(memory))
            with provider.get_tracer("tests").start_as_current_span("big") as span:
                span.set_attribute("payload", "y" * (50 << 10))
            provider.shutdown()
            exporter = OTLPSpanExporter(endpoint=receiver.url, insecure=True)
            result: list[SpanExportResult] = []
            sdk = threading.Thread(
                target=lambda: result.append(exporter.export(memory.get_finished_spans()))
            )
            sdk.start()
            _wait_for(
                lambda: receiver.stats.rejected_requests.get(14, 0) >= 2,
                f"SDK refused {receiver.stats.to_dict()} {receiver.in_flight_bytes}",
            )
        finally:
            release.set()
            for thread in holders:
                thread.join()
        sdk.join()
        exporter.shutdown()
        client.close()
    assert refused.code() is grpc.StatusCode.UNAVAILABLE and "busy" in refused.details()
    assert answers == [b"", b""] and result == [SpanExportResult.SUCCESS]
    assert sorted(s.name for s in iter_spans_of(sink)) == ["big"] + ["x" * (50 << 10)] * 2
    assert receiver.in_flight_bytes == 0 and receiver.peak_in_flight_bytes <= 128 << 10


def iter_spans_of(sink: Sink) -> list[Any]:
    return [span for batch in sink.traces for span in iter_spans(batch)]


def test_stalled_calls_are_cancelled_and_do_not_pin_the_workers(sink: Sink) -> None:
    gate = threading.Event()

    def never_sends() -> Iterator[bytes]:
        gate.wait(60)  # headers are out, the message never comes (until the test ends)
        yield b""

    with GrpcReceiver(
        "127.0.0.1", 0, on_traces=sink.on_traces, max_workers=2, read_timeout_s=0.5
    ) as receiver:
        client = RawClient(receiver.target)
        stalled = [
            client.channel.stream_unary(TRACES).future(never_sends(), timeout=60) for _ in range(3)
        ]
        try:
            # with both workers pinned, this call used to wait for its deadline
            client.call(TRACES, make_request(2).SerializeToString())
            errors = [call.exception(timeout=30) for call in stalled]
        finally:
            gate.set()
        client.close()
    assert all(isinstance(error, grpc.RpcError) for error in errors)
    assert len(sink.spans) == 2
    assert receiver.stats.rejected_requests == {4: 3}
    assert receiver.in_flight_bytes == 0


# -- lifecycle ---------------------------------------------------------------------------------


def test_stop_finishes_calls_in_flight_and_refuses_new_ones() -> None:
    entered, release = threading.Event(), threading.Event()
    delivered: list[ExportTraceServiceRequest] = []

    def slow(request: ExportTraceServiceRequest) -> None:
        entered.set()
        assert release.wait(10)
        delivered.append(request)

    receiver = GrpcReceiver("127.0.0.1", 0, on_traces=slow).start()
    client = RawClient(receiver.target)
    answers: list[Any] = []
    caller = threading.Thread(
        target=lambda: answers.append(client.call(TRACES, make_request(2).SerializeToString()))
    )
    caller.start()
    assert entered.wait(10)
    stopper = threading.Thread(target=receiver.stop)
    stopper.start()
    assert stopper.is_alive()  # waiting for the call in flight
    release.set()
    caller.join()
    stopper.join()
    assert answers == [b""] and len(delivered) == 1
    assert not receiver.running
    late = client.failure(TRACES, b"")
    assert late.code() is grpc.StatusCode.UNAVAILABLE
    client.close()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", receiver.port))  # the port is free again


def test_port_in_use_is_a_usage_error() -> None:
    with GrpcReceiver("127.0.0.1", 0) as first:
        with pytest.raises(UsageError, match="cannot listen for OTLP/gRPC"):
            GrpcReceiver("127.0.0.1", first.port).start()
        assert first.running


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    got: list[ExportTraceServiceRequest] = []
    with GrpcReceiver("::1", 0, on_traces=got.append) as receiver:
        assert receiver.url == f"http://[::1]:{receiver.port}"
        client = RawClient(receiver.target)
        client.call(TRACES, make_request(1).SerializeToString())
        client.close()
    assert len(got) == 1


# -- the receiving session (validate -- CMD, tail, capture) -----------------------------------

GRPC_APP = """
import os
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

provider = TracerProvider()
exporter = OTLPSpanExporter(endpoint=os.environ["OTELCLI_GRPC_ENDPOINT"], insecure=True)
provider.add_span_processor(BatchSpanProcessor(exporter))
with provider.get_tracer("app").start_as_current_span("over grpc"):
    pass
provider.shutdown()
"""


def test_the_session_takes_grpc_too(tmp_path: Any) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    import sys

    script = tmp_path / "app.py"
    script.write_text(GRPC_APP)
    got: list[ExportTraceServiceRequest] = []

    class Keep(receive.Subscriber):
        def batch(self, signal: str, request: Any) -> None:
            got.append(request)

    result = receive.run(
        receive.ReceiveRequest(command=(sys.executable, str(script)), subscriber=Keep())
    )
    assert result.command_exit_code == 0
    assert [v.name for b in got for v in iter_spans(b)] == ["over grpc"]
    assert result.grpc_listen and result.to_dict()["grpc_receiver"]["spans"] == 1
    assert result.receiver["spans"] == 0


# -- tail and capture --------------------------------------------------------------------------


@pytest.fixture
def grpc_app(tmp_path: Any) -> list[str]:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    import sys

    script = tmp_path / "app.py"
    script.write_text(GRPC_APP)
    return [sys.executable, str(script)]


def test_tail_shows_what_a_grpc_app_sends(cli: Any, grpc_app: list[str]) -> None:
    result = cli("tail", "-f", "ndjson", "--auth-token", "t0ken", "--", *grpc_app)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and '"over grpc"' in lines[0]
    assert "and OTLP/gRPC on http://127.0.0.1:" in result.stderr
    assert "received 1 spans in 1 batches on http://127.0.0.1:" in result.stderr
    assert "refused" not in result.stderr  # the token reached the gRPC exporter too


def test_tail_live_status_names_both_endpoints(cli: Any, grpc_app: list[str]) -> None:
    result = cli("tail", "--format", "live", "--", *grpc_app)
    assert result.exit_code == 0, result.stderr
    assert "over grpc" in result.stdout
    assert "gRPC http://127.0.0.1:" in result.stdout and "1 spans" in result.stdout


def test_capture_saves_grpc_batches(cli: Any, grpc_app: list[str], tmp_path: Any) -> None:
    import json

    from otelcli.otlp.reader import read_batches

    output = tmp_path / "run.jsonl"
    result = cli("capture", "-o", str(output), "--format", "json", "--", *grpc_app)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["spans"] == 1 and summary["grpc_listen"].startswith("http://127.0.0.1:")
    assert summary["grpc_receiver"]["spans"] == 1 and summary["receiver"]["spans"] == 0
    assert [v.name for b in read_batches([str(output)]) for v in iter_spans(b)] == ["over grpc"]


def test_the_command_gets_the_grpc_endpoint_unless_no_grpc(cli: Any) -> None:
    import sys

    # exits 3 when it has the variable: tail passes a command's exit code on
    probe = [
        sys.executable,
        "-c",
        "import os, sys; sys.exit(3 if 'OTELCLI_GRPC_ENDPOINT' in os.environ else 0)",
    ]
    with_grpc = cli("tail", "-f", "ndjson", "--", *probe)
    without = cli("tail", "-f", "ndjson", "--no-grpc", "--", *probe)
    assert with_grpc.exit_code == 3 and "OTLP/gRPC on" in with_grpc.stderr
    assert without.exit_code == 0 and "OTLP/gRPC on" not in without.stderr
    assert "OTELCLI_GRPC_ENDPOINT" not in without.stderr  # not offered: nothing listens there


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--no-grpc", "--grpc-listen", ":0"], "contradict"),
        (["--file", "x.pb", "--grpc"], "not to --file"),
        (["--grpc-listen", "nowhere:port"], "--grpc-listen 'nowhere:port'"),
    ],
)
def test_grpc_usage_errors(cli: Any, args: list[str], message: str) -> None:
    result = cli("tail", *args)
    assert result.exit_code == 2 and message in result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_taken_grpc_port_is_a_warning_by_default_and_an_error_when_asked(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import otelcli.transport.grpc_receiver as module

    with GrpcReceiver("127.0.0.1", 0) as taken:
        monkeypatch.setattr(module, "DEFAULT_GRPC_PORT", taken.port)
        listen = f"127.0.0.1:{_free_port()}"
        default = cli("tail", "-f", "ndjson", "--listen", listen, "--run-for", "0.2")
        asked = cli(
            "tail",
            "-f",
            "ndjson",
            "--listen",
            listen,
            "--run-for",
            "0.2",
            "--grpc-listen",
            f"127.0.0.1:{taken.port}",
        )
    assert default.exit_code == 0, default.stderr
    assert "OTLP/gRPC is off" in default.stderr and f"on http://{listen}" in default.stderr
    assert asked.exit_code == 2 and "cannot listen for OTLP/gRPC" in asked.stdout + asked.stderr


def test_without_grpcio_grpc_is_off_unless_asked(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import otelcli.transport.grpc_receiver as module

    monkeypatch.setattr(module, "grpc_available", lambda: False)
    default = cli("tail", "-f", "ndjson", "--listen", "127.0.0.1:0", "--run-for", "0.1")
    asked = cli("tail", "-f", "ndjson", "--listen", "127.0.0.1:0", "--run-for", "0.1", "--grpc")
    assert default.exit_code == 0 and "gRPC" not in default.stderr
    assert asked.exit_code == 2 and "otelcli[grpc]" in asked.stdout + asked.stderr
