"""The `--from STORE` options that cost, stats and validate share (imported with them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from otelcli.store.query import StoreSource

PANEL = "Trace store (pip install 'otelcli[store]')"

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Read a ClickHouse trace store instead of files: chdb:DIR or "
        "clickhouse://[user[:password]@]host[:port]/database (clickhouses:// or ?secure=true "
        "for TLS; CLICKHOUSE_USER / CLICKHOUSE_PASSWORD also read). The work runs in the "
        "engine; the report is the same as for files.",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]
TableOption = Annotated[
    str,
    typer.Option(
        "--table", help="Traces table (the Collector exporter's schema).", rich_help_panel=PANEL
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Spans starting at or after: an ISO time (2026-12-01, 2026-12-01T08:00Z) or an "
        "age (90m, 24h, 7d).",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Spans starting before: an ISO time or an age.",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]
ServiceOption = Annotated[
    str | None,
    typer.Option("--service", help="Only spans of this service.name.", rich_help_panel=PANEL),
]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="A raw ClickHouse SQL predicate on the table's columns, ANDed to the query, e.g. "
        "\"SpanAttributes['deployment.environment'] = 'prod'\". It is SQL: quote values.",
        rich_help_panel=PANEL,
        show_default=False,
    ),
]


def store_source(
    store: str,
    table: str,
    since: str | None,
    until: str | None,
    service: str | None,
    where: str | None,
    *,
    also: object = None,
    what: str = "files",
) -> StoreSource:
    """The --from options as a source; `also`: the files (or command) given beside them."""
    from otelcli.store.query import StoreSource

    if also:
        from otelcli.errors import UsageError

        raise UsageError(f"give either --from STORE or {what}, not both")
    return StoreSource.parse(store, table, since, until, service, where)


def refuse_store_filters(**given: object) -> None:
    """--table/--since/... without --from: say so rather than ignore them."""
    from otelcli.errors import UsageError

    named = [f"--{name}" for name, value in given.items() if value not in (None, "otel_traces")]
    if named:
        raise UsageError(f"{', '.join(named)} need --from STORE", "or drop them to read files")
