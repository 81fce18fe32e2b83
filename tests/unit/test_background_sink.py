"""The sink fed batch by batch (tail --forward) against a real loopback receiver: the same
SinkReport as `drain`, counts that add up, and a full backlog is an error, never silence."""

from __future__ import annotations

import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import ExitCode
from otelcli.transport.config import ExporterConfig
from otelcli.transport.receiver import Receiver
from otelcli.transport.sink import BackgroundSink, SinkTarget
from tests.conftest import make_request


def test_every_batch_is_forwarded_and_reported() -> None:
    got: list[ExportTraceServiceRequest] = []
    with Receiver("127.0.0.1", 0, on_traces=got.append) as receiver:
        sink = BackgroundSink(
            SinkTarget(endpoint=ExporterConfig(endpoint=receiver.url + "/v1/traces"))
        )
        for n in range(5):
            sink.submit(make_request(spans=3, trace_byte=n + 1))
        report = sink.close()
    assert report.error is None and report.endpoint
    assert report.delivery is not None and report.delivery.adds_up
    assert report.delivery.offered == report.delivery.accepted == 15
    assert sum(len(ss.spans) for b in got for rs in b.resource_spans for ss in rs.scope_spans) == 15
    assert report.to_dict()["delivery"]["accepted"] == 15


def test_a_full_backlog_is_counted_not_sent_and_fails_the_run() -> None:
    release = threading.Event()

    def slow(request: ExportTraceServiceRequest) -> None:
        release.wait(30)

    with Receiver("127.0.0.1", 0, on_traces=slow) as receiver:
        config = ExporterConfig(endpoint=receiver.url + "/v1/traces", timeout_s=None)
        sink = BackgroundSink(SinkTarget(endpoint=config), backlog=2)
        # at most 2 queued and 8 (+1 being taken) with the sink's read-ahead: the rest overflow
        for n in range(20):
            sink.submit(make_request(spans=1, trace_byte=n + 1))
        release.set()
        report = sink.close()
    delivery = report.delivery
    assert delivery is not None and delivery.adds_up and delivery.taken == 20
    assert delivery.not_sent == sink.overflow >= 9
    assert delivery.accepted == 20 - delivery.not_sent
    assert report.error is not None and "backlog was full" in report.error.message
    assert report.error.exit_code == ExitCode.NETWORK
