"""How `otelcli cost` reports look, through the real app at fixed terminal sizes: cost over
time with charts, the pricing table on a narrow terminal, the HTML report."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from otelcli.otlp.writer import open_writer
from tests.cli.test_cost_cli import call, llm_batch
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
HOUR_NS = 3600 * 10**9
DAY0 = 1_764_590_400 * 10**9  # 2025-12-01T12:00Z


@pytest.fixture
def days(tmp_path: Path) -> Path:
    """Three days of calls: gpt-4o on each, gpt-4o-mini on the second, two hours apart."""
    path = tmp_path / "days.pb"
    with open_writer(str(path)) as writer:
        for day in range(3):
            calls = [call("gpt-4o", 1_000_000 * (day + 1), 0)]
            if day == 1:
                calls.append(call("gpt-4o-mini", 1_000_000, 0))
            batch = llm_batch("shop", day + 1, calls)
            for number, span in enumerate(batch.resource_spans[0].scope_spans[0].spans):
                span.start_time_unix_nano = DAY0 + day * 24 * HOUR_NS + number * 2 * HOUR_NS
                span.end_time_unix_nano = span.start_time_unix_nano + 10**9
            writer.write(batch)
    return path


def test_cost_by_day_in_time_order(cli: Cli, days: Path) -> None:
    result = cli("cost", str(days), "--by", "day", "-f", "json")
    groups = json.loads(result.stdout)["groups"]
    assert [g["key"]["day"] for g in groups] == ["2025-12-01", "2025-12-02", "2025-12-03"]
    assert [g["usd"]["total"] for g in groups] == ["2.5", "5.15", "7.5"]
    hours = json.loads(cli("cost", str(days), "--by", "hour", "-f", "json").stdout)["groups"]
    assert [g["key"]["hour"] for g in hours][1:3] == ["2025-12-02T12Z", "2025-12-02T14Z"]


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_cost_over_time_chart_fits_the_terminal(cli: Cli, days: Path, columns: int) -> None:
    result = cli(
        "--no-color",
        "cost",
        str(days),
        "--by",
        "day",
        "--by",
        "model",
        "-f",
        "table",
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    chart = lines[lines.index("cost by day") + 1 : lines.index("cost by day") + 4]
    bars = [len(re.sub(r"[^█▌]", "", line)) for line in chart]
    assert [line.split()[0] for line in chart] == ["2025-12-01", "2025-12-02", "2025-12-03"]
    assert bars[0] < bars[1] < bars[2]  # 2.50 < 5.15 < 7.50
    assert "$7.50" in chart[2] and "3,000,000 tok" in chart[2]
    by_model = lines[lines.index("cost by model") + 1 :]
    assert by_model[0].startswith("gpt-4o ") and by_model[1].startswith("gpt-4o-mini ")
    assert all("…" not in line for line in lines if "2025-12" in line)  # days stay whole


def test_cost_table_shows_cache_writes(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cache.pb"
    extra = {"gen_ai.usage.cache_creation.input_tokens": 4_000}
    with open_writer(str(path)) as writer:
        writer.write(llm_batch("shop", 1, [call("claude-sonnet-4-5", 10_000, 10, **extra)]))
    result = cli("--no-color", "cost", str(path), "--by", "model", "-f", "table")
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "cache write" in line)
    row = next(line for line in result.stdout.splitlines() if "claude-sonnet-4-5" in line)
    assert header.index("cache write") <= row.index("4,000") + 5
    assert "4,000 cache write" in result.stdout


@pytest.mark.parametrize("columns", [50, 70, 120])
def test_prices_keep_model_ids_whole_on_narrow_terminals(cli: Cli, columns: int) -> None:
    result = cli(
        "--no-color", "cost", "prices", "claude-sonnet-4", "-f", "table",
        env={"COLUMNS": str(columns)},
    )  # fmt: skip
    assert result.exit_code == 0
    rows = json.loads(cli("cost", "prices", "claude-sonnet-4").stdout)["prices"]
    cells = [line.split("│")[1].strip() for line in result.stdout.splitlines() if "│" in line]
    ids = [row["id"] for n, row in enumerate(rows) if n == 0 or rows[n - 1]["id"] != row["id"]]
    listed = "".join(cell for cell in cells if not cell.startswith("└"))
    assert listed == "".join(ids)  # every id, whole (folded if need be), in order
    assert any(cell.startswith("└") and ">200k" in cell for cell in cells) or columns > 100
    assert max(len(line) for line in result.stdout.splitlines()) <= columns
    if columns >= 70:
        assert "input" in result.stdout and "output" in result.stdout


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("href", "src")]

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1] == "td":
            self.cells.append(data)


def test_html_report_is_self_contained(cli: Cli, days: Path, tmp_path: Path) -> None:
    result = cli("cost", str(days), "--by", "day", "--by", "model", "--top", "2", "-f", "html")
    assert result.exit_code == 0, result.stderr
    page = _Page()
    page.feed(result.stdout)
    assert result.stdout.startswith("<!doctype html>")
    assert "script" not in page.tags and page.links == []  # nothing fetched from anywhere
    assert page.tags.count("svg") == 2 and page.tags.count("rect") >= 2  # by day, by model
    assert "$15.15" in page.cells  # the total
    assert "(other)" in page.cells  # --top's rest, so rows add up
    usage = cli("cost", "-m", "gpt-4o", "-f", "html", "--format", "html")
    assert usage.exit_code == 2
