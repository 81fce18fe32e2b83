from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Status
from typer.testing import CliRunner

from otelcli.otlp.values import make_attributes
from otelcli.redact import forget_secrets
from tests.receiver import RecordingReceiver, Script

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
_ENV_PREFIXES = (
    "OTEL_",
    "OTELCLI_",
    "PORTKEY_",
    "LANGFUSE_",
    "OPENOBSERVE_",
    "LANGSMITH_",
    "PHOENIX_",
    "TRACEPARENT",
    "NO_COLOR",
)


def pytest_configure(config: pytest.Config) -> None:
    """chDB keeps about a dozen descriptors per session opened and closed in a process (a
    command opens one and exits; the in-process CLI tests open hundreds): raise the soft
    limit so a machine whose default is 1,024 runs the suite as this one does."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's OTLP or backend settings."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("OTELCLI_RAISE_UNEXPECTED", "1")  # a bug fails the test, not exit 1
    forget_secrets()  # the registry of secrets to mask lives as long as the process


def make_request(
    spans: int = 3,
    service: str = "checkout",
    trace_byte: int = 1,
    attributes: dict[str, object] | None = None,
    resources: int = 1,
) -> ExportTraceServiceRequest:
    """A small, realistic request: one trace per resource, a root and its children."""
    request = ExportTraceServiceRequest()
    for r in range(resources):
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(make_attributes({"service.name": f"{service}{r or ''}"}))
        ss = rs.scope_spans.add()
        ss.scope.name = "tests"
        ss.scope.version = "1.0"
        trace_id = bytes([trace_byte + r]) * 16
        for i in range(spans):
            span = ss.spans.add(
                trace_id=trace_id,
                span_id=bytes([r + 1, i + 1]) * 4,
                parent_span_id=b"" if i == 0 else bytes([r + 1, 1]) * 4,
                name=f"op-{i}",
                kind=3 if i else 2,
                start_time_unix_nano=1_700_000_000_000_000_000 + i * 1000,
                end_time_unix_nano=1_700_000_000_000_000_000 + i * 1000 + 500,
            )
            span.attributes.extend(
                make_attributes({"gen_ai.request.model": "gpt-4o", "i": i, **(attributes or {})})
            )
            if i == spans - 1 and spans > 1:
                span.status.code = Status.STATUS_CODE_ERROR
                span.status.message = "boom"
    return request


@pytest.fixture
def request_factory() -> Callable[..., ExportTraceServiceRequest]:
    return make_request


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    with RecordingReceiver().running() as running:
        yield running


@pytest.fixture
def scripted_receiver() -> Iterator[Callable[[Script], RecordingReceiver]]:
    with ExitStack() as stack:
        yield lambda script: stack.enter_context(RecordingReceiver(script).running())


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run the real Typer app in-process, stdout and stderr apart."""
    from otelcli.cli import app

    def run(
        *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def shared_reference() -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present")
    return SHARED_REFERENCE
