"""How deliveries look on a terminal: replay's, send's and portkey's summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import RenderableType

from otelcli.render.tables import key_values, stack

if TYPE_CHECKING:
    from otelcli.portkey.build import BuildSummary


def replay_view(result: dict[str, Any]) -> RenderableType:
    rows: list[tuple[str, Any]] = [
        ("target", result["target"]),
        ("read", f"{result['read']:,} spans from {result['files']} file(s)"),
        ("filtered", f"{result['filtered']:,}"),
    ]
    if result["written"] is not None:
        rows.append(("written", f"{result['written']:,}"))
        if result["signal"]:
            rows.append(("stopped by", result["signal"]))
    else:
        delivery = result["delivery"]
        rows += _delivered({**delivery, "signal": result["signal"] or delivery["signal"]})
        if result["dead_letter"]:
            where = result["dead_letter"]
            if result["unsent_file"]:
                where += " (no --dead-letter given)"
            rows.append(("dead-lettered", f"{delivery['dead_lettered']:,} to {where}"))
        rows += [
            ("requests", f"{delivery['requests']:,} ({delivery['retries']:,} retries)"),
            ("rate", f"{delivery['spans_per_second']:,.0f} spans/s"),
        ]
        for message, count in delivery["messages"].items():
            rows.append(("server said", f"{message} (x{count})"))
    for name, replay in result.get("signals", {}).items():
        done = f"{replay['written'] or 0:,} written"
        if replay["delivery"] is not None:
            d = replay["delivery"]
            done = f"{d['accepted']:,} sent, {d['rejected']:,} rejected, {d['failed']:,} failed"
        read = f"{replay['read']:,} {replay['records']} read"
        rows.append((name, f"{read}, {replay['filtered']:,} filtered, {done}"))
    rows.append(("adds up", "yes" if result["adds_up"] else "NO"))
    return key_values(None, rows)


def portkey_one_line(summary: BuildSummary) -> str:
    """The stderr report when the spans themselves go to stdout."""
    parts = [
        f"{summary.records_read} records",
        f"{summary.spans_made} spans",
        f"{summary.traces} traces",
        f"{len(summary.orphans)} orphans",
        f"{len(summary.skipped)} skipped",
    ]
    lines = [", ".join(parts)]
    lines += [f"skipped {n.source}: {n.message}" for n in summary.skipped]
    return "\n".join(lines)


def portkey_view(report: dict[str, Any], preview: list[Any]) -> RenderableType:
    parts: list[Any] = list(preview)
    summary = report["summary"]
    rows: list[tuple[str, Any]] = [
        ("records read", summary["records_read"]),
        ("spans made", summary["spans_made"]),
        ("traces", summary["traces"]),
        ("orphans (made roots)", len(summary["orphans"])),
        ("cycles broken", len(summary["cycles_broken"])),
        ("reused span ids", len(summary["duplicates"])),
        ("remote parents (traceparent)", summary["remote_parents"]),
        ("estimated timing", summary["estimated_timing"]),
        ("skipped", len(summary["skipped"])),
    ]
    if "output" in report:
        written = report["output"]
        rows.append(("wrote", f"{written['path']} ({written['format']})"))
    if "export" in report:
        sent = report["export"]
        rows.append(("sent", f"{sent['accepted']} accepted to {sent['endpoint']}"))
        if sent.get("failed"):
            rows.append(("failed", sent["failed"]))
        if sent.get("unknown"):
            rows.append(
                ("unknown", f"{sent['unknown']} (timed out after sending: may have arrived)")
            )
        if sent.get("signal"):
            rows.append((f"not sent ({sent['signal']})", sent["not_sent"]))
        if sent.get("unsent_file"):
            rows.append(("unsent spans", f"{sent['dead_lettered']} to {sent['unsent_file']}"))
    parts.append(key_values(None, rows))
    for title, key in (
        ("skipped", "skipped"),
        ("orphans", "orphans"),
        ("cycles broken", "cycles_broken"),
        ("reused span ids", "duplicates"),
        ("warnings", "warnings"),
    ):
        notes = summary[key]
        if notes:
            parts.append(
                key_values(f"{title}:", [(note["source"], note["message"]) for note in notes])
            )
    return stack(*parts)


def send_one_line(result: dict[str, Any]) -> str:
    if result.get("endpoint") is None:
        return f"wrote {result['spans']} span(s) to {result.get('output')}"
    return (
        f"sent {result['sent']} to {result['endpoint']}: HTTP {result.get('status')}, "
        f"{result.get('accepted', 0)} accepted, {result.get('latency_ms')} ms"
    )


def _delivered(result: dict[str, Any]) -> list[tuple[str, Any]]:
    """What became of the spans, a row each: offered = accepted + rejected + failed (+ unknown);
    spans an interruption left unsent are counted apart."""
    rows: list[tuple[str, Any]] = [
        (key, f"{result[key]:,}") for key in ("offered", "accepted", "rejected", "failed")
    ]
    if result.get("unknown"):
        rows.append(
            ("unknown", f"{result['unknown']:,} (timed out after sending: may have arrived)")
        )
    if result.get("interrupted"):
        rows.append((f"not sent ({result['signal'] or 'interrupted'})", f"{result['not_sent']:,}"))
    return rows


def send_view(result: dict[str, Any]) -> RenderableType:
    rows: list[tuple[str, Any]] = []
    for key in ("sent", "scenario", "dialect", "endpoint", "endpoint_from", "output"):
        if result.get(key):
            rows.append((key.replace("_", " "), result[key]))
    if "trace_ids" in result:
        rows.append(("trace ids", ", ".join(result["trace_ids"])))
    if "offered" in result:  # load
        latency = result["latency"]
        rows += _delivered(result)
        rows += [
            ("requests", f"{result['requests']:,} ({result['retries']:,} retries)"),
            (
                "throughput",
                f"{result['spans_per_second']:,.0f} spans/s over {result['elapsed_s']:.2f}s",
            ),
        ]
        if latency:
            rows.append(
                (
                    "latency",
                    f"p50 {latency['p50_ms']:.1f} ms · p95 "
                    f"{latency['p95_ms']:.1f} ms · p99 {latency['p99_ms']:.1f} ms",
                )
            )
    elif "accepted" in result:
        rows += _delivered({**result, "offered": result["spans"]})
        rows += [
            ("status", f"HTTP {result['status']}" if result["status"] else "no response"),
            ("latency", f"{result['latency_ms']} ms ({result['attempts']} attempt(s))"),
        ]
    else:
        rows.append(("spans", f"{result['spans']:,} written"))
    for message in result.get("messages") or ():
        rows.append(("server said", message))
    return key_values(None, rows)
