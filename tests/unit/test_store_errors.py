"""The engine's messages as otelcli errors: the one a user acts on, with its exit code."""

from __future__ import annotations

from otelcli.errors import ExitCode, OutputError
from otelcli.store.connection import store_error
from otelcli.store.url import parse_store_url


def test_a_full_disk_under_a_store_is_an_output_error_like_a_full_disk_under_a_file() -> None:
    # the message chDB gave for `otelcli load CAPTURE --into chdb:DIR` on a 2 MiB tmpfs
    message = (
        "Code: 243. DB::Exception: Cannot reserve 20.99 MiB, not enough space. "
        "(NOT_ENOUGH_SPACE) (version 25.8.2.1)"
    )
    error = store_error(parse_store_url("chdb:/mnt/small/store"), message)
    assert isinstance(error, OutputError) and error.exit_code == ExitCode.OUTPUT
    assert error.message.startswith("chdb:/mnt/small/store: the disk is full (Code: 243.")
    assert "version" not in error.message and error.hint and "free some space" in error.hint
