"""`otelcli load` and `cost --from` on chDB (the real engine): the Collector exporter's table and
conversions, counts that add up, and the same cost report as the file path on the same spans."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelcli.otlp.values import make_attributes
from otelcli.store.rows import format_double

pytest.importorskip("chdb")

REPO = Path(__file__).resolve().parents[2]
RUNS = REPO / "tests" / "data" / "corpus" / "runs"
SAMPLES = sorted((REPO / "otelcli" / "data" / "samples").iterdir())
# runs that cover every dialect, double instrumentation, reported costs and skipped spans
# (every run compares the same; these keep the suite's time small)
RUN_NAMES = [
    "anthropic-sdk",
    "double-anthropic-sdk-openinference",
    "double-anthropic-sdk-traceloop",
    "litellm-noparent",
    "openinference-openai",
    "openlit",
    "pydantic-ai-logfire",
    "vercel-ai",
]
ALL_DIMENSIONS = ("model", "provider", "service", "span-name", "user", "session")


def _table(run: str) -> str:
    return "t_" + run.replace("-", "_").replace(".", "_")


def _sql(path: Path, sql: str) -> list[list[Any]]:
    from otelcli.store.connection import open_store
    from otelcli.store.url import parse_store_url

    with open_store(parse_store_url(f"chdb:{path}")) as store:
        return store.query(sql)


def _json(cli: Callable[..., Any], *args: str, code: int = 0) -> dict[str, Any]:
    result = cli(*args, "-f", "json")
    assert result.exit_code == code, result.stderr + result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """Example lists follow the order spans were met: a capture's order, a table's order."""
    out = dict(report)
    for section in ("set_aside", "disagreements"):
        out[section] = dict(
            out[section], examples=sorted(map(json.dumps, out[section]["examples"]))
        )
    out["groups"] = sorted(map(json.dumps, out["groups"]))
    return out


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every recorded run in a table of its own, and the bundled samples in one more."""
    from typer.testing import CliRunner

    from otelcli.cli import app

    store = tmp_path_factory.mktemp("store") / "corpus.chdb"
    runner = CliRunner()
    loads = [(_table(r), [str(RUNS / r / "traces.jsonl")]) for r in RUN_NAMES]
    loads.append(("samples", [str(p) for p in SAMPLES]))
    for table, files in loads:
        result = runner.invoke(
            app, ["load", *files, "--into", f"chdb:{store}", "--table", table, "-f", "json"]
        )
        assert result.exit_code == 0, result.output
    yield store


@pytest.mark.parametrize("run", RUN_NAMES)
def test_cost_from_a_store_is_the_file_paths_report(
    cli: Callable[..., Any], corpus_store: Path, run: str
) -> None:
    by = [arg for d in ALL_DIMENSIONS for arg in ("--by", d)]
    capture = str(RUNS / run / "traces.jsonl")
    table = ("--table", _table(run))
    from_file = _json(cli, "cost", capture, *by, "--no-fallback")
    from_store = _json(cli, "cost", "--from", f"chdb:{corpus_store}", *table, *by, "--no-fallback")
    assert _comparable(from_store) == _comparable(from_file)


def test_cost_from_a_store_of_the_samples_by_trace(
    cli: Callable[..., Any], corpus_store: Path
) -> None:
    files = [str(p) for p in SAMPLES]
    from_file = _json(cli, "cost", *files, "--by", "trace", "--by", "model")
    store = ("--from", f"chdb:{corpus_store}", "--table", "samples")
    from_store = _json(cli, "cost", *store, "--by", "trace", "--by", "model")
    assert from_store["total"]["usd"] is not None
    assert _comparable(from_store) == _comparable(from_file)


