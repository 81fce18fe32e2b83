"""The receiving session's subscriber hook, with a real command posting OTLP/JSON to the
endpoint it is given: every batch of the signals asked for, named by signal, in order."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from otelcli.flows import receive

# Posts one traces and one logs request (OTLP/JSON) to the endpoint otelcli gives it.
CHILD = """
import json, os, urllib.request
base = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/")
def post(path, body):
    request = urllib.request.Request(base + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
span = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "work",
        "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
post("/v1/traces", {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
record = {"traceId": "01" * 16, "spanId": "02" * 8, "body": {"stringValue": "hello"}}
post("/v1/logs", {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]})
"""


class Recording(receive.Subscriber):
    def __init__(self, signals: frozenset[str]) -> None:
        self.signals = signals
        self.events: list[str] = []
        self.batches: list[tuple[str, Any]] = []
        self.listen: str | None = None

    def started(self, session: receive.Receiving) -> None:
        self.events.append("started")
        self.listen = session.listen

    def batch(self, signal: str, request: Any) -> None:
        self.batches.append((signal, request))

    def close(self) -> None:
        self.events.append("closed")


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (frozenset({receive.TRACES, receive.LOGS}), ["traces", "logs"]),
        (frozenset({receive.TRACES}), ["traces"]),
    ],
)
def test_the_subscriber_gets_the_signals_it_asks_for(
    signals: frozenset[str], expected: list[str]
) -> None:
    watcher = Recording(signals)
    result = receive.run(
        receive.ReceiveRequest(
            receiver=receive.ReceiverOptions(grpc=False),
            command=(sys.executable, "-c", CHILD),
            subscriber=watcher,
        )
    )
    assert result.command_exit_code == 0 and result.exit_code == 0
    assert [signal for signal, _ in watcher.batches] == expected
    assert type(watcher.batches[0][1]).__name__ == "ExportTraceServiceRequest"
    if len(expected) == 2:
        assert type(watcher.batches[1][1]).__name__ == "ExportLogsServiceRequest"
    assert watcher.events == ["started", "closed"] and watcher.listen == result.listen
    assert result.spans == 1 and result.batches == 1
    assert result.receiver["log_records"] == 1  # counted whether or not it was handed over
    assert [note.kind for note in result.notes] == ["listening"]
