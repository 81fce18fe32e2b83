"""`cost --from` groups spans by the price changes of the whole table before it knows which
entries the spans resolve to; a price only the fallback knows can change where the table
does not, and the store then groups again. Priced on the real engine, against the file path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelcli.otlp.values import make_attributes

pytest.importorskip("chdb")

MODEL = "zz-model-only-the-fallback-knows"
CHANGE = "2026-04-17"  # the fallback's price changes here; the built-in table does not
DAYS = ("2026-04-16", "2026-04-18")  # a span on each side of the change
FALLBACK = {
    "provider": "openai",
    "id": MODEL,
    "match": {"equals": MODEL},
    "prices": [{"input": "1", "output": "2"}, {"input": "10", "output": "20", "from": CHANGE}],
}


def _ns(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 10**9)


def _capture(path: Path) -> None:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add()
    spans.scope.name = "otelcli"
    for i, day in enumerate(DAYS):
        span = Span(
            trace_id=bytes([i + 1]) * 16,
            span_id=bytes([i + 1]) * 8,
            name=f"chat {MODEL}",
            start_time_unix_nano=_ns(day),
            end_time_unix_nano=_ns(day) + 10**9,
        )
        span.attributes.extend(
            make_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": MODEL,
                    "gen_ai.usage.input_tokens": 1_000_000,
                    "gen_ai.usage.output_tokens": 1_000_000,
                }
            )
        )
        spans.spans.append(span)
    path.write_bytes(request.SerializeToString())


def test_a_price_change_only_the_fallback_knows_is_priced_as_the_file_path_prices_it(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from otelcli.cli import app
    from otelcli.genai.pricing.cost import cost_report
    from otelcli.genai.pricing.table import load_table
    from otelcli.otlp.reader import read_batches
    from otelcli.store.connection import open_store
    from otelcli.store.cost import _buckets, store_cost_report
    from otelcli.store.query import StoreSource
    from otelcli.store.url import parse_store_url

    def fallback(model: str, provider: str | None) -> dict[str, Any] | None:
        return FALLBACK if model == MODEL else None

    table = load_table(None, use_fallback=False).with_fallback(fallback)
    times = _buckets(table.find())[0]
    assert not [t for t in times if _ns(DAYS[0]) < t <= _ns(DAYS[1])]  # else it proves nothing
    capture, store = tmp_path / "two.pb", tmp_path / "store.chdb"
    _capture(capture)
    loaded = CliRunner().invoke(app, ["load", str(capture), "--into", f"chdb:{store}"])
    assert loaded.exit_code == 0, loaded.output

    from_file = cost_report(read_batches([str(capture)]), table)
    with open_store(parse_store_url(f"chdb:{store}")) as opened:
        from_store = store_cost_report(opened, StoreSource.parse(f"chdb:{store}"), table)

    assert from_file.total.total_usd == from_store.total.total_usd == 3 + 30
    assert from_store.total.spans == 2
