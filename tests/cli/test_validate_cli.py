"""`otelcli validate` and `otelcli normalize` through the real app, and `validate -- CMD` with a
real instrumented child process exporting over OTLP/HTTP."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from otelcli.genai.scenarios.build import build_scenario
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import CliResult
from tests.unit.validate_helpers import CHAT, SpanSpec, request

Cli = Callable[..., CliResult]


def _capture(path: Path, *specs: SpanSpec) -> str:
    with open_writer(str(path)) as writer:
        writer.write(request(specs))
    return str(path)


def test_clean_capture_passes_and_a_violation_exits_3(cli: Cli, tmp_path: Path) -> None:
    clean = _capture(tmp_path / "clean.pb", SpanSpec(CHAT))
    result = cli("validate", clean, "-f", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["passed"] is True

    bad = _capture(tmp_path / "bad.jsonl", SpanSpec({**CHAT, "gen_ai.system": "openai"}))
    result = cli("validate", bad, "-f", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["summary"]["by_level"]["violation"] == 1
    assert cli("validate", bad, "--fail-on", "none", "-f", "json").exit_code == 0


def test_fail_on_improvement(cli: Cli, tmp_path: Path) -> None:
    capture = _capture(tmp_path / "run.pb", SpanSpec(CHAT, name="chat"))  # span name: improvement
    assert cli("validate", capture, "-f", "json").exit_code == 0
    assert cli("validate", capture, "-f", "json", "--fail-on", "improvement").exit_code == 3


def test_policy_file_in_the_working_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = _capture(tmp_path / "run.pb", SpanSpec(CHAT))
    (tmp_path / "otelcli.toml").write_text('[validate.require]\nchat = ["user.id"]\n')
    monkeypatch.chdir(tmp_path)
    result = cli("validate", capture, "-f", "json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["policy"].endswith("otelcli.toml")
    assert [r["rule"] for r in document["rules"] if r["level"] == "violation"] == [
        "policy_required_attribute_missing"
    ]


def test_junit_to_a_file_keeps_a_summary_on_stderr(cli: Cli, tmp_path: Path) -> None:
    capture = _capture(tmp_path / "run.pb", SpanSpec({**CHAT, "gen_ai.system": "openai"}))
    report = tmp_path / "validate.xml"
    result = cli("validate", capture, "-f", "junit", "-o", str(report))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "validate FAILED" in result.stderr
    root = ET.parse(report).getroot()
    assert root.get("failures") == "1"


@pytest.mark.parametrize("fmt", ["sarif", "github", "table"])
def test_other_formats_render(cli: Cli, tmp_path: Path, fmt: str) -> None:
    capture = _capture(tmp_path / "run.pb", SpanSpec({**CHAT, "gen_ai.usage.prompt_tokens": 3}))
    result = cli("validate", capture, "-f", fmt)
    assert result.exit_code == 3
    assert "deprecated_attribute" in result.stdout
    if fmt == "sarif":
        assert json.loads(result.stdout)["version"] == "2.1.0"


def test_ndjson_streams_findings_then_a_summary(cli: Cli, tmp_path: Path) -> None:
    capture = _capture(tmp_path / "run.pb", *(SpanSpec(CHAT, name="chat", span=i) for i in (1, 2)))
    result = cli("validate", capture, "-f", "ndjson", "--max-findings", "1")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    summary = records[-1]["summary"]
    findings = records[:-1]
    assert len(findings) == summary["findings"]  # every finding, whatever --max-findings says
    assert sum(1 for f in findings if f["rule"] == "span_name") == 2


def test_semconv_selection_and_list_rules(cli: Cli, tmp_path: Path) -> None:
    capture = _capture(tmp_path / "run.pb", SpanSpec({**CHAT, "gen_ai.request.top_k": 0.5}))
    assert cli("validate", capture, "-f", "json").exit_code == 3  # top_k is an int now
    old = cli("validate", capture, "-f", "json", "--semconv", "1.41.1")
    assert old.exit_code == 0 and json.loads(old.stdout)["semconv"]["id"] == "v1.41.1"
    assert cli("validate", capture, "--semconv", "9.9").exit_code == 2
    rules = json.loads(cli("validate", "--list-rules", "-f", "json").stdout)
    assert {"unknown_attribute", "span_name", "content_schema"} <= {r["rule"] for r in rules}


def test_usage_errors(cli: Cli, tmp_path: Path) -> None:
    assert cli("validate").exit_code == 2
    assert cli("validate", str(tmp_path / "x.pb"), "--fail-on", "loud").exit_code == 2
    assert cli("validate", str(tmp_path / "missing.pb"), "-f", "json").exit_code == 3


def test_normalize_maps_dialect_keys(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "oi.jsonl"
    with open_writer(str(source)) as writer:
        writer.write(build_scenario("chat", seed=3, dialect="openinference"))
    kept, replaced = tmp_path / "kept.pb", tmp_path / "replaced.pb"
    result = cli("normalize", str(source), "-o", str(kept), "-f", "json")
    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["dialects"] == {"openinference": 1} and stats["changed_spans"] == 1
    assert cli("normalize", str(source), "-o", str(replaced), "--replace").exit_code == 0
    (kept_span,) = [v.attributes for b in read_batches([str(kept)]) for v in iter_spans(b)]
    (replaced_span,) = [v.attributes for b in read_batches([str(replaced)]) for v in iter_spans(b)]
    assert kept_span["gen_ai.usage.input_tokens"] == kept_span["llm.token_count.prompt"]
    assert kept_span["gen_ai.operation.name"] == "chat"
    assert "llm.token_count.prompt" not in replaced_span
    assert replaced_span["gen_ai.usage.input_tokens"] == kept_span["gen_ai.usage.input_tokens"]
    # the normalized copy is checked as a semconv span (its scope still names the dialect)
    checked = json.loads(cli("validate", str(replaced), "-f", "json", "--fail-on", "none").stdout)
    assert checked["summary"]["span_types"] == {"openai.inference.client": 1}
    raw = json.loads(cli("validate", str(source), "-f", "json", "--fail-on", "none").stdout)
    assert raw["summary"]["span_types"] == {}


# -- validate -- CMD ---------------------------------------------------------------------------

_APP = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracer = provider.get_tracer("my.genai.app")
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
    }
    if "legacy" in sys.argv:
        attributes["gen_ai.system"] = "openai"
    for _ in range(3):
        with tracer.start_as_current_span(
            "chat gpt-4o", kind=trace.SpanKind.CLIENT, attributes=attributes
        ):
            pass
    provider.shutdown()
    sys.exit(int(sys.argv[1]))
    """
)


