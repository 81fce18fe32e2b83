"""`otelcli cost`: price every LLM call from its token usage."""

from __future__ import annotations

from datetime import UTC, datetime
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

DIMENSIONS = ("model", "provider", "service", "trace", "user", "session", "span-name")


@app.command()
@guarded
def cost(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Capture files (- for stdin). `prices [PATTERN]` lists the pricing table.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Quick mode: price one call of MODEL.")
    ] = None,
    input_tokens: Annotated[
        int, typer.Option("--input-tokens", "-i", help="Quick mode: input tokens (incl. cached).")
    ] = 0,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Quick mode: output tokens. With --enrich: the file to write.",
        ),
    ] = None,
    cached: Annotated[int, typer.Option("--cached", help="Quick mode: cache-read tokens.")] = 0,
    cache_write: Annotated[
        int, typer.Option("--cache-write", help="Quick mode: cache-write tokens.")
    ] = 0,
    reasoning: Annotated[
        int, typer.Option("--reasoning", help="Quick mode: reasoning tokens.")
    ] = 0,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Provider (openai, aws.bedrock, ...).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Quick mode: price on this date (YYYY-MM-DD).")
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help=f"Group by {', '.join(DIMENSIONS)} (repeatable)."),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the N costliest groups.")] = (
        None
    ),
    pricing: Annotated[
        str | None,
        typer.Option(
            "--pricing",
            help="TOML/JSON pricing file ([[models]] match/input/output in USD per 1M tokens) "
            "or LiteLLM model-prices JSON; overrides the built-in table.",
        ),
    ] = None,
    no_fallback: Annotated[
        bool, typer.Option("--no-fallback", help="Do not ask genai-prices about unknown models.")
    ] = False,
    input_includes_cache: Annotated[
        str,
        typer.Option(
            "--input-includes-cache",
            help="auto (detect), yes or no: whether input token counts include cached tokens.",
        ),
    ] = "auto",
    enrich: Annotated[
        bool,
        typer.Option("--enrich", help="Write gen_ai.usage.cost onto each priced span (-o OUT)."),
    ] = False,
    fmt: FormatOption = "auto",
    from_store: FromOption = None,
    into: Annotated[
        str | None,
        typer.Option(
            "--into",
            help="With `prices`: write the pricing table into this store (chdb:DIR or "
            "clickhouse://...) as table otel_prices (or --table), replacing its rows, to join "
            "in your own SQL.",
            rich_help_panel="Trace store (pip install 'otelcli[store]')",
            show_default=False,
        ),
    ] = None,
    table: TableOption = "otel_traces",
    since: SinceOption = None,
    until: UntilOption = None,
    service: ServiceOption = None,
    where: WhereOption = None,
) -> None:
    """Price LLM calls from token usage, with a maintained pricing table.

    Examples:

      otelcli cost -m gpt-4o -i 1200 -o 300 --cached 200

      otelcli cost run.pb --by model --by service --top 10

      otelcli cost run.pb --enrich -o priced.pb

      otelcli cost prices 'claude-*'

      otelcli cost --from chdb:./traces.chdb --since 24h --by model --by service

      otelcli cost prices --into chdb:./traces.chdb
    """
    from otelcli.flows import cost as flow
    from otelcli.render import cost as view

    check_format(fmt, ("auto", "table", "json", "ndjson", "csv"))
    source = flow.PricingSource(pricing, fallback=not no_fallback)
    includes = _tristate(input_includes_cache)
    paths = list(inputs or [])
    if paths and paths[0] == "prices" and into is not None:
        from otelcli.flows import store_cost
        from otelcli.render.store import prices_written_view

        written = store_cost.write_prices(
            into,
            table if table != "otel_traces" else "otel_prices",
            source,
            paths[1] if len(paths) > 1 else None,
        )
        finish(make_output(check_format(fmt)), written, prices_written_view)
        return
    if into is not None:
        raise UsageError("--into is for `cost prices`", "e.g. otelcli cost prices --into chdb:DIR")
    if paths and paths[0] == "prices":
        prices = flow.list_prices(source, paths[1] if len(paths) > 1 else None)
        if fmt == "csv":
            make_output().text(view.prices_csv(prices.to_dict()))
            return
        finish(make_output(fmt), prices, view.prices_view)
        return
    if model is not None:
        if paths:
            raise UsageError("give either --model (quick mode) or files, not both")
        quick = flow.price_one(
            flow.QuickRequest(
                model,
                input_tokens,
                _tokens(output),
                cached,
                cache_write,
                reasoning,
                provider,
                _date(at),
                includes,
                source,
            )
        )
        out = make_output("json" if fmt == "csv" else fmt)
        if quick.unknown:
            out.warning(f"no price known for {model!r}; add it with --pricing FILE")
        finish(out, quick, view.quick_view)
        return
    if from_store is not None:
        _price_store(
            from_store,
            paths,
            enrich,
            output,
            fmt,
            source,
            includes,
            by,
            top,
            table,
            since,
            until,
            service,
            where,
        )
        return
    refuse_store_filters(table=table, since=since, until=until, service=service, where=where)
    if not paths:
        raise UsageError(
            "nothing to price", "pass capture files, - for stdin, or --model with token counts"
        )
    if enrich and not output:
        raise UsageError("--enrich needs -o OUT", "e.g. otelcli cost run.pb --enrich -o out.pb")
    if output is not None and not enrich:
        raise UsageError("-o is for quick mode or --enrich", "drop -o, or add --enrich")
    priced = flow.price_captures(
        flow.CostRequest(paths, by or [], top, includes, output if enrich else None, source)
    )
    report = priced.report
    # With enriched data on stdout, the report goes to stderr.
    out = make_output("json" if fmt == "csv" else fmt, data_on_stdout=output == "-")
    if report.unknown_models:
        names = ", ".join(f"{m} ({p})" for (m, p) in list(report.unknown_models)[:5])
        out.warning(f"no price for {len(report.unknown_models)} model(s): {names}")
    if enrich and output == "-":
        total = (priced.to_dict()["total"]["usd"] or {}).get("total")
        out.notice(f"priced {report.total.priced_spans:,} spans; total ${total}")
        finish(out, priced, None, report=False)
    elif fmt == "csv":
        out.text(view.report_csv(priced.to_dict()))
    else:
        finish(out, priced, view.report_view)


