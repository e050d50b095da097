"""Clock repair: a recorded clock made usable by the kernels (sorted, no repeated stamps), with
what was wrong with it kept for the report and the masks.

The rule for duplicates: samples with the same stamp keep the one recorded first; the others are
dropped and counted. Samples recorded after a later stamp (out of order) are moved to where their
stamp puts them. Every kept sample that was out of order or had a duplicate is *suspect*: a target
whose value reads a suspect sample is masked.

`repair` runs in native code (python/bind_io.cpp: one pass and a merge); `repair_numpy` is the
same rule in numpy, the reference the tests hold it to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RepairedClock:
    """The sorted, de-duplicated clock of a stream and where each kept sample came from."""

    times_ns: np.ndarray  # int64 [L], strictly increasing
    index: np.ndarray  # int64 [L]: the recorded sample each kept one is (None-free gather index)
    suspect: np.ndarray  # bool [L]: was out of order, or had a duplicate
    out_of_order: int  # recorded samples stamped earlier than one recorded before them
    duplicates: int  # recorded samples dropped because an earlier one had the same stamp
    first_problem: str  # "" or a description of the first problem (for strict mode)

    @property
    def repaired(self) -> bool:
        return bool(self.out_of_order or self.duplicates)


def repair(times_ns: np.ndarray) -> RepairedClock:
    """Sorts and de-duplicates a recorded int64 nanosecond clock (see the module's rule)."""
    from .._native import _robocache

    t = np.ascontiguousarray(times_ns, dtype=np.int64)
    n = len(t)
    fixed = _robocache.io_repair(t) if n >= 2 else None
    if fixed is None:  # the common case: nothing to repair, no copy
        return RepairedClock(t, np.arange(n, dtype=np.int64), np.zeros(n, bool), 0, 0, "")
    times, index, suspect, late, dups, first_late, late_after, first_dup = fixed
    problems = []
    if first_late >= 0:
        problems.append((first_late, f"sample {first_late} stamped {int(t[first_late])} ns comes after one "
                                     f"stamped {late_after} ns (out of order)"))
    if first_dup >= 0:
        problems.append((first_dup, f"sample {first_dup} repeats the stamp {int(t[first_dup])} ns (duplicate)"))
    return RepairedClock(times, index, suspect, late, dups, min(problems)[1])


def repair_numpy(times_ns: np.ndarray) -> RepairedClock:
    """`repair` in numpy: the reference implementation of the rule."""
    t = np.asarray(times_ns, dtype=np.int64)
    n = len(t)
    if n < 2 or bool(np.all(t[1:] > t[:-1])):  # the common case: nothing to repair, no copy
        return RepairedClock(t, np.arange(n, dtype=np.int64), np.zeros(n, bool), 0, 0, "")
    late = np.zeros(n, bool)
    late[1:] = t[1:] < np.maximum.accumulate(t[:-1])
    late_idx = np.flatnonzero(late)
    # The samples that are not late are already sorted; the few late ones are merged in after any
    # equal stamp recorded before them, which keeps equal stamps in recorded order (a stable sort).
    in_order = np.flatnonzero(~late) if len(late_idx) else np.arange(n)
    if len(late_idx):
        late_idx = late_idx[np.argsort(t[late_idx], kind="stable")]
        at = np.searchsorted(t[in_order], t[late_idx], side="right")
        order = np.insert(in_order, at, late_idx)
    else:
        order = in_order
    ts = t[order]
    dup_at = np.flatnonzero(ts[1:] == ts[:-1]) + 1  # sorted positions repeating the one before
    keep = np.ones(n, bool)
    keep[dup_at] = False
    kept_order = order[keep] if len(dup_at) else order
    suspect = late[kept_order]
    if len(dup_at):
        # the kept sample of a repeated stamp is the first of its run: kept position = its
        # sorted position less the repeats before it
        run_start = dup_at - 1
        while True:  # step back over runs longer than two
            back = np.isin(run_start, dup_at)
            if not back.any():
                break
            run_start = np.where(back, run_start - 1, run_start)
        suspect[run_start - np.searchsorted(dup_at, run_start)] = True
    repeat = ~keep
    problems = []
    if late.any():
        i = int(np.argmax(late))
        problems.append((i, f"sample {i} stamped {int(t[i])} ns comes after one stamped "
                            f"{int(np.max(t[:i]))} ns (out of order)"))
    if repeat.any():
        j = int(order[np.argmax(repeat)])
        problems.append((j, f"sample {j} repeats the stamp {int(t[j])} ns (duplicate)"))
    first = min(problems)[1] if problems else ""
    return RepairedClock(ts[keep] if len(dup_at) else ts, kept_order, suspect, len(late_idx), len(dup_at), first)
