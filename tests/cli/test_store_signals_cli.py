"""`otelcli load` writes log records and metric points as the Collector's clickhouseexporter
does, on chDB (the real engine): its otel_logs and otel_metrics_* tables (the DDL of its
`internal/sql_templates`, the generation of the traces table) and its value conversions."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from otelcli.otlp.values import make_attributes

pytest.importorskip("chdb")

RUNS = Path(__file__).resolve().parents[2] / "tests" / "data" / "corpus" / "runs"
# runs with log records and metrics: string bodies (openlit), map bodies (event mode), sums
CORPUS = ("openlit", "traceloop-openai-events")
_JSON_KINDS = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponentialHistogram": "exponential_histogram",
    "summary": "summary",
}


def _sql(path: Path, sql: str) -> list[list[Any]]:
    from otelcli.store.connection import open_store
    from otelcli.store.url import parse_store_url

    with open_store(parse_store_url(f"chdb:{path}")) as store:
        return store.query(sql)


def _json(cli: Callable[..., Any], *args: str) -> dict[str, Any]:
    result = cli(*args, "-f", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _file_counts(runs: tuple[str, ...]) -> Counter[str]:
    """Records in the runs' files, counted from their JSON: table -> rows expected."""
    counts: Counter[str] = Counter()
    for run in runs:
        for line in (RUNS / run / "logs.jsonl").read_text().splitlines():
            for rl in json.loads(line)["resourceLogs"]:
                for sl in rl.get("scopeLogs", []):
                    counts["otel_logs"] += len(sl.get("logRecords", []))
        for line in (RUNS / run / "metrics.jsonl").read_text().splitlines():
            for rm in json.loads(line)["resourceMetrics"]:
                for sm in rm.get("scopeMetrics", []):
                    for metric in sm.get("metrics", []):
                        for key, kind in _JSON_KINDS.items():
                            if key in metric:
                                points = metric[key].get("dataPoints", [])
                                counts[f"otel_metrics_{kind}"] += len(points)
    return counts


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from typer.testing import CliRunner

    from otelcli.cli import app

    store = tmp_path_factory.mktemp("signals") / "s.chdb"
    folders = [str(RUNS / run) for run in CORPUS]
    result = CliRunner().invoke(app, ["load", *folders, "--into", f"chdb:{store}", "-f", "json"])
    assert result.exit_code == 0, result.output
    return store, json.loads(result.stdout)


def test_every_log_record_and_data_point_is_a_row_of_its_table(
    corpus_store: tuple[Path, dict[str, Any]],
) -> None:
    store, report = corpus_store
    expected = _file_counts(CORPUS)
    points = sum(n for table, n in expected.items() if table.startswith("otel_metrics_"))
    assert expected["otel_logs"] == 30 and points == 99  # the files hold both signals
    assert (report["log_records_read"], report["log_records_inserted"]) == (30, 30)
    assert (report["data_points_read"], report["data_points_inserted"]) == (99, 99)
    assert report["refused"]["count"] == 0
    rows = dict(
        map(
            tuple,
            _sql(
                store,
                "SELECT 'otel_logs', count() FROM otel_logs"
                + "".join(
                    f" UNION ALL SELECT 'otel_metrics_{kind}', count() FROM otel_metrics_{kind}"
                    for kind in _JSON_KINDS.values()
                ),
            ),
        )
    )
    assert rows == {table: expected[table] for table in rows}
    assert {t: n for t, n in report["tables"].items() if t != "otel_traces"} == rows