def test_double_instrumentation_is_one_call_in_the_store(
    cli: Callable[..., Any], corpus_store: Path
) -> None:
    table = _table("double-anthropic-sdk-openinference")
    report = _json(cli, "cost", "--from", f"chdb:{corpus_store}", "--table", table)
    assert report["total"]["spans"] == 5
    assert report["set_aside"]["count"] == 5
    example = report["set_aside"]["examples"][0]
    assert example["span_id"] != example["same_call_as"]


def test_filters_narrow_what_the_store_prices(cli: Callable[..., Any], corpus_store: Path) -> None:
    store = ("--from", f"chdb:{corpus_store}", "--table", _table("openlit"))
    everything = _json(cli, "cost", *store)
    assert everything["total"]["spans"] > 1
    nothing = _json(cli, "cost", *store, "--service", "no-such-service")
    assert nothing["spans_seen"] == 0 and nothing["total"]["spans"] == 0
    future = _json(cli, "cost", *store, "--since", "2999-01-01")
    assert future["spans_seen"] == 0
    past = _json(cli, "cost", *store, "--until", "2262-01-01", "--since", "36500d")
    assert past["total"] == everything["total"]
    one_model = _json(
        cli, "cost", *store, "--where", "SpanAttributes['gen_ai.request.model'] = 'o4-mini'"
    )
    assert 0 < one_model["total"]["spans"] < everything["total"]["spans"]


# -- load: the exporter's table and conversions -----------------------------------------------


def _rich_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(make_attributes({"service.name": "shop", "host.cores": 4}))
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    ss.scope.version = "2.1"
    span = ss.spans.add()
    span.trace_id = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    span.span_id = bytes.fromhex("b7ad6b7169203331")
    span.parent_span_id = bytes(8)
    span.trace_state = "a=1"
    span.name = "chat gpt-4o"
    span.kind = Span.SPAN_KIND_CLIENT
    span.start_time_unix_nano = 1_700_000_000_123_456_789
    span.end_time_unix_nano = 1_700_000_001_000_000_000
    span.status.code = Status.STATUS_CODE_ERROR
    span.status.message = "boom"
    span.attributes.extend(
        make_attributes(
            {
                "s": "text",
                "i": 42,
                "d1": 1.0,
                "d2": 0.7,
                "d3": 2.4e-07,
                "b": True,
                "arr": ["stop", "<&>"],
                "kv": {"z": 1, "a": "x"},
                "raw": b"\x00\x01",
            }
        )
    )
    event = span.events.add()
    event.time_unix_nano = 1_700_000_000_500_000_000
    event.name = "gen_ai.choice"
    event.attributes.extend(make_attributes({"index": 0}))
    link = span.links.add()
    link.trace_id = bytes.fromhex("11" * 16)
    link.span_id = bytes.fromhex("22" * 8)
    link.attributes.extend(make_attributes({"why": "retry"}))
    orphan = ss.spans.add()  # no ids, no end, no resource name override
    orphan.name = "odd"
    orphan.start_time_unix_nano = 5
    return request


def test_load_writes_what_the_exporter_writes(cli: Callable[..., Any], tmp_path: Path) -> None:
    capture = tmp_path / "rich.pb"
    capture.write_bytes(_rich_request().SerializeToString())
    store = tmp_path / "s.chdb"
    report = _json(cli, "load", str(capture), "--into", f"chdb:{store}")
    assert (report["spans_read"], report["inserted"], report["refused"]["count"]) == (2, 2, 0)
    rows = _sql(
        store,
        "SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, ParentSpanId, TraceState,"
        " SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion,"
        " SpanAttributes, Duration, StatusCode, StatusMessage,"
        " arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name,"
        " Events.Attributes, Links.TraceId, Links.SpanId, Links.Attributes"
        " FROM otel_traces ORDER BY SpanName",
    )
    first = rows[0]
    assert first[:8] == [
        1_700_000_000_123_456_789,
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        "",  # an all-zero parent id is ""
        "a=1",
        "chat gpt-4o",
        "Client",
        "shop",
    ]
    assert first[8] == {"service.name": "shop", "host.cores": "4"}
    assert first[9:11] == ["lib", "2.1"]
    assert first[11] == {
        "s": "text",
        "i": "42",
        "d1": "1",
        "d2": "0.7",
        "d3": "2.4e-7",
        "b": "true",
        "arr": '["stop","\\u003c\\u0026\\u003e"]',
        "kv": '{"a":"x","z":1}',
        "raw": "AAE=",
    }
    assert first[12:15] == [876_543_211, "Error", "boom"]
    assert first[15:18] == [[1_700_000_000_500_000_000], ["gen_ai.choice"], [{"index": "0"}]]
    assert first[18:] == [["11" * 16], ["22" * 8], [{"why": "retry"}]]
    odd = rows[1]
    assert odd[1:4] == ["", "", ""] and odd[6] == "Unspecified" and odd[12] == 0
    assert odd[13] == "Unset"


