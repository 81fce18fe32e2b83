"""`otelcli load`: captures into a ClickHouse trace store (chDB or a server)."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.commands._shared import (
    FormatOption,
    InputsArgument,
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
)

app = command_app()

INTO_HELP = (
    "The store: chdb:DIR (embedded, created if new) or "
    "clickhouse://[user[:password]@]host[:port]/database (clickhouses:// or ?secure=true for "
    "TLS; CLICKHOUSE_USER / CLICKHOUSE_PASSWORD also read)."
)


@app.command()
@guarded
def load(
    inputs: InputsArgument,
    into: Annotated[str, typer.Option("--into", help=INTO_HELP, show_default=False)],
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="The traces table (created with the Collector's DDL). Log records go to "
            "otel_logs and metric points to otel_metrics_gauge / _sum / _histogram / "
            "_exponential_histogram / _summary: the exporter's default names.",
        ),
    ] = "otel_traces",
    fmt: FormatOption = "auto",
) -> None:
    """Write captured spans, log records and metric points into a ClickHouse trace store,
    exactly as the OpenTelemetry Collector's clickhouseexporter does (same tables, columns and
    value conversions), so `cost` and `stats` can run inside the engine with --from.

    Needs the store extra: pip install 'otelcli[store]'. Queries are bounded by
    OTELCLI_STORE_TIMEOUT (seconds, default 300) and OTELCLI_STORE_MAX_MEMORY (bytes, 4 GiB).

    Examples:

      otelcli load run.pb --into chdb:./traces.chdb

      otelcli load day/*.jsonl.gz --into clickhouse://otel@ch.internal:8123/otel

      otelcli cost --from chdb:./traces.chdb --by model
    """
    from otelcli.flows import load as flow
    from otelcli.render.store import load_view
    from otelcli.transport.delivery import stop_on_signals

    out = make_output(check_format(fmt))
    with stop_on_signals() as stop, out.progress("load") as bar:
        result = flow.load(
            flow.LoadRequest(
                inputs,
                into,
                table,
                on_progress=lambda done, total, rows: bar.update(done, total, f"{rows:,} records"),
                stop=stop,
            )
        )
    finish(out, result, load_view)