def test_corpus_values_are_converted_as_the_exporter_converts_them(
    corpus_store: tuple[Path, dict[str, Any]],
) -> None:
    store, _ = corpus_store
    # an event-mode body is a map: AsString() makes it compact JSON; no time: the observed one
    [[body, timestamp, flags, trace_id, service]] = _sql(
        store,
        "SELECT Body, toUnixTimestamp64Nano(Timestamp), TraceFlags, TraceId, ServiceName"
        " FROM otel_logs WHERE LogAttributes['gen_ai.provider.name'] = 'openai'"
        " AND Body LIKE '%weather assistant%' ORDER BY Timestamp LIMIT 1",
    )
    assert body == '{"content":"You are a weather assistant."}'
    assert timestamp == 1796648504246581675 and flags == 3
    assert trace_id == "20fb72ad5f4713e30bf53f63cb66b3a7"
    assert service == "corpus-traceloop-openai-events"
    # a histogram point: its name, unit, bounds and counts as the file has them
    first = json.loads((RUNS / "openlit" / "metrics.jsonl").read_text().splitlines()[0])
    scope = first["resourceMetrics"][0]["scopeMetrics"][0]
    metric = scope["metrics"][0]
    point = metric["histogram"]["dataPoints"][0]
    [[unit, counts, bounds, count, temporality, scope_name]] = _sql(
        store,
        "SELECT MetricUnit, BucketCounts, ExplicitBounds, Count, AggregationTemporality,"
        f" ScopeName FROM otel_metrics_histogram WHERE MetricName = '{metric['name']}'"
        f" AND toUnixTimestamp64Nano(TimeUnix) = {point['timeUnixNano']}"
        " ORDER BY Count DESC LIMIT 1",
    )
    assert unit == metric.get("unit", "")
    assert counts == [int(c) for c in point["bucketCounts"]]
    assert bounds == point["explicitBounds"]
    assert count == int(point["count"]) and scope_name == scope["scope"]["name"]
    assert temporality == metric["histogram"]["aggregationTemporality"] == 2  # its number


def _log_request() -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.30.0")
    rl.resource.attributes.extend(make_attributes({"service.name": "shop", "pid": 42}))
    sl = rl.scope_logs.add(schema_url="s-url")
    sl.scope.name, sl.scope.version = "lib", "1.2"
    sl.scope.attributes.extend(make_attributes({"tier": 2.5}))
    record = sl.log_records.add(
        time_unix_nano=1_700_000_000_000_000_001,
        observed_time_unix_nano=5,
        severity_number=17,
        severity_text="ERROR",
        flags=0x101,  # the exporter keeps the low byte
        trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
        span_id=bytes.fromhex("b7ad6b7169203331"),
    )
    record.body.string_value = "boom"
    record.attributes.extend(
        make_attributes({"n": 7, "ok": True, "ratio": 0.25, "tags": ["a", "<b>"]})
    )
    bare = sl.log_records.add(observed_time_unix_nano=1_700_000_000_000_000_009)
    bare.body.kvlist_value.values.extend(make_attributes({"z": 1, "a": "x"}))
    return request


def _metrics_request() -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.extend(make_attributes({"service.name": "shop"}))
    sm = rm.scope_metrics.add()
    sm.scope.name, sm.scope.dropped_attributes_count = "meter", 3
    t0, t1 = 1_700_000_000_000_000_000, 1_700_000_060_000_000_000

    gauge = sm.metrics.add(name="queue", unit="{item}", description="queued")
    g = gauge.gauge.data_points.add(start_time_unix_nano=t0, time_unix_nano=t1, as_int=12)
    g.attributes.extend(make_attributes({"q": "main"}))
    ex = g.exemplars.add(time_unix_nano=t1, as_double=1.5)
    ex.span_id = bytes.fromhex("b7ad6b7169203331")
    ex.filtered_attributes.extend(make_attributes({"k": 1}))
    gauge.gauge.data_points.add(time_unix_nano=t1, as_double=math.nan)

    total = sm.metrics.add(name="gen_ai.client.token.usage.total", unit="{token}")
    total.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    total.sum.is_monotonic = True
    total.sum.data_points.add(time_unix_nano=t1, as_double=300.0, flags=1)

    hist = sm.metrics.add(name="gen_ai.client.operation.duration", unit="s")
    hist.histogram.aggregation_temporality = (
        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    )
    hist.histogram.data_points.add(
        time_unix_nano=t1,
        count=3,
        sum=2.5,
        bucket_counts=[1, 2, 0],
        explicit_bounds=[0.5, 1.0],
        min=0.1,
        max=1.2,
    )
    no_sum = hist.histogram.data_points.add(time_unix_nano=t1, count=0)
    no_sum.attributes.extend(make_attributes({"empty": True}))

    exp = sm.metrics.add(name="latency.exp", unit="ms")
    exp.exponential_histogram.aggregation_temporality = (
        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
    )
    p = exp.exponential_histogram.data_points.add(
        time_unix_nano=t1, count=4, sum=9.0, scale=2, zero_count=1, min=0.0, max=5.0
    )
    p.positive.offset, p.negative.offset = 3, -2
    p.positive.bucket_counts.extend([1, 2])
    p.negative.bucket_counts.extend([1])

    summary = sm.metrics.add(name="rpc.summary", unit="ms")
    s = summary.summary.data_points.add(time_unix_nano=t1, count=10, sum=55.0)
    s.quantile_values.add(quantile=0.5, value=4.0)
    s.quantile_values.add(quantile=0.99, value=math.inf)
    sm.metrics.add(name="no.data")  # a metric without data: no point, no row
    return request