def test_load_creates_the_exporters_table(cli: Callable[..., Any], tmp_path: Path) -> None:
    store = tmp_path / "s.chdb"
    capture = tmp_path / "rich.pb"
    capture.write_bytes(_rich_request().SerializeToString())
    _json(cli, "load", str(capture), "--into", f"chdb:{store}", "--table", "spans")
    _json(cli, "load", str(capture), "--into", f"chdb:{store}", "--table", "spans")  # again
    [[partition, sorting, count]] = _sql(
        store,
        "SELECT partition_key, sorting_key, (SELECT count() FROM spans)"
        " FROM system.tables WHERE name = 'spans'",
    )
    assert partition == "toDate(Timestamp)"
    assert sorting == "ServiceName, SpanName, toDateTime(Timestamp)"
    assert count == 4  # IF NOT EXISTS: the second load appends
    # the exporter's trace-id lookup, kept by its view: when each trace starts and ends
    [[partition, sorting]] = _sql(
        store,
        "SELECT partition_key, sorting_key FROM system.tables WHERE name = 'spans_trace_id_ts'",
    )
    assert (partition, sorting) == ("toDate(Start)", "TraceId, Start")
    lookup = _sql(
        store,
        "SELECT TraceId, min(Start), max(End) FROM spans_trace_id_ts GROUP BY TraceId"
        " ORDER BY TraceId",
    )
    spans = _sql(
        store,
        "SELECT TraceId, min(toDateTime(Timestamp)), max(toDateTime(Timestamp)) FROM spans"
        " WHERE TraceId != '' GROUP BY TraceId ORDER BY TraceId",
    )
    assert lookup == spans and lookup
    columns = _sql(store, "SELECT name, type FROM system.columns WHERE table = 'spans'")
    assert dict(map(tuple, columns)) == {
        "Timestamp": "DateTime64(9)",
        "TraceId": "String",
        "SpanId": "String",
        "ParentSpanId": "String",
        "TraceState": "String",
        "SpanName": "LowCardinality(String)",
        "SpanKind": "LowCardinality(String)",
        "ServiceName": "LowCardinality(String)",
        "ResourceAttributes": "Map(LowCardinality(String), String)",
        "ScopeName": "String",
        "ScopeVersion": "String",
        "SpanAttributes": "Map(LowCardinality(String), String)",
        "Duration": "UInt64",
        "StatusCode": "LowCardinality(String)",
        "StatusMessage": "String",
        "Events.Timestamp": "Array(DateTime64(9))",
        "Events.Name": "Array(LowCardinality(String))",
        "Events.Attributes": "Array(Map(LowCardinality(String), String))",
        "Links.TraceId": "Array(String)",
        "Links.SpanId": "Array(String)",
        "Links.TraceState": "Array(String)",
        "Links.Attributes": "Array(Map(LowCardinality(String), String))",
    }


