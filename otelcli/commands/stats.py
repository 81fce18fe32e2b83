"""`otelcli stats`: what is in a capture."""

from __future__ import annotations

from typing import Annotated

import typer

from otelcli.commands._shared import (
    FormatOption,
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
)
from otelcli.commands._store import (
    FromOption,
    ServiceOption,
    SinceOption,
    TableOption,
    UntilOption,
    WhereOption,
    refuse_store_filters,
    store_source,
)
from otelcli.errors import UsageError

app = command_app()


@app.command()
@guarded
def stats(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Capture files (.pb .json .jsonl, length-prefixed, optionally .gz); - for stdin.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="How many span names to list.")] = 10,
    fmt: FormatOption = "auto",
    from_store: FromOption = None,
    table: TableOption = "otel_traces",
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    where: WhereOption = None,
) -> None:
    """Count spans, traces, services, scopes and span names in captures, and their time range.

    Examples:

      otelcli stats run.pb

      otelcli stats a.jsonl.gz b.pb --format json

      cat run.jsonl | otelcli stats -

      otelcli stats --from chdb:./traces.chdb --since 24h
    """
    from otelcli.flows import stats as flow
    from otelcli.render.stats import stats_rows, stats_view

    out = make_output(check_format(fmt))
    if from_store is not None:
        from otelcli.flows import store_stats

        source = store_source(from_store, table, since, until, service, where, also=inputs)
        finish(out, store_stats.run(source, top), stats_view, rows=stats_rows)
        return
    refuse_store_filters(table=table, since=since, until=until, service=service, where=where)
    if not inputs:
        raise UsageError("nothing to count", "pass capture files, - for stdin, or --from STORE")
    finish(out, flow.run(flow.StatsRequest(inputs, top)), stats_view, rows=stats_rows)
