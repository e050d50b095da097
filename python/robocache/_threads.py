"""How many threads a CPU kernel uses (docs/performance.md, "Threads").

The first rule that applies decides, at each launch:

1. ``set_num_threads(n)`` in this process (``set_num_threads(0)`` returns to the rules below);
2. a C++ engine's ``threads`` option;
3. one thread in a worker process: a PyTorch DataLoader worker (``torch.utils.data.get_worker_info()``
   is set; torch is never imported for this) or any forked child, so ``num_workers=N`` uses N cores,
   never N times the machine;
4. the environment variable ``ROBOCACHE_NUM_THREADS`` (read at the first launch);
5. every CPU this process may run on (its affinity mask, which containers and ``taskset`` set).
"""

from __future__ import annotations

from ._native import _robocache as _native


def set_num_threads(n: int) -> None:
    """Use `n` threads (>= 1) for every later CPU launch in this process; 0 returns to the default
    rules (one in a worker process, else ROBOCACHE_NUM_THREADS, else every CPU). A forked child
    does not inherit it."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"argument 'n': expected an int, got {type(n).__name__}")
    _native.set_num_threads(n)


def get_num_threads() -> int:
    """The threads a CPU launch made now would use."""
    return _native.get_num_threads()


def num_threads_reason() -> str:
    """Which rule decides get_num_threads(): 'set_num_threads', 'engine', 'forked child', 'worker',
    'ROBOCACHE_NUM_THREADS' or 'cpus'."""
    return _native.num_threads_reason()
