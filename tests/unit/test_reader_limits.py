"""Readers under gzip bombs: a lying length or an endless line costs a bounded amount of memory.

Each bomb is a small .gz whose content claims (or, for a JSON line, is) far more than the
reader may hold; `otelcli stats` runs on it in a real subprocess, whose peak RSS is taken from
os.wait4 after it exits. Exit 3 with a message naming the limit, in well under 300 MB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.bombs import BOMBS, make_bomb, run
from otelcli.otlp.reader import MAX_ITEM_BYTES

FILLER = 512 << 20  # what the claim is followed by: more than an unbounded reader survives
RSS_LIMIT_MIB = 300


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("bombs")
    return {kind: make_bomb(kind, directory / f"{kind}.gz", FILLER) for kind in BOMBS}


@pytest.mark.parametrize("kind", BOMBS)
def test_gzip_bomb_is_refused_within_bounded_memory(kind: str, bombs: dict[str, Path]) -> None:
    code, _, rss_mib, line = run(bombs[kind])
    error = json.loads(line)["error"]
    assert code == 3, line
    assert error["code"] == "invalid_input"
    assert f"larger than {MAX_ITEM_BYTES >> 20} MiB" in error["message"]
    assert "uncompressed file" in error["hint"]
    assert rss_mib < RSS_LIMIT_MIB, f"peak RSS {rss_mib:.0f} MiB"


@pytest.mark.parametrize(
    ("kind", "head", "message"),
    [
        ("pb", b"\x0a" + b"\x80\x80\x80\x80\x80\x20", "truncated or corrupt protobuf at byte 0"),
        ("lp", b"\x00\x00\x00\x02\x0a\x00" + (1 << 30).to_bytes(4, "big"), "record at byte 6"),
    ],
    ids=["pb", "lp"],
)
def test_plain_file_claim_past_its_end_is_a_truncation_at_once(
    kind: str, head: bytes, message: str, tmp_path: Path
) -> None:
    """The claim (2^40 bytes; 1 GiB) exceeds the file (512 MiB, sparse): nothing is buffered."""
    path = tmp_path / f"claim.{kind}"
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(FILLER)
    code, _, rss_mib, line = run(path)
    error = json.loads(line)["error"]
    assert code == 3, line
    assert message in error["message"]
    assert error["hint"] == "the capture may have been cut short while it was written"
    assert rss_mib < RSS_LIMIT_MIB, f"peak RSS {rss_mib:.0f} MiB"
