"""An independent float64 reference of robocache.io's alignment rules (docs/robot-logs.md), one
target at a time in plain Python and numpy, sharing no code with robocache.io: what the tests
compare align() with."""

from __future__ import annotations

import bisect
import math

import numpy as np


def repaired(times_ns, values):
    """Recorded samples -> sorted unique stamps (first recorded wins), values, suspect flags."""
    kept, latest = {}, None
    for t, v in zip((int(x) for x in times_ns), values):
        late = latest is not None and t < latest
        latest = t if latest is None else max(latest, t)
        if t in kept:
            kept[t][2] = True
        else:
            kept[t] = [np.asarray(v, np.float64), late, False]
    stamps = sorted(kept)
    return stamps, np.array([kept[t][0] for t in stamps]), [kept[t][1] or kept[t][2] for t in stamps]


def slerp(q0, q1, a):
    if np.dot(q0, q1) < 0:
        q1 = -q1
    theta = math.acos(min(1.0, abs(float(np.dot(q0, q1)))))
    if theta < 1e-6:
        q = (1 - a) * q0 + a * q1
    else:
        q = (math.sin((1 - a) * theta) * q0 + math.sin(a * theta) * q1) / math.sin(theta)
    return q / np.linalg.norm(q)


def wrap(x):
    return (x + math.pi) % (2 * math.pi) - math.pi


def stream_reference(times_ns, values, targets_ns, mode, tolerance_ns=None, max_gap="auto"):
    """(values [T, D] float64, valid [T] bool) of one stream at absolute int targets."""
    t, v, suspect = repaired(times_ns, values)
    if mode == "wrapped":
        v = np.unwrap(v, axis=0)
    gap_ns = int(4 * np.median(np.diff(t))) if max_gap == "auto" else max_gap
    out, valid = [], []
    for x in (int(x) for x in targets_ns):
        r = bisect.bisect_right(t, x)
        l = max(r - 1, 0)
        inside = t[0] <= x <= t[-1]
        exact = t[l] == x
        if x <= t[0]:
            val, reads = v[0], [0]
        elif x >= t[-1]:
            val, reads = v[-1], [len(t) - 1]
        elif exact:
            val, reads = v[l], [l]
        else:
            a = (x - t[l]) / (t[r] - t[l])
            if mode == "previous":
                val, reads = v[l], [l]
            elif mode == "nearest":
                k = l if x - t[l] <= t[r] - x else r
                val, reads = v[k], [k]
            elif mode == "slerp":
                val, reads = slerp(v[l], v[r], a), [l, r]
            else:
                val, reads = v[l] + a * (v[r] - v[l]), [l, r]
        if mode == "wrapped":
            val = np.array([wrap(c) for c in val])
        ok = inside
        if ok and gap_ns is not None and not exact and t[r] - t[l] > gap_ns:
            ok = False
        if ok and tolerance_ns is not None:
            near = min([x - t[l]] + ([t[r] - x] if r < len(t) else []))
            ok = near <= tolerance_ns
        if ok and any(suspect[k] for k in reads):
            ok = False
        out.append(val)
        valid.append(ok)
    return np.array(out), np.array(valid)


def rate_targets(first_ns, last_ns, rate):
    """Targets of a rate reference: from the first sample of any stream to the last."""
    n = int(math.floor((last_ns - first_ns) * rate / 1e9 + 1e-9)) + 1
    return [first_ns + int(round(k * 1e9 / rate)) for k in range(n)]


def assert_close(got, want, name, rel=1e-6):
    """f32 output against the float64 reference: within `rel` of the channel's scale."""
    got = np.asarray(got, np.float64)
    scale = np.maximum(np.abs(want).max(axis=0), 1e-12)
    err = np.abs(got - want).max(axis=0)
    assert np.all(err <= rel * scale), f"{name}: max error {err} against scale {scale}"
