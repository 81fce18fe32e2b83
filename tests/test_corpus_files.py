"""The recorded corpus runs (tests/data/corpus/runs/, scripts/build_corpus.py --runs) are
well-formed: ground truth and versions beside every run, every JSONL line an OTLP/JSON
request of the signal its file is named after, and traces that otelcli's reader takes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from otelcli.otlp.reader import read_batches

RUNS = Path(__file__).resolve().parent / "data" / "corpus" / "runs"
FOLDERS = sorted(path for path in RUNS.iterdir() if path.is_dir()) if RUNS.is_dir() else []
ROOT_KEYS = {"traces": "resourceSpans", "logs": "resourceLogs", "metrics": "resourceMetrics"}
SCOPE_KEYS = {"traces": "scopeSpans", "logs": "scopeLogs", "metrics": "scopeMetrics"}
ITEM_KEYS = {"traces": "spans", "logs": "logRecords", "metrics": "metrics"}
HEX_ID = {
    "traceId": re.compile(r"[0-9a-f]{32}"),
    "spanId": re.compile(r"[0-9a-f]{16}"),
    "parentSpanId": re.compile(r"[0-9a-f]{16}"),
}
TRUTH_KEYS = {
    "seq",
    "provider",
    "endpoint",
    "model_requested",
    "model_returned",
    "response_id",
    "stream",
    "status",
    "usage",
}

pytestmark = pytest.mark.skipif(not FOLDERS, reason="no recorded runs in tests/data/corpus/runs")


def _requests(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines, f"{path} is empty"
    return [json.loads(line) for line in lines]


def _items(signal: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        item
        for resource in request[ROOT_KEYS[signal]]
        for scope in resource.get(SCOPE_KEYS[signal], [])
        for item in scope.get(ITEM_KEYS[signal], [])
    ]


def _ids_are_hex(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in HEX_ID and value != "":
                assert isinstance(value, str) and HEX_ID[key].fullmatch(value), (
                    f"{where}: {key}={value!r} is not a lowercase hex id"
                )
            else:
                _ids_are_hex(value, where)
    elif isinstance(node, list):
        for item in node:
            _ids_are_hex(item, where)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda path: path.name)
def test_run_has_truth_and_versions(folder: Path) -> None:
    versions = (folder / "versions.txt").read_text(encoding="utf-8")
    assert len(versions.splitlines()) >= 2
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert truth["run"] == folder.name
    assert truth["calls"], "the fakes answered no call"
    for call in truth["calls"]:
        assert TRUTH_KEYS <= set(call)
        if call["status"] != 200:  # an error answer carries no usage
            assert call["usage"] is None and call["response_id"] is None
    calls = sum(model["calls"] for model in truth["totals"].values())
    errors = sum(model["errors"] for model in truth["totals"].values())
    assert calls == len(truth["calls"])
    assert errors == sum(call["status"] != 200 for call in truth["calls"])
    assert {path.stem for path in folder.glob("*.jsonl")} <= set(ROOT_KEYS)
    assert (folder / "traces.jsonl").exists(), "every run records spans"


@pytest.mark.parametrize(
    "path",
    [path for folder in FOLDERS for path in sorted(folder.glob("*.jsonl"))],
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_lines_are_otlp_json_of_their_signal(path: Path) -> None:
    signal = path.stem
    assert signal in ROOT_KEYS, f"{path.name}: not traces/logs/metrics"
    for number, request in enumerate(_requests(path), 1):
        assert set(request) == {ROOT_KEYS[signal]}, f"{path.name}:{number}: {sorted(request)}"
        assert _items(signal, request), f"{path.name}:{number}: no {ITEM_KEYS[signal]}"
        _ids_are_hex(request, f"{path.name}:{number}")


@pytest.mark.parametrize(
    "folder",
    [folder for folder in FOLDERS if (folder / "traces.jsonl").exists()],
    ids=lambda path: path.name,
)
def test_traces_parse_with_otelcli_reader(folder: Path) -> None:
    path = folder / "traces.jsonl"
    expected = sum(len(_items("traces", request)) for request in _requests(path))
    batches = list(read_batches([str(path)]))
    spans = [
        span
        for batch in batches
        for resource in batch.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert len(spans) == expected
    assert all(len(span.trace_id) == 16 and len(span.span_id) == 8 for span in spans)


def test_runs_stay_small() -> None:
    size = sum(path.stat().st_size for path in RUNS.rglob("*") if path.is_file())
    assert size < 5_000_000, f"runs/ holds {size:,} bytes"
