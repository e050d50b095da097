"""The threads align spreads its native passes over (python/bind_io.cpp releases the GIL): one
task per clock and per packed kernel input, on as many threads as the CPU kernels use (the
thread policy of robocache.set_num_threads, docs/python-api.md). A forked child (a DataLoader
worker) makes its own pool: its parent's threads do not exist there."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Sequence

_MIN_WORK = 100_000  # samples: below this, a task costs less than handing it to a thread
_pool = None
_pool_pid = None


def thread_count() -> int:
    """The threads a CPU kernel launched now would use: robocache.get_num_threads() (set_num_threads,
    one in a DataLoader worker or forked child, ROBOCACHE_NUM_THREADS, else the CPUs)."""
    from robocache._threads import get_num_threads

    return max(int(get_num_threads()), 1)


def _executor(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid() or _pool._max_workers != threads:
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="robocache-io")
        _pool_pid = os.getpid()
    return _pool


def pmap(fn: Callable, items: Sequence, work: Sequence[int]) -> List:
    """[fn(x) for x in items], the largest `work` first over the threads when there is enough."""
    threads = thread_count()
    if threads < 2 or len(items) < 2 or sum(work) < _MIN_WORK:
        return [fn(x) for x in items]
    pool = _executor(threads)
    futures = {i: pool.submit(fn, items[i]) for i in sorted(range(len(items)), key=lambda i: -work[i])}
    return [futures[i].result() for i in range(len(items))]
