"""Every capture format carries every signal: the reader tells each body's signal by its
content, on the corpus runs' real logs and metrics, and the writer gives them back."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from pathlib import Path

import pytest

from otelcli.errors import InvalidInputError, OutputError
from otelcli.otlp.reader import CaptureReader, read_all, read_batches
from otelcli.otlp.signals import Batch, Signal, Unused, count_records, detect_pb, signal_of
from otelcli.otlp.writer import open_writer, signal_path

RUNS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "runs"
# A run whose library emits all three signals (OpenLLMetry in event mode).
EVENTS_RUN = RUNS / "traceloop-openai-events"


def corpus_batches(run: Path = EVENTS_RUN) -> list[Batch]:
    return [
        batch
        for name in ("traces.jsonl", "logs.jsonl", "metrics.jsonl")
        if (run / name).exists()
        for batch in read_all([str(run / name)])
    ]


def records(batches: list[Batch]) -> Counter[Signal]:
    totals: Counter[Signal] = Counter()
    for batch in batches:
        totals[signal_of(batch)] += count_records(batch)
    return totals


EXPECTED = records(corpus_batches())


def test_the_corpus_run_has_all_three_signals() -> None:
    assert EXPECTED[Signal.TRACES] == 9
    assert EXPECTED[Signal.LOGS] == 20
    assert EXPECTED[Signal.METRICS] == 25


@pytest.mark.parametrize("run", sorted(p.name for p in RUNS.iterdir() if p.is_dir()))
def test_protobuf_bodies_tell_their_signal(run: str) -> None:
    for batch in corpus_batches(RUNS / run):
        assert detect_pb(batch.SerializeToString()) is signal_of(batch)


def test_an_empty_body_tells_nothing() -> None:
    assert detect_pb(b"") is None
    assert detect_pb(b"\x0a\x00") is None  # one empty resource: the same bytes for all three


@pytest.mark.parametrize(
    "name", ["mixed.jsonl", "mixed.jsonl.gz", "mixed.lp", "mixed.lp.gz", "mixed.ndjson"]
)
def test_mixed_files_keep_every_record_of_every_signal(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with open_writer(str(path)) as writer:
        for batch in corpus_batches():
            writer.write(batch)
    assert writer.paths == {"all": str(path)}
    read = list(read_all([str(path)]))
    assert records(read) == EXPECTED
    assert read == corpus_batches()  # ids, times and values bit for bit


@pytest.mark.parametrize("name", ["run.pb", "run.pb.gz", "run.json", "run.json.gz"])
def test_single_request_formats_put_each_signal_beside_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with open_writer(str(path)) as writer:
        for batch in corpus_batches():
            writer.write(batch)
    assert writer.paths == {
        "traces": str(path),
        "logs": signal_path(str(path), Signal.LOGS),
        "metrics": signal_path(str(path), Signal.METRICS),
    }
    assert signal_path(str(path), Signal.LOGS).endswith("run.logs." + name.split(".", 1)[1])
    by_file = {signal: records(list(read_all([file]))) for signal, file in writer.paths.items()}
    assert by_file["logs"] == Counter({Signal.LOGS: EXPECTED[Signal.LOGS]})
    assert by_file["metrics"] == Counter({Signal.METRICS: EXPECTED[Signal.METRICS]})
    # The folder they are in reads back as the whole capture.
    assert records(list(read_all([str(tmp_path)]))) == EXPECTED


def test_the_file_keeps_its_name_for_the_traces_when_logs_come_first(tmp_path: Path) -> None:
    path = tmp_path / "run.pb"
    batches = corpus_batches()
    first = sorted(batches, key=lambda batch: signal_of(batch) is Signal.TRACES)
    with open_writer(str(path)) as writer:
        for batch in first:
            writer.write(batch)
    assert writer.paths["traces"] == str(path)
    assert records(list(read_all([str(path)]))) == Counter({Signal.TRACES: EXPECTED[Signal.TRACES]})


def test_a_capture_without_spans_leaves_the_named_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "run.pb"
    path.write_bytes(b"keep")
    with open_writer(str(path)) as writer:
        for batch in corpus_batches():
            if signal_of(batch) is not Signal.TRACES:
                writer.write(batch)
    assert path.read_bytes() == b"keep"
    assert set(writer.paths) == {"logs", "metrics"}
    assert records(list(read_all([writer.paths["logs"]]))) == Counter(
        {Signal.LOGS: EXPECTED[Signal.LOGS]}
    )


def test_standard_output_refuses_a_second_signal_in_one_protobuf() -> None:
    stdout = io.BytesIO()
    batches = corpus_batches()
    with pytest.raises(OutputError, match="also has logs") as caught:
        with open_writer("-", "pb", stdout=stdout) as writer:
            for batch in batches:
                writer.write(batch)
    assert "jsonl or lp" in (caught.value.hint or "")


def test_stdin_mixes_signals(tmp_path: Path) -> None:
    path = tmp_path / "mixed.lp"
    with open_writer(str(path)) as writer:
        for batch in corpus_batches():
            writer.write(batch)
    reader = CaptureReader("-", stdin=io.BytesIO(gzip.compress(path.read_bytes())))
    assert records(list(reader)) == EXPECTED
    assert reader.signals == Counter({Signal.TRACES: 1, Signal.LOGS: 1, Signal.METRICS: 1})


def test_traces_readers_count_what_they_leave() -> None:
    unused = Unused()
    traces = list(read_batches([str(EVENTS_RUN)], unused=unused))
    assert records(list(traces)) == Counter({Signal.TRACES: 9})
    assert unused.records == Counter({Signal.LOGS: 20, Signal.METRICS: 25})
    notes = {str(p) for p in EVENTS_RUN.iterdir() if p.suffix in (".json", ".txt")}
    assert unused.describe("cost") == (
        "1 logs batch (20 log records), 1 metrics batch (25 data points), "
        f"{len(notes)} files in folders not used by cost"
    )
    # truth.json is JSON but no capture; versions.txt has no capture name.
    assert set(unused.files) == notes
    assert str(EVENTS_RUN / "truth.json") in notes and str(EVENTS_RUN / "versions.txt") in notes


def test_a_file_given_by_name_must_be_a_capture() -> None:
    with pytest.raises(InvalidInputError, match="no resourceSpans, resourceLogs"):
        list(read_all([str(EVENTS_RUN / "truth.json")]))


def test_one_json_object_of_two_signals_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "both.json"
    path.write_text('{"resourceSpans": [], "resourceLogs": []}')
    with pytest.raises(InvalidInputError, match="holds traces and logs"):
        list(read_all([str(path)]))


def test_plain_protobuf_limits_hold_for_logs(tmp_path: Path) -> None:
    (logs,) = [b for b in corpus_batches() if signal_of(b) is Signal.LOGS]
    data = logs.SerializeToString()
    path = tmp_path / "cut.pb"
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(InvalidInputError, match="truncated or corrupt protobuf at byte 0"):
        list(read_all([str(path)]))
