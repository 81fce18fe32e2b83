"""Small rich building blocks shared by command views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table


def format_time_ns(value: int | None) -> str:
    if not value:
        return "-"
    moment = datetime.fromtimestamp(value / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_duration_ns(value: int | None) -> str:
    if value is None:
        return "-"
    seconds = value / 1e9
    if seconds < 1e-3:
        return f"{value / 1e3:.0f}µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f}ms"
    if seconds < 120:
        return f"{seconds:.2f}s"
    return f"{seconds / 60:.1f}m"


def key_values(title: str | None, rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, box=None, title_justify="left", pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def counts(
    title: str, values: Mapping[str, int], label: str = "name", unit: str = "spans"
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    table.add_column(unit, justify="right")
    for name, count in values.items():
        table.add_row(name, f"{count:,}")
    return table


def stack(*parts: RenderableType) -> Group:
    return Group(*parts)
