"""`otelcli cost`: price every LLM call from its token usage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from otelcli.commands._shared import (
    check_format,
    command_app,
    finish,
    guarded,
    make_output,
    note_unused,
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

if TYPE_CHECKING:
    from otelcli.render.output import Output

from otelcli.choices import COST_DIMENSIONS, complete

app = command_app()

COST_FORMATS = ("auto", "table", "json", "ndjson", "csv", "html")


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
    output_tokens: Annotated[
        int | None, typer.Option("--output-tokens", help="Quick mode: output tokens.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="With --enrich: the file to write (- for stdout). "
            "(`-o N` in quick mode still means output tokens, deprecated.)",
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
        str | None,
        typer.Option(
            "--at", help="Quick mode: price at this date's prices (YYYY-MM-DD). Default: today."
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help=f"Group by {', '.join(COST_DIMENSIONS)} (repeatable). With day or hour (UTC, by "
            "span start) the table has a chart of cost and tokens over time.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", min=1, help='Show the N costliest groups and one "(other)" row for the rest.'
        ),
    ] = None,
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
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            help="Processes that read and price the capture (default: the cores, up to 8; "
            "the report is the same with any number). --enrich uses one.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            envvar="OTELCLI_FORMAT",
            help="Output: auto (a table on a terminal, JSON when piped), table, json, ndjson "
            "(one table row per line), csv (the same rows) or html (a self-contained report "
            "with a chart, on stdout).",
            autocompletion=complete(COST_FORMATS),
        ),
    ] = "auto",
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

      otelcli cost -m gpt-4o -i 1200 --output-tokens 300 --cached 200

      otelcli cost -m gpt-4o -i 1200 --output-tokens 300 --at 2024-07-01

      otelcli cost run.pb --by model --by service --top 10

      otelcli cost run.pb --by day --by model --format html > cost.html

      otelcli cost run.pb --enrich -o priced.pb

      otelcli cost prices 'claude-*'

      otelcli cost --from chdb:./traces.chdb --since 24h --by model --by service

      otelcli cost prices --into chdb:./traces.chdb
    """
    from otelcli.flows import cost as flow
    from otelcli.render import cost as view

    check_format(fmt, COST_FORMATS)
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
        finish(make_output(fmt), written, prices_written_view)
        return
    if into is not None:
        raise UsageError("--into is for `cost prices`", "e.g. otelcli cost prices --into chdb:DIR")
    if fmt == "html" and (model is not None or (paths and paths[0] == "prices")):
        raise UsageError("--format html is for captures", "e.g. otelcli cost run.pb --by day")
    if paths and paths[0] == "prices":
        prices = flow.list_prices(source, paths[1] if len(paths) > 1 else None)
        finish(make_output(fmt), prices, view.prices_view, rows=view.prices_rows)
        return
    if model is not None:
        if paths:
            raise UsageError("give either --model (quick mode) or files, not both")
        out = make_output(fmt)
        quick = flow.price_one(
            flow.QuickRequest(
                model,
                input_tokens,
                _quick_output_tokens(out, output_tokens, output, enrich),
                cached,
                cache_write,
                reasoning,
                provider,
                _date(at),
                includes,
                source,
            )
        )
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
    if output_tokens is not None:
        raise UsageError("--output-tokens is for quick mode", "add --model MODEL")
    if enrich and not output:
        raise UsageError("--enrich needs -o OUT", "e.g. otelcli cost run.pb --enrich -o out.pb")
    if output is not None and not enrich:
        raise UsageError("-o is the file --enrich writes", "add --enrich, or drop -o")
    from otelcli.flows.jobs import check_jobs

    priced = flow.price_captures(
        flow.CostRequest(
            paths, by or [], top, includes, output if enrich else None, source, check_jobs(jobs)
        )
    )
    report = priced.report
    # With enriched data on stdout, the report goes to stderr.
    out = make_output(fmt, data_on_stdout=output == "-")
    note_unused(out, priced.unused, "cost")
    if report.unknown_models:
        names = ", ".join(f"{m} ({p})" for (m, p) in list(report.unknown_models)[:5])
        out.warning(f"no price for {len(report.unknown_models)} model(s): {names}")
    if enrich and output == "-":
        total = (priced.to_dict()["total"]["usd"] or {}).get("total")
        out.notice(f"priced {report.total.priced_spans:,} spans; total ${total}")
        finish(out, priced, None, report=False)
    else:
        _finish_report(out, priced, fmt)


def _quick_output_tokens(out: Output, tokens: int | None, output: str | None, enrich: bool) -> int:
    """--output-tokens, or the old spelling `-o N` (with a deprecation warning)."""
    if enrich:
        raise UsageError(
            "--enrich is for capture files", "e.g. otelcli cost run.pb --enrich -o out.pb"
        )
    if output is None:
        return tokens or 0
    if tokens is not None:
        raise UsageError("give --output-tokens once", "drop -o")
    try:
        count = int(output)
    except ValueError:
        raise UsageError(
            f"-o {output!r} is not a token count",
            "in quick mode the output tokens are --output-tokens N",
        ) from None
    out.warning("-o N for output tokens is deprecated: use --output-tokens N")
    return count


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

    source = store_source(store, table, since, until, service, where, also=paths)
    over_time = [d for d in by or () if d in ("day", "hour")]
    if over_time:
        raise UsageError(
            f"--by {over_time[0]} is for capture files, not yet --from STORE",
            "group the store by model, provider, service, trace, user, session or span-name",
        )
    if enrich or output is not None:
        raise UsageError("--enrich and -o write spans: they need files, not --from")
    assert isinstance(pricing, flow.PricingSource)
    priced = store_cost.price_store(
        store_cost.StoreCostRequest(source, by or [], top, includes, pricing)
    )
    out = make_output(fmt)
    report = priced.report
    if report.unknown_models:
        names = ", ".join(f"{m} ({p})" for (m, p) in list(report.unknown_models)[:5])
        out.warning(f"no price for {len(report.unknown_models)} model(s): {names}")
    _finish_report(out, priced, fmt)


def _finish_report(out: Output, priced: Any, fmt: str) -> None:
    """The report of captures or a store: the HTML page, or the table / JSON / rows."""
    from otelcli.render import cost as view

    if fmt == "html":
        from otelcli.render.cost_html import report_html

        out.text(report_html(priced.to_dict()))
        finish(out, priced, None, report=False)
    else:
        finish(out, priced, view.report_view, rows=view.cost_rows)


def _tristate(value: str) -> bool | None:
    choices = {"auto": None, "yes": True, "no": False}
    if value not in choices:
        raise UsageError(f"--input-includes-cache {value!r} is not auto, yes or no")
    return choices[value]


def _date(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at).replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"--at {at!r} is not a date", "write it as YYYY-MM-DD") from None