def test_a_table_the_collector_filled_is_priced(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Rows written the way the exporter writes them (every value a string) read the same."""
    from otelcli.store.connection import open_store
    from otelcli.store.schema import traces_ddl
    from otelcli.store.url import parse_store_url

    store = tmp_path / "collector.chdb"
    with open_store(parse_store_url(f"chdb:{store}"), create=True) as db:
        db.command(traces_ddl("otel_traces"))
        db.command(
            "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName,"
            " ResourceAttributes, ScopeName, SpanAttributes, Duration, StatusCode) VALUES"
            " ('2026-06-01 10:00:00.000000000', 'aa', 'bb', 'chat gpt-4o', 'Client', 'api',"
            " {'service.name': 'api'}, 'opentelemetry.instrumentation.openai_v2',"
            " {'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',"
            " 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': '1200',"
            " 'gen_ai.usage.output_tokens': '300'}, 1000000, 'Unset')"
        )
    quick = _json(cli, "cost", "-m", "gpt-4o", "-i", "1200", "-o", "300", "--at", "2026-06-01")
    report = _json(cli, "cost", "--from", f"chdb:{store}", "--by", "service")
    assert report["total"]["usd"]["total"] == quick["usd"]["total"]
    assert report["groups"][0]["key"] == {"service": "api"}


def test_doubles_are_written_in_the_exporters_form() -> None:
    assert [format_double(v) for v in (1.0, 0.7, 2.4e-07, 1e21, 1e16, 1.5e-05, 0.0)] == [
        "1",
        "0.7",
        "2.4e-7",
        "1e+21",
        "10000000000000000",
        "0.000015",
        "0",
    ]


# -- errors -----------------------------------------------------------------------------------


def test_store_errors_are_one_line_with_an_exit_code(
    cli: Callable[..., Any], corpus_store: Path, tmp_path: Path
) -> None:
    store = f"chdb:{corpus_store}"
    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("--from", f"chdb:{tmp_path / 'none'}"), 2, "no store at"),
        (("--from", store, "--table", "missing"), 2, "missing"),
        (("--from", store, "--table", "samples", "--where", "SpanName =="), 2, "Syntax error"),
        (("--from", store, "--table", "bad-name"), 2, "not a plain identifier"),
        (("--from", store, "--since", "yesterday-ish"), 2, "is not a time"),
        (("--from", "mysql://host/db"), 2, "neither chdb:DIR"),
        (("--since", "1d"), 2, "need --from"),
        (("--from", store, str(RUNS / "openlit" / "traces.jsonl")), 2, "not both"),
    ]
    for args, code, text in cases:
        result = cli("cost", *args, "-f", "table")
        assert result.exit_code == code, (args, result.stderr)
        assert text in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2  # the error and its hint


def test_a_store_query_out_of_time_is_exit_6(
    cli: Callable[..., Any], corpus_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTELCLI_STORE_TIMEOUT", "1")
    endless = "(SELECT sum(cityHash64(number)) FROM numbers(100000000000)) > 0"
    store = ("--from", f"chdb:{corpus_store}", "--table", "samples")
    result = cli("cost", *store, "--where", endless, "-f", "table")
    assert result.exit_code == 6, result.stderr
    assert "ran out of time" in result.stderr and "OTELCLI_STORE_TIMEOUT" in result.stderr


def test_the_sql_is_shown_with_debug(cli: Callable[..., Any], corpus_store: Path) -> None:
    store = ("--from", f"chdb:{corpus_store}", "--table", "samples")
    result = cli("--debug", "cost", *store, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "GROUP BY" in result.stderr and "max_execution_time" in result.stderr


def test_prices_into_a_store_can_be_joined(cli: Callable[..., Any], tmp_path: Path) -> None:
    store = f"chdb:{tmp_path / 'p.chdb'}"
    listed = _json(cli, "cost", "prices", "gpt-4o*")
    written = _json(cli, "cost", "prices", "gpt-4o*", "--into", store)
    assert written["rows"] == len(listed["prices"]) > 0
    again = _json(cli, "cost", "prices", "gpt-4o-mini*", "--into", store)  # replaces the rows
    rows = _sql(
        tmp_path / "p.chdb",
        "SELECT PriceId, toString(UsdPerMTokInput), toString(UsdPerMTokOutput) FROM otel_prices"
        " WHERE ValidFrom IS NULL OR ValidFrom <= today() ORDER BY PriceId",
    )
    assert len(_sql(tmp_path / "p.chdb", "SELECT * FROM otel_prices")) == again["rows"]
    by_id = {row["id"]: row for row in listed["prices"] if row["from"] is None}
    compared = 0
    for price_id, usd_in, usd_out in rows:
        if price_id in by_id and by_id[price_id]["above_input_tokens"] is None:
            assert (usd_in, usd_out) == (by_id[price_id]["input"], by_id[price_id]["output"])
            compared += 1
    assert compared > 0
    assert cli("cost", "run.pb", "--into", store, "-f", "table").exit_code == 2


@pytest.mark.parametrize("run", ["openlit", "double-anthropic-sdk-traceloop", "vercel-ai"])
def test_stats_from_a_store_is_the_file_paths_report(
    cli: Callable[..., Any], corpus_store: Path, run: str
) -> None:
    """The same counts; a store has no batches and names the table as its input."""
    from_file = _json(cli, "stats", str(RUNS / run / "traces.jsonl"), "--top", "3")
    store = ("--from", f"chdb:{corpus_store}", "--table", _table(run))
    from_store = _json(cli, "stats", *store, "--top", "3")
    # the store's table holds spans only: the file's per-signal sections have no counterpart
    for key in ("signals", "logs", "metrics"):
        from_file.pop(key, None)
    for report in (from_file, from_store):
        del report["inputs"], report["batches"]
        # ties in the top 3 come in meeting order in a capture, by name in a store
        report["span_names"] = sorted(report["span_names"].values())
    assert from_store == from_file
    assert _json(cli, "stats", *store, "--service", "nobody")["spans"] == 0


# -- validate --from: a census inside the engine, the file path's findings -------------------


def _rule_counts(report: dict[str, Any], skip: set[str]) -> dict[str, int]:
    return {r["rule"]: r["count"] for r in report["rules"] if r["rule"] not in skip}


def _validate_both(
    cli: Callable[..., Any], corpus_store: Path, table: str, files: list[str]
) -> tuple[dict[str, Any], dict[str, Any], int, int]:
    from_file = cli("validate", *files, "-f", "json")
    from_store = cli("validate", "--from", f"chdb:{corpus_store}", "--table", table, "-f", "json")
    assert from_store.exit_code in (0, 3), from_store.stderr
    return (
        json.loads(from_file.stdout),
        json.loads(from_store.stdout),
        from_file.exit_code,
        from_store.exit_code,
    )


@pytest.mark.parametrize("run", [*RUN_NAMES, "samples"])
def test_validate_from_a_store_finds_what_the_file_path_finds(
    cli: Callable[..., Any], corpus_store: Path, run: str
) -> None:
    files = [str(p) for p in SAMPLES] if run == "samples" else [str(RUNS / run / "traces.jsonl")]
    table = "samples" if run == "samples" else _table(run)
    from_file, from_store, file_code, store_code = _validate_both(cli, corpus_store, table, files)
    assert from_store["schema"] == from_file["schema"]
    assert from_store["inputs"] == [f"chdb:{corpus_store} table {table}"]
    not_checked = {item["rule"] for item in from_store["store"]["not_checked"]}
    assert "type_mismatch" in not_checked
    assert "double_instrumentation" not in not_checked  # cost --from's call identity tells
    # every check the census evaluates: the same findings, as many
    assert _rule_counts(from_store, not_checked) == _rule_counts(from_file, not_checked)
    assert from_store["rules"], "the corpus runs all have findings"
    same = (
        "spans",
        "genai_spans",
        "traces",
        "span_types",
        "dialects",
        "not_evaluated",
        "llm_calls",
    )
    assert {k: from_store["summary"][k] for k in same} == {k: from_file["summary"][k] for k in same}
    file_rules = {r["rule"] for r in from_file["rules"]}
    if "type_mismatch" not in file_rules:
        assert from_store["summary"]["by_level"] == from_file["summary"]["by_level"]
        assert store_code == file_code
    # examples and listed findings name spans of the table
    ids = {row[0] for row in _sql(corpus_store, f"SELECT SpanId FROM {table}")}
    shown = [f for r in from_store["rules"] for f in r["examples"]] + from_store["findings"]
    assert shown and {f["span_id"] for f in shown} <= ids
    assert all(len(r["examples"]) == min(3, r["count"]) for r in from_store["rules"])


def test_validate_from_a_store_exits_as_the_file_path_does(
    cli: Callable[..., Any], corpus_store: Path
) -> None:
    store = ("--from", f"chdb:{corpus_store}", "--table", _table("openlit"))
    assert cli("validate", *store, "-f", "json").exit_code == 3  # violations
    assert cli("validate", *store, "-f", "json", "--fail-on", "none").exit_code == 0
    assert cli("validate", *store, "-f", "json", "--fail-on", "nonsense").exit_code == 2
    assert cli("validate", "run.pb", *store, "-f", "json").exit_code == 2
    assert cli("validate", "run.pb", "--table", "x", "-f", "json").exit_code == 2
    nothing = _json(cli, "validate", *store, "--since", "2999-01-01")
    assert nothing["summary"]["spans"] == 0 and nothing["passed"] and nothing["rules"] == []


def test_validate_from_a_store_filters(cli: Callable[..., Any], corpus_store: Path) -> None:
    store = ("--from", f"chdb:{corpus_store}", "--table", _table("openlit"))
    everything = _json(cli, "validate", *store, code=3)
    assert everything["summary"]["spans"] > 1
    model = "SpanAttributes['gen_ai.request.model'] = 'o4-mini'"
    narrowed = _json(cli, "validate", *store, "--where", model, code=3)
    [[expected]] = _sql(corpus_store, f"SELECT count() FROM {_table('openlit')} WHERE {model}")
    assert 0 < narrowed["summary"]["spans"] == expected < everything["summary"]["spans"]
    assert _json(cli, "validate", *store, "--service", "nobody")["summary"]["spans"] == 0
    past = _json(cli, "validate", *store, "--until", "2262-01-01", "--since", "36500d", code=3)
    assert past["summary"] == everything["summary"]


def test_validate_from_a_store_shows_its_sql_with_debug(
    cli: Callable[..., Any], corpus_store: Path
) -> None:
    store = ("--from", f"chdb:{corpus_store}", "--table", "samples")
    result = cli("--debug", "validate", *store, "-f", "json")
    assert result.exit_code in (0, 3), result.stderr
    assert "ARRAY JOIN mapKeys(SpanAttributes)" in result.stderr
    assert "GROUP BY ScopeName" in result.stderr and "max_execution_time" in result.stderr


def _many_chat_spans(count: int) -> ExportTraceServiceRequest:
    """Chat spans alike but for ids and token counts (more distinct values than a census
    keeps), some with a wrong enum value, a deprecated key and an ERROR status."""
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    ss.scope.name = "opentelemetry.instrumentation.openai_v2"
    for n in range(count):
        span = ss.spans.add()
        span.trace_id = (n // 10 + 1).to_bytes(16, "big")
        span.span_id = (n + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o"
        span.kind = Span.SPAN_KIND_CLIENT
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + n
        span.end_time_unix_nano = 1_700_000_001_000_000_000 + n
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.id": f"chatcmpl-{n}",
            "gen_ai.usage.input_tokens": 100 + n,
            "gen_ai.usage.output_tokens": 7 * n,
        }
        if n % 4 == 0:
            attributes["gen_ai.output.type"] = "telepathy"
        if n % 5 == 0:
            attributes["gen_ai.system"] = "openai"
            span.status.code = Status.STATUS_CODE_ERROR
        span.attributes.extend(make_attributes(attributes))
    return request


def test_validate_from_a_store_summarises_keys_of_many_values(
    cli: Callable[..., Any], corpus_store: Path, tmp_path: Path
) -> None:
    capture = tmp_path / "many.pb"
    capture.write_bytes(_many_chat_spans(300).SerializeToString())
    table = ("--table", "t_many")
    loaded = cli("load", str(capture), "--into", f"chdb:{corpus_store}", *table, "-f", "json")
    assert loaded.exit_code == 0, loaded.stderr
    from_file = _json(cli, "validate", str(capture), code=3)
    from_store = _json(cli, "validate", "--from", f"chdb:{corpus_store}", *table, code=3)
    section = from_store["store"]
    assert "gen_ai.response.id" in section["summarised_keys"]
    assert "gen_ai.usage.input_tokens" in section["summarised_keys"]
    assert section["groups"] < 20  # 300 spans, a handful of shapes
    not_checked = {item["rule"] for item in section["not_checked"]}
    assert "invalid_token_count" in not_checked  # token values were not read one by one
    counts = _rule_counts(from_store, not_checked)
    assert counts == _rule_counts(from_file, not_checked)
    assert counts["undefined_enum_value"] == 75 and counts["deprecated_attribute"] == 60
    assert counts["error_type_missing"] == 60
    assert from_store["summary"]["llm_calls"] == from_file["summary"]["llm_calls"] == 300


def test_a_census_past_its_group_limit_summarises_then_says_what_it_left(
    cli: Callable[..., Any], corpus_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the group limit the census keeps fewer distinct values per key; where shapes
    still do not fit (span names are never summarised), the rarest are left and said so."""
    from otelcli.flows import store_validate
    from otelcli.store.census import take_census
    from otelcli.store.connection import open_store
    from otelcli.store.query import StoreSource
    from otelcli.store.url import parse_store_url

    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    spans.scope.name = "opentelemetry.instrumentation.openai_v2"
    for n in range(12):
        span = spans.spans.add(trace_id=b"\1" * 16, span_id=(n + 1).to_bytes(8, "big"))
        span.name = f"chat model-{n % 6}"  # 6 names, 2 spans each
        span.attributes.extend(
            make_attributes({"gen_ai.response.id": f"r-{n}", "gen_ai.usage.input_tokens": n})
        )
    capture = tmp_path / "names.pb"
    capture.write_bytes(request.SerializeToString())
    table = ("--table", "t_names")
    loaded = cli("load", str(capture), "--into", f"chdb:{corpus_store}", *table, "-f", "json")
    assert loaded.exit_code == 0, loaded.stderr
    url = f"chdb:{corpus_store}"
    with open_store(parse_store_url(url)) as store:
        source = StoreSource.parse(url, "t_names")
        roomy = take_census(store, source, limit=6)  # ids and counts summarised: 6 shapes
        tight = take_census(store, source, limit=4)
    assert len(roomy.groups) == 6 and sum(g.spans for g in roomy.groups) == 12
    assert "gen_ai.response.id" in roomy.summarised
    assert len(tight.groups) == 4 and sum(g.spans for g in tight.groups) == 8
    assert tight.spans == 12

    real = take_census
    monkeypatch.setattr(store_validate, "take_census", lambda *a, **k: real(*a, **k, limit=4))
    document = _json(cli, "validate", "--from", url, *table, "--fail-on", "none")
    reasons = {item["rule"]: item["reason"] for item in document["store"]["not_checked"]}
    assert reasons["*"] == "4 spans of rarer shapes past the census limit"
    assert document["summary"]["spans"] == 12
