"""The baselines of targets.md's CPU table: numpy code a user writes first, and numba loops
(`@njit(parallel=True, cache=True)`), for resample (linear), fuse and voxelize (occupancy)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


# ---------------------------------------------------------------- numpy
def resample_numpy(data, src, tgt):
    """searchsorted + gather + lerp, one batch row at a time, holds at both ends."""
    B, S, D = data.shape
    out = np.empty((B, tgt.shape[-1], D), data.dtype)
    for b in range(B):
        t, x = src[b], tgt[b]
        r = np.clip(np.searchsorted(t, x, side="right"), 1, S - 1)
        l = r - 1
        a = np.clip((x - t[l]) / (t[r] - t[l]), 0.0, 1.0).astype(data.dtype)[:, None]
        out[b] = data[b, l] + a * (data[b, r] - data[b, l])
    return out


def fuse_numpy(streams, tgt):
    return np.concatenate([resample_numpy(d, t, tgt) for d, t in streams], axis=-1)


def voxelize_numpy(points, grid_min, voxel_size, shape):
    idx = np.floor((points - np.asarray(grid_min, points.dtype)) / points.dtype.type(voxel_size)).astype(np.int64)
    ok = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=1)
    idx = idx[ok]
    out = np.zeros(shape, np.float32)
    out[idx[:, 0], idx[:, 1], idx[:, 2]] = 1
    return out


# ---------------------------------------------------------------- numba
@njit(parallel=True, cache=True)
def _resample_numba_into(data, src, tgt, out):
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt % T
        x = tgt[b, i]
        t = src[b]
        if x <= t[0]:
            out[b, i, :] = data[b, 0, :]
            continue
        if x >= t[S - 1]:
            out[b, i, :] = data[b, S - 1, :]
            continue
        lo, hi = 0, S - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if t[mid] <= x:
                lo = mid
            else:
                hi = mid
        a = np.float32((x - t[lo]) / (t[hi] - t[lo]))
        for c in range(D):
            vl = data[b, lo, c]
            out[b, i, c] = vl + a * (data[b, hi, c] - vl)


def resample_numba(data, src, tgt):
    out = np.empty((data.shape[0], tgt.shape[1], data.shape[2]), data.dtype)
    _resample_numba_into(data, src, tgt, out)
    return out


def fuse_numba(streams, tgt):
    B, T = tgt.shape
    out = np.empty((B, T, sum(d.shape[2] for d, _ in streams)), streams[0][0].dtype)
    off = 0
    for d, t in streams:
        _resample_numba_into(d, t, tgt, out[:, :, off:off + d.shape[2]])
        off += d.shape[2]
    return out


@njit(parallel=False, cache=True)
def _voxelize_numba_into(points, gx, gy, gz, vs, X, Y, Z, out):
    for n in range(points.shape[0]):
        i = np.floor((points[n, 0] - gx) / vs)
        j = np.floor((points[n, 1] - gy) / vs)
        k = np.floor((points[n, 2] - gz) / vs)
        if i >= 0 and i < X and j >= 0 and j < Y and k >= 0 and k < Z:
            out[int(i), int(j), int(k)] = 1.0


def voxelize_numba(points, grid_min, voxel_size, shape):
    out = np.zeros(shape, np.float32)
    c = points.dtype.type
    _voxelize_numba_into(points, c(grid_min[0]), c(grid_min[1]), c(grid_min[2]), c(voxel_size), *shape, out)
    return out
