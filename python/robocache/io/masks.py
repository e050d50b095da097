"""Which targets a stream can be trusted at, computed on the int64 nanosecond clocks (exact).

A target x is masked for a stream with repaired clock t[0..L-1] when
- it is outside the stream's range: x < t[0] or x > t[L-1];
- it lies inside a gap: t[l] < x < t[l+1] with t[l+1] - t[l] > max_gap;
- no sample is within `tolerance` of it;
- the value the stream's mode gives there reads a suspect sample (one that was recorded out of
  order or had a duplicate, see clocks.py): linear, slerp and wrapped read t[l] and t[l+1]
  (only t[l] when x == t[l]), previous reads t[l], nearest the nearer one (ties: the earlier).

`stream_mask` runs in native code (python/bind_io.cpp: one merge of the targets with the clock);
`stream_mask_numpy` is the same rule in numpy, the reference the tests hold it to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

REASONS = ("outside", "gap", "tolerance", "repaired")


@dataclass
class StreamMask:
    """valid [T] and the samples the kernel needs (indices into the repaired clock, sorted; empty
    when they were not asked for)."""

    valid: np.ndarray
    needed: np.ndarray
    counts: dict  # reason -> targets masked for it (a target may count under several)


_MODE_CODE = {"previous": 1, "nearest": 2}  # 0: both neighbours (linear, slerp, wrapped)


def stream_mask(t: np.ndarray, x: np.ndarray, mode: str, tolerance_ns: Optional[int], max_gap_ns: Optional[int],
                suspect: Optional[np.ndarray], with_needed: bool = True) -> StreamMask:
    """The mask of sorted targets `x` (int64 [T]) for a stream with repaired clock `t` (int64 [L], L >= 1).
    `t` and `x` may be on any common origin (only their differences count); `suspect` None: none is.
    with_needed: list the samples the kernel reads (align packs them for the kernels on the GPU)."""
    from .._native import _robocache

    if suspect is not None and not suspect.any():
        suspect = None
    valid, needed, outside, gap, far, repaired = _robocache.io_stream_mask(
        t, x, _MODE_CODE.get(mode, 0), -1 if tolerance_ns is None else int(tolerance_ns),
        -1 if max_gap_ns is None else int(max_gap_ns), suspect, with_needed)
    counts = {"outside": outside}
    if max_gap_ns is not None:
        counts["gap"] = gap
    if tolerance_ns is not None:
        counts["tolerance"] = far
    if suspect is not None:
        counts["repaired"] = repaired
    return StreamMask(valid, needed, counts)


def stream_mask_numpy(t: np.ndarray, x: np.ndarray, mode: str, tolerance_ns: Optional[int],
                      max_gap_ns: Optional[int], suspect: np.ndarray) -> StreamMask:
    """`stream_mask` in numpy: the reference implementation of the rule."""
    L = len(t)
    r = np.searchsorted(t, x, side="right")
    lc = r - 1
    lc[lc < 0] = 0
    rc = np.minimum(r, L - 1)
    tl, tr = t[lc], t[rc]
    # targets are sorted, so the ones outside the range are a prefix and a suffix
    lo, hi = int(np.searchsorted(x, t[0], side="left")), int(np.searchsorted(x, t[-1], side="right"))
    valid = np.zeros(len(x), bool)
    valid[lo:hi] = True
    counts = {"outside": len(x) - (hi - lo)}
    interior = valid & (tl != x)  # strictly between two samples (so r < L)
    if max_gap_ns is not None:
        gap = interior & (tr - tl > max_gap_ns)
        counts["gap"] = int(np.count_nonzero(gap))
        valid &= ~gap
    if tolerance_ns is not None:
        # inside the range both neighbours exist; outside, the target is masked already
        far = np.minimum(x - tl, tr - x) > tolerance_ns
        far &= interior
        counts["tolerance"] = int(np.count_nonzero(far))
        valid &= ~far
    if suspect.any():
        inside = np.zeros(len(x), bool)
        inside[lo:hi] = True
        if mode == "previous":
            bad = suspect[lc]
        elif mode == "nearest":
            take_r = interior & (x - tl > tr - x)
            bad = np.where(take_r, suspect[rc], suspect[lc])
        else:
            bad = suspect[lc] | (interior & suspect[rc])
        counts["repaired"] = int(np.count_nonzero(bad & inside))
        valid &= ~bad
    # lc and rc are sorted (so are the targets): a merge, not a hash, de-duplicates their union
    both = np.concatenate([[0], lc, rc, [L - 1]])
    both.sort(kind="stable")
    needed = both[np.concatenate([[True], both[1:] != both[:-1]])]
    return StreamMask(valid, needed, counts)
