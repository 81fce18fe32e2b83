"""Every capture format, plain and gzip, reads back exactly what was written."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from otelcli.errors import InvalidInputError, UsageError
from otelcli.otlp.formats import Format
from otelcli.otlp.reader import CaptureReader, read_batches
from otelcli.otlp.spans import count_spans, iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import make_request

EXTENSIONS = {"pb": Format.PB, "json": Format.JSON, "jsonl": Format.JSONL, "lp": Format.LP}


def merged(batches: list[ExportTraceServiceRequest]) -> ExportTraceServiceRequest:
    out = ExportTraceServiceRequest()
    for batch in batches:
        out.MergeFrom(batch)
    return out


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_round_trip(tmp_path: Path, extension: str, compressed: bool) -> None:
    batches = [make_request(4, trace_byte=1), make_request(2, service="billing", trace_byte=9)]
    path = tmp_path / f"capture.{extension}{'.gz' if compressed else ''}"
    with open_writer(str(path)) as writer:
        for batch in batches:
            writer.write(batch)
    assert writer.format is EXTENSIONS[extension]

    reader = CaptureReader(str(path))
    read = [batch for batch in reader if isinstance(batch, ExportTraceServiceRequest)]
    assert reader.format is EXTENSIONS[extension]
    assert reader.compressed is compressed
    assert merged(read) == merged(batches)
    if compressed:
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_detection_ignores_the_extension(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    with open_writer(str(real)) as writer:
        writer.write(make_request())
        writer.write(make_request(trace_byte=5))
    disguised = tmp_path / "capture.pb"
    disguised.write_bytes(real.read_bytes())
    reader = CaptureReader(str(disguised))
    assert sum(count_spans(b) for b in reader) == 6
    assert reader.format is Format.JSONL


def test_stdin(tmp_path: Path) -> None:
    data = gzip.compress(make_request(5).SerializeToString())
    batches = list(read_batches(["-"], stdin=io.BytesIO(data)))
    assert sum(count_spans(b) for b in batches) == 5


def test_json_output_follows_the_otlp_json_rules(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    with open_writer(str(path)) as writer:
        writer.write(make_request(2))
    document = json.loads(path.read_text())
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    assert span["traceId"] == "01" * 16  # hex, not base64
    assert span["parentSpanId"] == "0101010101010101"
    assert span["kind"] == 3  # enums as integers
    assert span["startTimeUnixNano"] == "1700000000000001000"  # int64 as a decimal string
    assert span["status"] == {"message": "boom", "code": 2}
    assert {"key": "i", "value": {"intValue": "1"}} in span["attributes"]
    # The official protobuf JSON parser reads it (ids aside, which it takes for base64).
    json_format.Parse(path.read_text(), ExportTraceServiceRequest())


def test_tolerant_json_reading(tmp_path: Path) -> None:
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                "spanId": "EEE19B7EC3C1B174",
                                "parentSpanId": "",
                                "name": "upper",
                                "kind": "SPAN_KIND_SERVER",
                                "startTimeUnixNano": 1544712660000000000,
                                "endTimeUnixNano": "1544712661000000000",
                                "somethingNew": {"ignored": True},
                                "attributes": [{"key": "n", "value": {"intValue": 7}}],
                            },
                            {
                                "traceId": "W47/95gDgQPSabYzgT/GDA==",
                                "spanId": "7uGbfsPBsXQ=",
                                "name": "b64",
                            },
                        ],
                    }
                ],
            }
        ],
        "futureField": 1,
    }
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps([document, document], indent=2))
    spans = [v for b in read_batches([str(path)]) for v in iter_spans(b)]
    assert len(spans) == 4
    upper, b64 = spans[0], spans[1]
    assert upper.trace_id == "5b8efff798038103d269b633813fc60c"
    assert upper.parent_span_id == ""
    assert upper.kind == 2
    assert upper.start_ns == 1544712660000000000
    assert upper.attributes == {"n": 7}
    assert b64.trace_id == upper.trace_id and b64.span_id == upper.span_id


def test_jsonl_skips_blank_lines_and_reports_the_bad_line(tmp_path: Path) -> None:
    line = orjson.dumps({"resourceSpans": []}).decode()
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{line}\n\n{line}\n{{not json\n")
    with pytest.raises(InvalidInputError, match=r"bad.jsonl:4: invalid JSON"):
        list(CaptureReader(str(path)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"resourceLogs": [], "resourceSpans": []}', "holds traces and logs"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}',
            "is not 32 hex digits",
        ),
        (b'{"resourceSpans": "nope"}', "not valid OTLP/JSON"),
        (b"\x0a\xff\xff\xff\xff\x0f", "truncated or corrupt protobuf"),
        (b"\x00\x00\x00\x10\x0a\x01", "truncated length-prefixed record"),
        (b"hello world", "not an OTLP capture"),
        (b"\x1f\x8b\x08\x00garbage", "cannot read"),
    ],
)
def test_bad_input_is_one_clean_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        list(CaptureReader(str(path)))


def test_empty_file_is_an_empty_capture(tmp_path: Path) -> None:
    path = tmp_path / "empty.pb"
    path.write_bytes(b"")
    assert list(CaptureReader(str(path))) == []


def test_missing_file() -> None:
    with pytest.raises(InvalidInputError, match="cannot open"):
        list(CaptureReader("/nonexistent/capture.pb"))


def test_unknown_output_extension_asks_for_a_format(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot tell the output format"):
        open_writer(str(tmp_path / "out.txt"))


def test_failed_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.pb"
    with pytest.raises(RuntimeError), open_writer(str(path)) as writer:
        writer.write(make_request())
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_plain_protobuf_is_streamed_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import otelcli.otlp.reader as reader_module

    monkeypatch.setattr(reader_module, "_PB_SLICE", 2000)
    path = tmp_path / "big.pb"
    with open_writer(str(path)) as writer:
        for n in range(50):
            writer.write(make_request(5, trace_byte=n + 1))
    batches = list(CaptureReader(str(path)))
    assert len(batches) > 5  # parsed in several slices, not at once
    assert sum(count_spans(b) for b in batches) == 250


def test_jsonl_streams_in_bounded_memory(tmp_path: Path) -> None:
    """Peak memory does not grow with the capture: four times the lines, about the same peak."""
    import tracemalloc

    line = orjson.dumps(
        json_format.MessageToDict(make_request(20))
    )  # ids in base64 are accepted too

    def peak_reading(lines: int) -> tuple[int, int]:  # (peak bytes, file size)
        path = tmp_path / f"big-{lines}.jsonl"
        path.write_bytes((line + b"\n") * lines)
        tracemalloc.start()
        spans = sum(count_spans(b) for b in read_batches([str(path)]))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert spans == 20 * lines
        return peak, path.stat().st_size

    small_peak, small_size = peak_reading(100)
    large_peak, large_size = peak_reading(400)
    # a reader that kept what it read would grow by the extra 3/4 of the file
    assert large_peak - small_peak < (large_size - small_size) / 4, (small_peak, large_peak)