@pytest.fixture
def app_script(tmp_path: Path) -> str:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    path = tmp_path / "app.py"
    path.write_text(_APP)
    return str(path)


def test_validate_a_command_that_emits_clean_spans(cli: Cli, app_script: str) -> None:
    result = cli("validate", "-f", "json", "--grace", "1", "--", sys.executable, app_script, "0")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["spans"] == 3
    assert document["summary"]["span_types"] == {"openai.inference.client": 3}
    assert document["command"]["exit_code"] == 0 and document["command"]["spans"] == 3


def test_validate_a_command_exit_code_reflects_findings_and_the_command(
    cli: Cli, app_script: str
) -> None:
    legacy = cli(
        "validate", "-f", "json", "--grace", "1", "--", sys.executable, app_script, "0", "legacy"
    )
    assert legacy.exit_code == 3
    assert json.loads(legacy.stdout)["summary"]["by_level"]["violation"] == 3
    failing = cli("validate", "-f", "json", "--grace", "1", "--", sys.executable, app_script, "7")
    assert failing.exit_code == 7
    assert json.loads(failing.stdout)["passed"] is False


def test_validate_a_command_that_sends_nothing_fails(cli: Cli) -> None:
    result = cli("validate", "-f", "json", "--grace", "0.2", "--", sys.executable, "-c", "pass")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["command"]["problem"] == "the command sent no spans"


def test_registry_dir_at_run_time(cli: Cli, tmp_path: Path) -> None:
    model = Path(__file__).resolve().parents[2].parent / "shared/reference/semconv/genai/model"
    if not model.is_dir():
        pytest.skip("../shared/reference is not present")
    pytest.importorskip("yaml")
    capture = _capture(tmp_path / "run.pb", SpanSpec({**CHAT, "gen_ai.system": "openai"}))
    result = cli("validate", capture, "-f", "json", "--registry", str(model))
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["semconv"]["id"] == f"registry:{model}"
    assert [r["rule"] for r in document["rules"] if r["level"] == "violation"] == [
        "deprecated_attribute"
    ]
    both = cli("validate", capture, "--registry", str(model), "--semconv", "1.42")
    assert both.exit_code == 2
