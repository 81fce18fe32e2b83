"""--jobs by default: the cores this process may run on (a container's share), up to a cap."""

from __future__ import annotations

import os

import pytest

from otelcli.errors import UsageError
from otelcli.flows import jobs


@pytest.mark.parametrize(
    ("cores", "expected"), [(1, 1), (2, 2), (6, 6), (64, jobs.MAX_DEFAULT_JOBS)]
)
def test_the_default_is_the_usable_cores_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, cores: int, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 128)  # the machine's count is not the share
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert jobs.check_jobs(None) == expected
    assert jobs.check_jobs(3) == 3


def test_a_count_below_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--jobs 0"):
        jobs.check_jobs(0)