def _price_store(
    store: str,
    paths: list[str],
    enrich: bool,
    output: str | None,
    fmt: str,
    pricing: object,
    includes: bool | None,
    by: list[str] | None,
    top: int | None,
    table: str,
    since: str | None,
    until: str | None,
    service: str | None,
    where: str | None,
) -> None:
    from otelcli.flows import cost as flow
    from otelcli.flows import store_cost
    from otelcli.render import cost as view

    if paths:
        raise UsageError("give either --from STORE or files, not both")
    if enrich or output is not None:
        raise UsageError("--enrich and -o write spans: they need files, not --from")
    assert isinstance(pricing, flow.PricingSource)
    source = store_source(store, table, since, until, service, where)
    priced = store_cost.price_store(
        store_cost.StoreCostRequest(source, by or [], top, includes, pricing)
    )
    out = make_output("json" if fmt == "csv" else fmt)
    report = priced.report
    if report.unknown_models:
        names = ", ".join(f"{m} ({p})" for (m, p) in list(report.unknown_models)[:5])
        out.warning(f"no price for {len(report.unknown_models)} model(s): {names}")
    if fmt == "csv":
        out.text(view.report_csv(priced.to_dict()))
    else:
        finish(out, priced, view.report_view)


def _tristate(value: str) -> bool | None:
    choices = {"auto": None, "yes": True, "no": False}
    if value not in choices:
        raise UsageError(f"--input-includes-cache {value!r} is not auto, yes or no")
    return choices[value]


def _tokens(value: str | None) -> int:
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise UsageError(
            f"-o {value!r} is not a token count", "in quick mode -o is the output tokens"
        ) from None


def _date(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at).replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"--at {at!r} is not a date", "write it as YYYY-MM-DD") from None
