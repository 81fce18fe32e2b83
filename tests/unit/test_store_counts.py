"""`cost --from` reads a token count from the table's text as the file path reads the same text
(genai/dialects/normalize.token_count): the engine's digits-only shortcut and its pattern give
what the file path gives, on the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelcli.genai.dialects.normalize import MAX_TOKEN_COUNT, token_count

pytest.importorskip("chdb")

TEXTS = [
    "0",
    "7",
    "05",
    "+5",
    " 5",
    "5 ",
    "5.0",
    "5.9",
    "-5",
    "-0",
    "1e3",
    "0x10",
    "\u0663",  # an Arabic-Indic three: no ASCII digit
    "\uff15",  # a fullwidth five
    "12a",
    "",
    "inf",
    "NaN",
    str(MAX_TOKEN_COUNT),
    str(MAX_TOKEN_COUNT + 1),
    "18446744073709551616",  # past 64 bits
    "99999999999999999999999",
]


def test_counts_read_in_the_engine_are_the_file_paths(tmp_path: Path) -> None:
    from otelcli.store.connection import open_store
    from otelcli.store.cost import StoreCost
    from otelcli.store.url import parse_store_url

    texts = ", ".join(f"'{t}'" for t in TEXTS)
    column = f"arrayJoin(CAST([{texts}, NULL], 'Array(Nullable(String))'))"
    sql = f"SELECT x, {StoreCost._count_sql('x')} FROM (SELECT {column} AS x)"
    with open_store(parse_store_url(f"chdb:{tmp_path / 'store'}"), create=True) as store:
        engine = {row[0]: int(row[1]) for row in store.query(sql)}
    for text in TEXTS:
        expected = token_count(text)
        assert engine[text] == (-1 if expected is None else expected), text
    assert engine[None] == 0  # an absent key counts 0, as on the file path
