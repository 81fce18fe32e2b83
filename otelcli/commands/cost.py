"""`otelcli cost`: price every LLM call from its token usage."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from otelcli.commands._shared import (
    FormatOption,
    check_format,
    command_app,
    guarded,
    make_output,
)
from otelcli.errors import UsageError

app = command_app()

DIMENSIONS = ("model", "provider", "service", "trace", "user", "session", "span-name")
USD_PARTS = ("input", "cache_read", "cache_write", "output", "reasoning")


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
) -> None:
    """Price LLM calls from token usage, with a maintained pricing table.

    Examples:

      otelcli cost -m gpt-4o -i 1200 -o 300 --cached 200

      otelcli cost run.pb --by model --by service --top 10

      otelcli cost run.pb --enrich -o priced.pb

      otelcli cost prices 'claude-*'
    """
    from otelcli.genai.pricing.table import load_table

    check_format(fmt, ("auto", "table", "json", "ndjson", "csv"))
    includes = _tristate(input_includes_cache)
    table = load_table(pricing, use_fallback=not no_fallback)
    paths = list(inputs or [])
    if paths and paths[0] == "prices":
        _list_prices(table, paths[1] if len(paths) > 1 else None, fmt)
        return
    if model is not None:
        if paths:
            raise UsageError("give either --model (quick mode) or files, not both")
        _quick(
            table,
            model,
            input_tokens,
            _tokens(output),
            cached,
            cache_write,
            reasoning,
            provider,
            at,
            includes,
            fmt,
        )
        return
    if not paths:
        raise UsageError(
            "nothing to price", "pass capture files, - for stdin, or --model with token counts"
        )
    _files(table, paths, list(by or []), top, includes, enrich, output, fmt)


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


def _quick(
    table: Any,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cached: int,
    cache_write: int,
    reasoning: int,
    provider: str | None,
    at: str | None,
    includes: bool | None,
    fmt: str,
) -> None:
    from datetime import UTC, datetime

    from otelcli.genai.pricing.cost import price_call

    moment = None
    if at is not None:
        try:
            moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
        except ValueError:
            raise UsageError(f"--at {at!r} is not a date", "write it as YYYY-MM-DD") from None
    breakdown = price_call(
        table,
        model,
        input_tokens,
        output_tokens,
        cached_tokens=cached,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
        provider=provider,
        at=moment,
        input_includes_cache=includes,
    )
    result = breakdown.to_dict()
    out = make_output("json" if fmt == "csv" else fmt)
    if breakdown.unknown:
        out.warning(f"no price known for {model!r}; add it with --pricing FILE")
    out.data(result, _quick_view)


def _files(
    table: Any,
    paths: list[str],
    by: list[str],
    top: int | None,
    includes: bool | None,
    enrich: bool,
    output: str | None,
    fmt: str,
) -> None:
    from otelcli.genai.pricing.cost import CostCalculator, enrich_batches
    from otelcli.otlp.reader import read_batches

    calculator = CostCalculator(table, by=by, input_includes_cache=includes)

    if enrich:
        if not output:
            raise UsageError("--enrich needs -o OUT", "e.g. otelcli cost run.pb --enrich -o out.pb")
        from otelcli.otlp.writer import open_writer

        with open_writer(output) as writer:
            for batch in enrich_batches(read_batches(paths), calculator):
                writer.write(batch)
    else:
        if output is not None:
            raise UsageError("-o is for quick mode or --enrich", "drop -o, or add --enrich")
        for batch in read_batches(paths):
            calculator.add_batch(batch)
    report = calculator.report
    result = report.to_dict(top)
    if enrich:
        result["enriched"] = output
    # With enriched data on stdout, the report goes to stderr.
    out = make_output("json" if fmt == "csv" and output == "-" else fmt)
    if report.unknown_models:
        names = ", ".join(f"{m} ({p})" for (m, p) in list(report.unknown_models)[:5])
        out.warning(f"no price for {len(report.unknown_models)} model(s): {names}")
    if fmt == "csv":
        out.text(_csv(result))
    elif enrich and output == "-":
        total = (result["total"]["usd"] or {}).get("total")
        out.notice(f"priced {report.total.priced_spans:,} spans; total ${total}")
    else:
        out.data(result, _report_view)


def _list_prices(table: Any, pattern: str | None, fmt: str) -> None:
    from otelcli.genai.pricing.table import iter_rates

    rows = []
    for entry in table.find(pattern):
        for period, rates, above in iter_rates(entry):
            row: dict[str, Any] = {
                "id": entry.entry_id,
                "name": entry.name,
                "source": entry.source,
                "from": _date(period.start_ns),
                "above_input_tokens": above,
            }
            for key, value in rates.usd().items():
                row[key] = format(value.normalize(), "f")
            if period.daily:
                start, end = period.daily
                row["daily_utc"] = (
                    f"{start // 3600:02d}:{start % 3600 // 60:02d}-"
                    f"{end // 3600:02d}:{end % 3600 // 60:02d}"
                )
            if entry.note:
                row["note"] = entry.note
            rows.append(row)
    payload = {
        "models": len({r["id"] for r in rows}),
        "table_size": len(table),
        "source": table.source,
        "prices": rows,
    }
    out = make_output("json" if fmt == "csv" else fmt)
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        fields = [
            "id",
            "name",
            "source",
            "from",
            "daily_utc",
            "above_input_tokens",
            "input",
            "output",
            "cache_read",
            "cache_write",
            "cache_write_1h",
            "reasoning",
            "note",
        ]
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        out.text(buffer.getvalue())
        return
    out.data(payload, _prices_view)


def _date(ns: int | None) -> str | None:
    if ns is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, tz=UTC).date().isoformat()


def _csv(result: dict[str, Any]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    by = result["by"]
    tokens = ["input", "cache_read", "cache_write", "output", "reasoning"]
    writer.writerow(
        [
            *by,
            "spans",
            "unknown_spans",
            *(f"{t}_tokens" for t in tokens),
            *(f"{p}_usd" for p in USD_PARTS),
            "total_usd",
        ]
    )
    rows = result["groups"] if by else [{"key": {}, **result["total"]}]
    for group in rows:
        usd = group["usd"] or {}
        writer.writerow(
            [
                *(group["key"].get(d, "") for d in by),
                group["spans"],
                group["unknown_spans"],
                *(group["tokens"][t] for t in tokens),
                *(usd.get(p, "") for p in USD_PARTS),
                usd.get("total", ""),
            ]
        )
    return buffer.getvalue()


def _money(value: str | None) -> str:
    if value is None:
        return "unknown"
    amount = float(value)
    return f"${amount:,.6f}" if amount < 1 else f"${amount:,.2f}"


def _quick_view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import key_values

    tokens, usd = result["tokens"], result["usd"] or {}
    rows = [("model", f"{result['model']} -> {result['price_id'] or 'unknown'}")]
    for part, label in (
        ("input", "input (uncached)"),
        ("cache_read", "cache read"),
        ("cache_write", "cache write"),
        ("output", "output"),
        ("reasoning", "reasoning"),
    ):
        count = tokens[part] - (
            tokens["cache_read"] + tokens["cache_write"] if part == "input" else 0
        )
        if count or part in ("input", "output"):
            rows.append((label, f"{count:,} tokens  {_money(usd.get(part)) if usd else ''}"))
    if result["tier_above_input_tokens"]:
        rows.append(("tier", f"above {result['tier_above_input_tokens']:,} input tokens"))
    rows.append(("total", _money(usd.get("total")) if usd else "unknown (no price)"))
    for note in result["notes"]:
        rows.append(("note", note))
    return key_values(None, rows)


def _report_view(result: dict[str, Any]) -> Any:
    from rich.table import Table

    from otelcli.render.tables import key_values, stack

    total = result["total"]
    parts: list[Any] = []
    if result["by"]:
        table = Table(title=f"cost by {', '.join(result['by'])}", title_justify="left")
        for dim in result["by"]:
            table.add_column(dim)
        for column in ("spans", "input tok", "cached tok", "output tok", "cost"):
            table.add_column(column, justify="right")
        for group in result["groups"]:
            usd = group["usd"]
            table.add_row(
                *(str(group["key"][d]) for d in result["by"]),
                f"{group['spans']:,}",
                f"{group['tokens']['input']:,}",
                f"{group['tokens']['cache_read']:,}",
                f"{group['tokens']['output']:,}",
                _money(usd["total"]) if usd else "unknown",
            )
        parts.append(table)
    usd = total["usd"] or {}
    summary = [
        (
            "LLM spans",
            f"{total['spans']:,} ({total['priced_spans']:,} priced, "
            f"{total['unknown_spans']:,} unknown model)",
        ),
        (
            "tokens",
            f"{total['tokens']['input']:,} in ({total['tokens']['cache_read']:,} cached), "
            f"{total['tokens']['output']:,} out",
        ),
        ("total", _money(usd.get("total"))),
    ]
    for reason, count in result["skipped"].items():
        summary.append(("skipped", f"{count:,} x {reason}"))
    for unknown in result["unknown_models"]:
        summary.append(
            ("no price", f"{unknown['model']} ({unknown['provider']}): {unknown['spans']:,} spans")
        )
    disagreements = result["disagreements"]
    if disagreements["count"]:
        summary.append(("disagrees", f"{disagreements['count']:,} spans carry a different cost"))
    if result.get("enriched"):
        summary.append(("wrote", result["enriched"]))
    parts.append(key_values(None, summary))
    return stack(*parts)


def _prices_view(payload: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"{payload['models']} models ({payload['source']})", title_justify="left")
    for column in ("id", "from", "above", "input", "output", "cache read", "cache write"):
        table.add_column(column, justify="left" if column in ("id", "from") else "right")
    for row in payload["prices"]:
        table.add_row(
            row["id"],
            row["from"] or "",
            f">{row['above_input_tokens']:,}" if row["above_input_tokens"] else "",
            row.get("input", ""),
            row.get("output", ""),
            row.get("cache_read", ""),
            row.get("cache_write", ""),
        )
    return table
