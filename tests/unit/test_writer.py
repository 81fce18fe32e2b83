"""What every output file otelcli writes goes through (otelcli/otlp/outfile.py): real files,
symlinks, FIFOs and device nodes; failures from a real file-size limit and /dev/full."""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelcli.errors import ExitCode, OutputError
from otelcli.otlp.outfile import OutputFile, write_output
from otelcli.otlp.reader import read_batches
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.writer import open_writer
from tests.conftest import make_request


def spans_in(path: Path | str) -> int:
    return sum(len(list(iter_spans(batch))) for batch in read_batches([str(path)]))


def write_two(path: Path | str, fmt: str | None = None) -> None:
    with open_writer(str(path), fmt) as writer:
        writer.write(make_request(2, trace_byte=1))
        writer.write(make_request(3, trace_byte=2))


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_symlink_stays_a_link_and_its_target_gets_the_data(tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target.name)
    write_two(link)
    assert link.is_symlink() and os.readlink(link) == target.name
    assert spans_in(target) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "real.jsonl"]


def test_a_link_to_a_link_in_another_directory_is_followed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "run.pb"
    target.write_bytes(b"")
    (tmp_path / "middle.pb").symlink_to(target)
    (tmp_path / "link.pb").symlink_to("middle.pb")
    write_two(tmp_path / "link.pb")
    assert (tmp_path / "link.pb").is_symlink() and (tmp_path / "middle.pb").is_symlink()
    assert spans_in(target) == 5
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["run.pb"]


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.pb"
    path.write_bytes(b"")
    path.chmod(0o664)
    write_two(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert spans_in(path) == 5


def test_a_new_file_gets_the_umask_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "new.jsonl.gz"
    write_two(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert spans_in(path) == 5


def test_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the writer can open
    try:
        write_two(fifo)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        received = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(received)
    assert spans_in(copy) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.jsonl", "pipe.jsonl"]


def test_a_character_device_is_written_in_place(tmp_path: Path) -> None:
    """The device node must survive being the output (as root, /dev/null was replaced)."""
    node = device(tmp_path, "null", 3)
    write_two(node, "pb")
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A private copy of /dev/null (minor 3) or /dev/full (minor 7)."""
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        os.close(os.open(node, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"cannot make or open a device node here: {exc}")
    return node


def test_a_full_device_is_an_output_error(tmp_path: Path) -> None:
    node = device(tmp_path, "full", 7)
    with pytest.raises(OutputError) as caught:
        write_two(node, "jsonl")
    assert caught.value.exit_code is ExitCode.OUTPUT
    assert caught.value.message == f"cannot write {node}: No space left on device"
    assert caught.value.hint and "disk is full" in caught.value.hint
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["full"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="Is a directory"):
        write_two(tmp_path, "pb")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="No such file or directory") as caught:
        write_two(tmp_path / "nowhere" / "run.pb")
    assert caught.value.hint == "check that the directory exists"


def test_stream_mode_writes_every_record_at_once(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl.gz"
    writer = open_writer(str(path), stream=True)
    try:
        for n in range(3):
            writer.write(make_request(2, trace_byte=n + 1))
            assert spans_in(path) == 2 * (n + 1)  # a complete gzip member each time
        with gzip.open(path) as members:
            assert len(members.read().splitlines()) == 3
    finally:
        writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["live.jsonl.gz"]


def test_stream_mode_refuses_a_json_document(tmp_path: Path) -> None:
    from otelcli.errors import UsageError

    with pytest.raises(UsageError) as caught:
        open_writer(str(tmp_path / "run.json"), stream=True)
    assert caught.value.hint and ".jsonl" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_write_output_through_a_symlink_keeps_the_link_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    target.write_text("old")
    target.chmod(0o640)
    (tmp_path / "latest.xml").symlink_to(target.name)
    write_output(str(tmp_path / "latest.xml"), b"<testsuites/>\n")
    assert (tmp_path / "latest.xml").is_symlink()
    assert target.read_text() == "<testsuites/>\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_output_file_kinds(tmp_path: Path) -> None:
    kinds = {}
    for name, path, stream in [
        ("new", tmp_path / "a.pb", False),
        ("stream", tmp_path / "b.pb", True),
        ("device", device(tmp_path, "null", 3), False),
    ]:
        output = OutputFile(str(path), stream=stream)
        kinds[name] = output.kind
        output.commit()
    assert kinds == {"new": "atomic", "stream": "stream", "device": "direct"}
