"""`otelcli capture`: record what an application sends over OTLP into a capture file."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from otelcli.commands._shared import (
    AuthTokenOption,
    CommandAfterDashes,
    FormatOption,
    GrpcListenOption,
    GrpcOption,
    ListenOption,
    MaxBodyOption,
    RunForOption,
    check_format,
    command_after_dashes,
    command_app,
    guarded,
    make_output,
)

app = command_app()


@app.command(cls=CommandAfterDashes)
@guarded
def capture(
    ctx: typer.Context,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="The capture file; the extension picks the format (.pb .jsonl .lp, + .gz). "
            "Written as batches arrive, each before it is acknowledged. Or a trace store, "
            "chdb:DIR or clickhouse://[user[:password]@]host[:port]/database: spans, log "
            "records and metric points are inserted in the tables `load` writes, each batch "
            "acknowledged once inserted.",
        ),
    ] = "capture.pb",
    table: Annotated[
        str | None,
        typer.Option(
            "--table",
            help="With -o STORE: the traces table (created with the Collector's DDL; "
            "default otel_traces). Logs and metrics keep the exporter's table names.",
            show_default=False,
        ),
    ] = None,
    to_format: Annotated[
        str | None,
        typer.Option("--to-format", help="pb, jsonl or lp (overrides the extension)."),
    ] = None,
    listen: ListenOption = None,
    auth_token: AuthTokenOption = None,
    max_body_mib: MaxBodyOption = 64,
    grpc: GrpcOption = None,
    grpc_listen: GrpcListenOption = None,
    run_for: RunForOption = None,
    fmt: FormatOption = "auto",
) -> None:
    """Run a command with OTLP pointed at a local receiver and save every batch it sends.

    Receives OTLP/HTTP and, with grpcio installed, OTLP/gRPC (port 4317, or a free port with a
    command; the command gets it as OTELCLI_GRPC_ENDPOINT). Without a command, receives until
    Ctrl-C (or --run-for). Each batch is written to the file before the sender is told it
    arrived, so the file is valid and holds every acknowledged batch however the run ends,
    even killed; a batch that cannot be written (full disk) is refused with 503 so the sender
    retries, and the run exits 7. `replay`, `validate`, `cost`, `stats` and `tail --file`
    read it. Exits with the command's exit code.

    Examples:

      otelcli capture -o run.pb -- python app.py

      otelcli capture -o run.jsonl --listen :4318

      otelcli capture -o chdb:./traces.chdb -- python app.py

      otelcli capture -o run.pb -- pytest tests/ && otelcli validate run.pb
    """
    from otelcli.flows import receive as flow
    from otelcli.otlp.formats import Format
    from otelcli.render.live import SessionNotes, summary_lines

    out = make_output(check_format(fmt))
    Format.parse(to_format)  # a clear usage error now, not after the command has run
    result = flow.run(
        flow.ReceiveRequest(
            receiver=flow.ReceiverOptions(
                listen, auth_token, max_body_mib << 20, grpc, grpc_listen
            ),
            save=output,
            save_format=to_format,
            save_table=table,
            command=command_after_dashes(ctx) or (),
            run_for=run_for,
            subscriber=SessionNotes(out),
        )
    )
    if output == "-":
        for line in summary_lines(result):
            out.notice(line)
    else:
        out.data(result.to_dict(), _view)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _view(result: dict[str, Any]) -> Any:
    from otelcli.render.tables import key_values

    saved = result["saved"] or {}
    receiver = result["receiver"] or {}
    grpc_receiver = result.get("grpc_receiver") or {}
    rows = [
        ("saved to", f"{saved.get('path')} ({saved.get('format')})"),
        ("spans", f"{result['spans']:,}"),
        ("batches", f"{result['batches']:,}"),
        ("received on", result["listen"]),
    ]
    if result.get("grpc_listen"):
        rows.append(("and gRPC on", result["grpc_listen"]))
    if saved.get("log_records") or saved.get("data_points"):
        rows.append(("log records", f"{saved['log_records']:,}"))
        rows.append(("data points", f"{saved['data_points']:,}"))
    for signal, path in (saved.get("files") or {}).items():
        rows.append((f"{signal} in", path))
    if saved.get("refused_batches"):
        rows.append(
            (
                "refused (save failed)",
                f"{saved['refused_batches']:,} batches ({saved['refused_spans']:,} spans, "
                f"{saved['refused_log_records']:,} log records, "
                f"{saved['refused_data_points']:,} data points) "
                f"refused for senders to retry: {saved.get('error')}",
            )
        )
    elif saved.get("error"):
        rows.append(("save failed", str(saved["error"])))
    if receiver.get("rejected_requests"):
        rows.append(("refused requests", str(receiver["rejected_requests"])))
    if grpc_receiver.get("rejected_requests"):
        from otelcli.transport.grpc_receiver import grpc_code_name

        refused = {
            grpc_code_name(code): n for code, n in grpc_receiver["rejected_requests"].items()
        }
        rows.append(("refused gRPC requests", str(refused)))
    if result["command_exit_code"] is not None:
        rows.append(("command exit code", str(result["command_exit_code"])))
    return key_values(None, rows)
