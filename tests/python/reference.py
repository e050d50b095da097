"""A float64 numpy reference of ops.md §1 (resample, linear) and ulp helpers for the tests."""

from __future__ import annotations

import numpy as np

import ml_dtypes


def resample_linear(data, src_times, tgt_times):
    """ops.md §1 `linear`: holds at both ends, largest l with t[l] <= x, NaN targets.

    Time arithmetic (the weight) is done in the times' own dtype and the weight is rounded to the
    blend type (float64 for f64 data, else float32), as ops.md requires; the blend itself is done
    in float64.
    """
    blend = np.float64 if np.asarray(data).dtype == np.float64 else np.float32
    data = np.asarray(data).astype(np.float64)
    B, S, D = data.shape
    tdt = np.result_type(np.asarray(src_times).dtype, np.asarray(tgt_times).dtype)
    src = np.broadcast_to(np.asarray(src_times, dtype=tdt), (B, S))
    tgt = np.asarray(tgt_times, dtype=tdt)
    T = tgt.shape[-1]
    tgt = np.broadcast_to(tgt, (B, T))
    out = np.empty((B, T, D))
    for b in range(B):
        t, v, x = src[b], data[b], tgt[b]
        l = np.clip(np.searchsorted(t, x, side="right") - 1, 0, S - 1)
        r = np.minimum(l + 1, S - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = (x - t[l]) / (t[r] - t[l])
        a = np.where(np.isfinite(a), a, 0.0).astype(blend).astype(np.float64)
        row = v[l] + a[:, None] * (v[r] - v[l])
        row[x <= t[0]] = v[0]
        row[x >= t[S - 1]] = v[S - 1]
        row[np.isnan(x)] = np.nan
        out[b] = row
    return out


def rounded(ref64, dtype):
    """The correctly rounded f32 result, then rounded to `dtype` (round to nearest even)."""
    return ref64.astype(np.float32).astype(dtype)


_INT_OF = {np.dtype(np.float16): np.int16, np.dtype(ml_dtypes.bfloat16): np.int16,
           np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def ulp_distance(a, b):
    """Elementwise distance in units in the last place between two arrays of the same float dtype."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype
    it = _INT_OF[a.dtype]
    bits = np.iinfo(it).bits

    def ordered(x):
        i = x.view(it).astype(np.int64)
        # Map sign-magnitude floats onto a monotonic integer line.
        return np.where(i < 0, -(i & ((1 << (bits - 1)) - 1)), i)

    return np.abs(ordered(a) - ordered(b))
