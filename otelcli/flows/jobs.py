"""--jobs: measure batches in worker processes, hand the results back in input order.

The reader cuts a capture into independent batches; a worker parses and measures each one
(the per-span work that needs none of the spans before it) and returns a compact result, and
the calling process merges the results in input order, so the report is the same with 1 and N
jobs. Workers are forked (they inherit the loaded rules and price table); at most two batches
per worker are in flight, so streaming memory stays bounded. Where fork is not available, or
the input is a single batch, everything runs in this process.
"""

from __future__ import annotations

import gc
import itertools
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from otelcli.errors import OtelcliError, UsageError

T = TypeVar("T")
R = TypeVar("R")

_IN_FLIGHT_PER_JOB = 2
# A capture pass builds many small objects that live on (per-call facts, per-trace state):
# the default first-generation threshold (700) makes the collector walk them again and again.
_GEN0_THRESHOLD = 100_000


MAX_DEFAULT_JOBS = 8  # each worker holds its own copy of what it touches


def check_jobs(jobs: int | None) -> int:
    # The cores this process may use by default: on 2 cores the 200,000-span capture took
    # cost 3.5 s -> 1.8 s and validate 5.3 s -> 3.9 s with a second process (workers count
    # or check their slices; the calling process merges in order). A capture of one slice
    # stays in one process.
    if jobs is None:
        return default_jobs()
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} is not a positive number", "use --jobs 1 for one process")
    return jobs


def default_jobs() -> int:
    """The cores this process may run on (a container's share, not the machine's)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_DEFAULT_JOBS)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the first generation less often while a capture is measured."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], _GEN0_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def map_ordered(items: Iterable[T], work: Callable[[T], R], jobs: int) -> Iterator[R]:
    """work(item) for every item, in order; in `jobs` forked processes when jobs > 1."""
    iterator = iter(items)
    first = next(iterator, _END)
    if first is _END:
        return
    second = next(iterator, _END)
    if jobs <= 1 or second is _END or not _can_fork():
        yield work(first)
        if second is not _END:
            yield work(second)
            for item in iterator:
                yield work(item)
        return
    yield from _in_workers(itertools.chain((first, second), iterator), work, jobs)


_END: Any = object()


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _in_workers(items: Iterator[T], work: Callable[[T], R], jobs: int) -> Iterator[R]:
    import multiprocessing

    # What the workers inherit (price table, rules, caches) is left out of every collection:
    # a collector walking it in a forked worker copies its pages (on the 200,000-span
    # capture the workers' CPU went down by up to a tenth; the runs are noisy).
    gc.freeze()
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(work, os.getpid()),  # inherited through fork, never pickled
    )
    pending: deque[Future[Any]] = deque()
    try:
        for item in items:
            if pending:
                pending.append(pool.submit(_run, item))
            else:
                # the first submit starts the workers and the thread that stops them: a Ctrl-C
                # or SIGTERM in between would leave workers no one stops (the exit then waits
                # for them forever); the signal comes once they are up
                with _signals_held():
                    pending.append(pool.submit(_run, item))
            if len(pending) >= jobs * _IN_FLIGHT_PER_JOB:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait while inside (threads started inside keep them blocked, so the
    main thread takes them)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


_work: Callable[[Any], Any] | None = None


def _start_worker(work: Callable[[Any], Any], parent: int) -> None:
    global _work
    _work = work
    # Ctrl-C reaches the whole process group: the calling process stops the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    gc.set_threshold(max(gc.get_threshold()[0], _GEN0_THRESHOLD), *gc.get_threshold()[1:])


def _die_with(parent: int) -> None:
    """A worker ends when the calling process does: one ended by SIGTERM or SIGKILL shuts no
    pool down, and its workers would wait for work forever, holding its output pipes."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        return
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class _Failed:
    """An OtelcliError raised in a worker, carried back whole (its hint included)."""

    def __init__(self, error: OtelcliError) -> None:
        self.kind = type(error)
        self.message = error.message
        self.hint = error.hint


def _run(item: Any) -> Any:
    assert _work is not None
    try:
        return _work(item)
    except OtelcliError as error:
        return _Failed(error)


def _result(future: Future[Any]) -> Any:
    result = future.result()
    if isinstance(result, _Failed):
        raise result.kind(result.message, result.hint)
    return result