def test_log_records_are_written_as_the_exporter_writes_them(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    capture = tmp_path / "logs.pb"
    capture.write_bytes(_log_request().SerializeToString())
    store = tmp_path / "s.chdb"
    report = _json(cli, "load", str(capture), "--into", f"chdb:{store}")
    assert (report["log_records_read"], report["log_records_inserted"]) == (2, 2)
    assert report["spans_read"] == 0
    rows = _sql(
        store,
        "SELECT toUnixTimestamp64Nano(Timestamp), toUnixTimestamp(TimestampTime), TraceId,"
        " SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,"
        " ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion,"
        " ScopeAttributes, LogAttributes FROM otel_logs ORDER BY Timestamp",
    )
    assert rows[0] == [
        1_700_000_000_000_000_001,  # the record's time before the observed one
        1_700_000_000,  # TimestampTime from its DEFAULT
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        1,
        "ERROR",
        17,
        "shop",
        "boom",
        "https://opentelemetry.io/schemas/1.30.0",
        {"service.name": "shop", "pid": "42"},
        "s-url",
        "lib",
        "1.2",
        {"tier": "2.5"},
        {"n": "7", "ok": "true", "ratio": "0.25", "tags": '["a","\\u003cb\\u003e"]'},
    ]
    bare = rows[1]
    assert bare[0] == 1_700_000_000_000_000_009  # no time: the observed time
    assert bare[2:9] == ["", "", 0, "", 0, "shop", '{"a":"x","z":1}']


def test_metric_points_are_written_as_the_exporter_writes_them(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    capture = tmp_path / "metrics.pb"
    capture.write_bytes(_metrics_request().SerializeToString())
    store = tmp_path / "s.chdb"
    report = _json(cli, "load", str(capture), "--into", f"chdb:{store}")
    assert (report["data_points_read"], report["data_points_inserted"]) == (7, 7)
    assert report["tables"] == {
        "otel_traces": 0,
        "otel_metrics_gauge": 2,
        "otel_metrics_sum": 1,
        "otel_metrics_histogram": 2,
        "otel_metrics_exponential_histogram": 1,
        "otel_metrics_summary": 1,
    }
    common = (
        "ServiceName, ScopeName, ScopeDroppedAttrCount, MetricName, MetricDescription,"
        " MetricUnit, Attributes, toUnixTimestamp64Nano(StartTimeUnix),"
        " toUnixTimestamp64Nano(TimeUnix)"
    )
    gauges = _sql(
        store,
        f"SELECT {common}, Value, Flags, Exemplars.FilteredAttributes,"
        " arrayMap(t -> toUnixTimestamp64Nano(t), Exemplars.TimeUnix), Exemplars.Value,"
        " Exemplars.SpanId, Exemplars.TraceId FROM otel_metrics_gauge ORDER BY Value",
    )
    t0, t1 = 1_700_000_000_000_000_000, 1_700_000_060_000_000_000
    assert gauges[0][:9] == ["shop", "meter", 3, "queue", "queued", "{item}", {"q": "main"}, t0, t1]
    # an int value as Float64; exemplar ids at full width (all zeros when absent)
    assert gauges[0][9:] == [12.0, 0, [{"k": "1"}], [t1], [1.5], ["b7ad6b7169203331"], ["0" * 32]]
    [[nan_value]] = _sql(
        store, "SELECT isNaN(Value) FROM otel_metrics_gauge WHERE Attributes = map()"
    )
    assert nan_value
    [total] = _sql(
        store, "SELECT Value, Flags, AggregationTemporality, IsMonotonic FROM otel_metrics_sum"
    )
    assert total == [300.0, 1, 1, True]
    hists = _sql(
        store,
        "SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality"
        " FROM otel_metrics_histogram ORDER BY Count DESC",
    )
    assert hists == [[3, 2.5, [1, 2, 0], [0.5, 1.0], 0.1, 1.2, 2], [0, 0.0, [], [], 0.0, 0.0, 2]]
    [exp] = _sql(
        store,
        "SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts,"
        " NegativeOffset, NegativeBucketCounts, Min, Max, AggregationTemporality"
        " FROM otel_metrics_exponential_histogram",
    )
    assert exp == [4, 9.0, 2, 1, 3, [1, 2], -2, [1], 0.0, 5.0, 1]
    [summary] = _sql(
        store,
        "SELECT Count, Sum, ValueAtQuantiles.Quantile, toString(ValueAtQuantiles.Value)"
        " FROM otel_metrics_summary",
    )
    assert summary == [10, 55.0, [0.5, 0.99], "[4,inf]"]


# The exporter's columns (name, type, codec) in its `internal/sql_templates/*_table.sql`.
_Z = "CODEC(ZSTD(1))"
_DZ = "CODEC(Delta(8), ZSTD(1))"
_MAP = "Map(LowCardinality(String), String)"
_METRIC_HEAD = [
    ("ResourceAttributes", _MAP, _Z),
    ("ResourceSchemaUrl", "String", _Z),
    ("ScopeName", "String", _Z),
    ("ScopeVersion", "String", _Z),
    ("ScopeAttributes", _MAP, _Z),
    ("ScopeDroppedAttrCount", "UInt32", _Z),
    ("ScopeSchemaUrl", "String", _Z),
    ("ServiceName", "LowCardinality(String)", _Z),
    ("MetricName", "String", _Z),
    ("MetricDescription", "String", _Z),
    ("MetricUnit", "String", _Z),
    ("Attributes", _MAP, _Z),
    ("StartTimeUnix", "DateTime64(9)", _DZ),
    ("TimeUnix", "DateTime64(9)", _DZ),
]
_EXEMPLARS = [
    ("Exemplars.FilteredAttributes", f"Array({_MAP})", _Z),
    ("Exemplars.TimeUnix", "Array(DateTime64(9))", _Z),
    ("Exemplars.Value", "Array(Float64)", _Z),
    ("Exemplars.SpanId", "Array(String)", _Z),
    ("Exemplars.TraceId", "Array(String)", _Z),
]
_VALUE = [("Value", "Float64", _Z), ("Flags", "UInt32", _Z)]
_HIST_TAIL = [
    ("Flags", "UInt32", _Z),
    ("Min", "Float64", _Z),
    ("Max", "Float64", _Z),
    ("AggregationTemporality", "Int32", _Z),
]
_COUNT_SUM = [("Count", "UInt64", _DZ), ("Sum", "Float64", _Z)]
EXPORTER_COLUMNS = {
    "otel_logs": [
        ("Timestamp", "DateTime64(9)", _DZ),
        ("TimestampTime", "DateTime", ""),
        ("TraceId", "String", _Z),
        ("SpanId", "String", _Z),
        ("TraceFlags", "UInt8", ""),
        ("SeverityText", "LowCardinality(String)", _Z),
        ("SeverityNumber", "UInt8", ""),
        ("ServiceName", "LowCardinality(String)", _Z),
        ("Body", "String", _Z),
        ("ResourceSchemaUrl", "LowCardinality(String)", _Z),
        ("ResourceAttributes", _MAP, _Z),
        ("ScopeSchemaUrl", "LowCardinality(String)", _Z),
        ("ScopeName", "String", _Z),
        ("ScopeVersion", "LowCardinality(String)", _Z),
        ("ScopeAttributes", _MAP, _Z),
        ("LogAttributes", _MAP, _Z),
    ],
    "otel_metrics_gauge": _METRIC_HEAD + _VALUE + _EXEMPLARS,
    "otel_metrics_sum": _METRIC_HEAD
    + _VALUE
    + _EXEMPLARS
    + [
        ("AggregationTemporality", "Int32", _Z),
        ("IsMonotonic", "Bool", "CODEC(Delta(1), ZSTD(1))"),
    ],
    "otel_metrics_histogram": _METRIC_HEAD
    + _COUNT_SUM
    + [("BucketCounts", "Array(UInt64)", _Z), ("ExplicitBounds", "Array(Float64)", _Z)]
    + _EXEMPLARS
    + _HIST_TAIL,
    "otel_metrics_exponential_histogram": _METRIC_HEAD
    + _COUNT_SUM
    + [
        ("Scale", "Int32", _Z),
        ("ZeroCount", "UInt64", _Z),
        ("PositiveOffset", "Int32", _Z),
        ("PositiveBucketCounts", "Array(UInt64)", _Z),
        ("NegativeOffset", "Int32", _Z),
        ("NegativeBucketCounts", "Array(UInt64)", _Z),
    ]
    + _EXEMPLARS
    + _HIST_TAIL,
    "otel_metrics_summary": _METRIC_HEAD
    + _COUNT_SUM
    + [
        ("ValueAtQuantiles.Quantile", "Array(Float64)", _Z),
        ("ValueAtQuantiles.Value", "Array(Float64)", _Z),
        ("Flags", "UInt32", _Z),
    ],
}
METRICS_KEYS = (
    "toDate(TimeUnix)",
    "ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix)",
    "ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix)",
)


def _columns(create: str) -> list[tuple[str, str, str]]:
    """(name, type, codec) of each column in a SHOW CREATE TABLE statement."""
    out = []
    for line in create.splitlines():
        line = line.strip().rstrip(",")
        if not line.startswith("`"):
            continue
        name, _, rest = line[1:].partition("` ")
        kind, _, codec = rest.partition(" CODEC(")
        kind = kind.removesuffix(" DEFAULT toDateTime(Timestamp)")
        out.append((name, kind, f"CODEC({codec}" if codec else ""))
    return out


def test_the_tables_are_the_exporters(corpus_store: tuple[Path, dict[str, Any]]) -> None:
    store, _ = corpus_store
    for table, columns in EXPORTER_COLUMNS.items():
        [[create]] = _sql(store, f"SHOW CREATE TABLE {table}")
        assert _columns(create) == columns, table
    keys = {
        row[0]: tuple(row[1:])
        for row in _sql(
            store,
            "SELECT name, partition_key, sorting_key, primary_key FROM system.tables"
            " WHERE name LIKE 'otel_%'",
        )
    }
    assert keys["otel_logs"] == (
        "toDate(TimestampTime)",
        "ServiceName, TimestampTime, Timestamp",
        "ServiceName, TimestampTime",
    )
    for kind in _JSON_KINDS.values():
        assert keys[f"otel_metrics_{kind}"] == METRICS_KEYS
    [[default]] = _sql(
        store,
        "SELECT default_expression FROM system.columns"
        " WHERE table = 'otel_logs' AND name = 'TimestampTime'",
    )
    assert default == "toDateTime(Timestamp)"
