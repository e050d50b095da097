"""The timing report of a stream in an episode: rate, jitter, gaps, clock problems, and the share
of targets masked when it was aligned."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Optional, Tuple

import numpy as np

from .clocks import RepairedClock


@dataclass
class StreamReport:
    """How one stream of one episode was recorded, and how much of it alignment could trust."""

    episode: str
    stream: str
    samples: int  # as recorded
    rate_hz: float  # 1 / median interval of the repaired clock (nan with < 2 samples)
    jitter_ms: float  # standard deviation of the intervals that are not gaps
    max_interval_ms: float  # the longest interval
    gaps: int  # intervals longer than max_gap
    max_gap_ms: float  # the threshold used (nan: gaps not checked)
    duplicates: int  # samples dropped for repeating a stamp
    out_of_order: int  # samples recorded after a later stamp
    start_s: float  # first and last sample, seconds from the episode start
    end_s: float
    targets: int = 0  # targets it was aligned onto (0: not aligned)
    masked: float = float("nan")  # share of those targets masked
    masked_by: Dict[str, int] = field(default_factory=dict)  # reason -> targets
    source: str = ""  # the topic or feature: streams of one topic share its clock and its problems

    @property
    def problems(self) -> int:
        """Gaps, duplicates and out-of-order samples together."""
        return self.gaps + self.duplicates + self.out_of_order

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_max_gap(max_gap, intervals: np.ndarray, median: Optional[float] = None) -> Optional[int]:
    """max_gap in int64 ns: None (not checked), "auto" (4 x the median interval) or seconds.
    `median`: the intervals' median when the caller has it already."""
    if max_gap is None:
        return None
    if isinstance(max_gap, str):
        if max_gap != "auto":
            raise ValueError(f"argument 'max_gap': expected seconds, 'auto' or None, got {max_gap!r}")
        if not len(intervals):
            return None
        return int(4 * (np.median(intervals) if median is None else median))
    if not max_gap > 0:
        raise ValueError(f"argument 'max_gap': must be positive seconds, got {max_gap!r}")
    return int(round(float(max_gap) * 1e9))


def gap_setting(max_gap) -> Tuple[int, bool]:
    """max_gap as the native passes take it: (seconds in int64 ns, or -1 for none; whether "auto")."""
    if max_gap is None:
        return -1, False
    if isinstance(max_gap, str):
        if max_gap != "auto":
            raise ValueError(f"argument 'max_gap': expected seconds, 'auto' or None, got {max_gap!r}")
        return -1, True
    if not max_gap > 0:
        raise ValueError(f"argument 'max_gap': must be positive seconds, got {max_gap!r}")
    return int(round(float(max_gap) * 1e9)), False


def interval_stats(clock: RepairedClock, max_gap) -> tuple:
    """One native pass over a repaired clock's intervals (python/bind_io.cpp): (median, longest,
    gaps, s1, s2, m, gap_ns) with gap_ns -1 where gaps are not checked; what `report_from_stats`
    and align's masks need."""
    from .._native import _robocache

    return _robocache.io_interval_stats(clock.times_ns, *gap_setting(max_gap))


def report_from_stats(episode: str, stream: str, recorded: int, clock: RepairedClock, start_ns: int,
                      stats: tuple) -> StreamReport:
    """`stream_report` from `interval_stats`' numbers (the same quantities, one pass)."""
    median, longest, gaps, s1, s2, m, gap_ns = stats
    t = clock.times_ns
    if median is not None:
        rate = 1e9 / median
        jitter = float(np.sqrt(max(s2 / m - (s1 / m) ** 2, 0.0))) / 1e6 if m else float("nan")
        longest = float(longest) / 1e6
    else:
        rate, jitter, longest = float("nan"), float("nan"), float("nan")
    first = (int(t[0]) - start_ns) / 1e9 if len(t) else float("nan")
    last = (int(t[-1]) - start_ns) / 1e9 if len(t) else float("nan")
    return StreamReport(episode, stream, recorded, rate, jitter, longest, gaps,
                        gap_ns / 1e6 if gap_ns >= 0 else float("nan"), clock.duplicates, clock.out_of_order,
                        first, last)


def stream_report(episode: str, stream: str, recorded: int, clock: RepairedClock, start_ns: int,
                  max_gap_ns: Optional[int], dt: Optional[np.ndarray] = None,
                  median: Optional[float] = None) -> StreamReport:
    """The report of one repaired clock (before masking); `dt` and its `median` when known."""
    t = clock.times_ns
    dt = np.diff(t) if dt is None else dt
    if len(dt):
        med = float(np.median(dt)) if median is None else median
        rate = 1e9 / med
        gap_at = np.flatnonzero(dt > max_gap_ns) if max_gap_ns is not None else np.zeros(0, np.int64)
        # jitter: the standard deviation of the intervals that are not gaps, from sums about the
        # median (one pass for the sums, the few gaps taken out after)
        y = dt.astype(np.float64) - med
        s1, s2 = float(y.sum()), float((y * y).sum())  # not np.dot: BLAS threads cost more here
        if len(gap_at):
            yg = y[gap_at]
            s1, s2 = s1 - float(yg.sum()), s2 - float((yg * yg).sum())
        m = len(dt) - len(gap_at)
        jitter = float(np.sqrt(max(s2 / m - (s1 / m) ** 2, 0.0))) / 1e6 if m else float("nan")
        longest = float(dt.max()) / 1e6
        gaps = len(gap_at)
    else:
        gaps, rate, jitter, longest = 0, float("nan"), float("nan"), float("nan")
    first = (int(t[0]) - start_ns) / 1e9 if len(t) else float("nan")
    last = (int(t[-1]) - start_ns) / 1e9 if len(t) else float("nan")
    return StreamReport(episode, stream, recorded, rate, jitter, longest, gaps,
                        max_gap_ns / 1e6 if max_gap_ns is not None else float("nan"), clock.duplicates,
                        clock.out_of_order, first, last)
