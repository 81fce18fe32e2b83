"""Small rich building blocks shared by command views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


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


class Fitted:
    """A table that drops its optional columns (in the order given) until it fits the width,
    so that the columns that remain are shown whole instead of squeezed."""

    def __init__(
        self,
        build: Callable[[Sequence[str]], Table],
        columns: Sequence[str],
        optional: Sequence[str],
    ) -> None:
        self.build, self.columns, self.optional = build, list(columns), list(optional)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = list(self.columns)
        droppable = list(self.optional)
        table = self.build(columns)
        while droppable and _too_wide(console, options, table):
            columns.remove(droppable.pop(0))
            table = self.build(columns)
        yield table


def _too_wide(console: Console, options: ConsoleOptions, table: Table) -> bool:
    unbounded = options.update_width(1 << 16)
    return Measurement.get(console, unbounded, table).maximum > options.max_width


class BarChart:
    """Horizontal bars with a label and two figures per row, sized to the width it gets."""

    def __init__(self, title: str, rows: Sequence[tuple[str, float, str, str]]) -> None:
        self.title, self.rows = title, rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        label_w = min(max((len(r[0]) for r in self.rows), default=0), max(8, width * 2 // 5))
        first_w = max((len(r[2]) for r in self.rows), default=0)
        second_w = max((len(r[3]) for r in self.rows), default=0)
        bar_w = max(1, width - label_w - first_w - second_w - 4)
        top = max((r[1] for r in self.rows), default=0.0) or 1.0
        yield Text(self.title, style="bold")
        for label, value, first, second in self.rows:
            cells = value / top * bar_w
            bar = "█" * int(cells) + ("▌" if cells - int(cells) >= 0.5 else "")
            if len(label) > label_w:
                label = label[: label_w - 1] + "…"
            line = Text(f"{label:<{label_w}} ")
            line.append(f"{bar or '·':<{bar_w}}", style="cyan")
            line.append(f" {first:>{first_w}} ")
            line.append(f"{second:>{second_w}}", style="dim")
            yield line
