"""The baselines of the CPU benchmark (bench/cpu_bench.py), written the way a good user of each
library would: numpy (vectorised searchsorted/gather/blend, bincount for voxels) and numba loops,
each numba kernel compiled twice from one Python function: `@njit(parallel=True, cache=True)` for
the all-thread column and plain `@njit` for the single-thread column (prange runs as range there).

Every resample kernel takes (data [B,S,D], src [B,S], tgt [B,T], lengths [B] int64, out [B,T,D]):
a good numba user writes one loop per target row, a binary search, the blend over channels, and
holds at both ends (ops.md). Outputs are allocated by the wrappers, as a user's code does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def _both(fn):
    """(parallel, serial) numba versions of one loop function. Only the parallel one is cached on
    disk: numba keys its cache by function, not by the parallel flag."""
    return njit(parallel=True, cache=True, fastmath=False)(fn), njit(cache=False, fastmath=False)(fn)


@njit(inline="always")
def _bracket(t, L, x):
    """(l, r) with t[l] <= x < t[r]; l == r for a hold (x <= t[0] or x >= t[L-1])."""
    if x <= t[0]:
        return 0, 0
    if x >= t[L - 1]:
        return L - 1, L - 1
    lo, hi = 0, L - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if t[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo, hi


# ---------------------------------------------------------------- numba: resample, one mode each
def _linear(data, src, tgt, lengths, out):
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        x = tgt[b, i]
        t = src[b]
        l, r = _bracket(t, lengths[b], x)
        if l == r:
            out[b, i, :] = data[b, l, :]
            continue
        a = np.float32((x - t[l]) / (t[r] - t[l]))
        for c in range(D):
            vl = data[b, l, c]
            out[b, i, c] = vl + a * (data[b, r, c] - vl)


def _nearest(data, src, tgt, lengths, out):
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        x = tgt[b, i]
        t = src[b]
        l, r = _bracket(t, lengths[b], x)
        k = l if (l == r or x - t[l] <= t[r] - x) else r
        out[b, i, :] = data[b, k, :]


def _previous(data, src, tgt, lengths, out):
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        l, r = _bracket(src[b], lengths[b], tgt[b, i])
        out[b, i, :] = data[b, l, :]


@njit(inline="always")
def _tangent(v, t, L, i, c):
    if L < 2:
        return 0.0
    lo = i - 1 if i > 0 else 0
    hi = i + 1 if i < L - 1 else L - 1
    h = t[hi] - t[lo]
    if h == 0:
        return 0.0
    return (np.float64(v[hi, c]) - np.float64(v[lo, c])) / h


def _cubic(data, src, tgt, lengths, out):
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        x = tgt[b, i]
        t = src[b]
        L = lengths[b]
        l, r = _bracket(t, L, x)
        if l == r:
            out[b, i, :] = data[b, l, :]
            continue
        h = t[r] - t[l]
        s = (x - t[l]) / h
        s2 = s * s
        s3 = s2 * s
        h00 = np.float32(2 * s3 - 3 * s2 + 1)
        h10 = np.float32(s3 - 2 * s2 + s)
        h01 = np.float32(-2 * s3 + 3 * s2)
        h11 = np.float32(s3 - s2)
        hf = np.float32(h)
        v = data[b]
        for c in range(D):
            ml = np.float32(_tangent(v, t, L, l, c))
            mr = np.float32(_tangent(v, t, L, r, c))
            out[b, i, c] = h00 * v[l, c] + h10 * hf * ml + h01 * v[r, c] + h11 * hf * mr


def _pose(data, src, tgt, lengths, out):
    """D = 8: position [0,3) linear, quaternion [3,7) slerp, gripper [7] previous."""
    B, S, D = data.shape
    T = tgt.shape[1]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        x = tgt[b, i]
        t = src[b]
        l, r = _bracket(t, lengths[b], x)
        if l == r:
            out[b, i, :] = data[b, l, :]
            continue
        a = np.float32((x - t[l]) / (t[r] - t[l]))
        for c in range(3):
            vl = data[b, l, c]
            out[b, i, c] = vl + a * (data[b, r, c] - vl)
        dot = np.float32(0)
        for c in range(3, 7):
            dot += data[b, l, c] * data[b, r, c]
        sign = np.float32(1)
        if dot < 0:
            sign = np.float32(-1)
            dot = -dot
        theta = math.acos(min(dot, np.float32(1)))
        if theta < 1e-6:
            w0 = np.float32(1) - a
            w1 = a * sign
        else:
            st = math.sin(theta)
            w0 = np.float32(math.sin((1 - a) * theta) / st)
            w1 = np.float32(math.sin(a * theta) / st) * sign
        n2 = np.float32(0)
        for c in range(3, 7):
            q = w0 * data[b, l, c] + w1 * data[b, r, c]
            out[b, i, c] = q
            n2 += q * q
        inv = np.float32(1) / np.float32(math.sqrt(n2))
        for c in range(3, 7):
            out[b, i, c] *= inv
        out[b, i, 7] = data[b, l, 7]


def _fuse3(d0, t0, d1, t1, d2, t2, tgt, out):
    """Three linear streams onto the same targets, each output row written once, in order."""
    B, T = tgt.shape
    D0, D1, D2 = d0.shape[2], d1.shape[2], d2.shape[2]
    for bt in prange(B * T):
        b = bt // T
        i = bt - b * T
        x = tgt[b, i]
        off = 0
        for k in range(3):
            if k == 0:
                d, t, Dk = d0, t0, D0
            elif k == 1:
                d, t, Dk = d1, t1, D1
            else:
                d, t, Dk = d2, t2, D2
            tb = t[b]
            l, r = _bracket(tb, tb.shape[0], x)
            if l == r:
                for c in range(Dk):
                    out[b, i, off + c] = d[b, l, c]
            else:
                a = np.float32((x - tb[l]) / (tb[r] - tb[l]))
                for c in range(Dk):
                    vl = d[b, l, c]
                    out[b, i, off + c] = vl + a * (d[b, r, c] - vl)
            off += Dk


RESAMPLE_NUMBA = {name: _both(fn) for name, fn in
                  {"linear": _linear, "nearest": _nearest, "previous": _previous, "cubic": _cubic,
                   "pose": _pose}.items()}
FUSE3 = _both(_fuse3)


def resample_numba(data, src, tgt, mode="linear", lengths=None, parallel=True):
    B, S, D = data.shape
    out = np.empty((B, tgt.shape[1], D), data.dtype)
    if lengths is None:
        lengths = np.full(B, S, np.int64)
    RESAMPLE_NUMBA[mode][0 if parallel else 1](data, src, tgt, lengths, out)
    return out


def fuse_numba(streams, tgt, parallel=True):
    (d0, t0), (d1, t1), (d2, t2) = streams
    out = np.empty(tgt.shape + (d0.shape[2] + d1.shape[2] + d2.shape[2],), d0.dtype)
    FUSE3[0 if parallel else 1](d0, t0, d1, t1, d2, t2, tgt, out)
    return out


# ---------------------------------------------------------------- numba: voxelize
@njit(inline="always")
def _cell(points, n, gx, gy, gz, inv_x, vs, X, Y, Z):
    """Flat cell index of point n, or -1 when it falls outside (or is NaN)."""
    i = math.floor((points[n, 0] - gx) / vs)
    j = math.floor((points[n, 1] - gy) / vs)
    k = math.floor((points[n, 2] - gz) / vs)
    if i >= 0 and i < X and j >= 0 and j < Y and k >= 0 and k < Z:
        return (int(i) * Y + int(j)) * Z + int(k)
    return -1


def _occupancy(points, gx, gy, gz, vs, X, Y, Z, out):
    # Every writer stores the same 1.0, so the race between threads is benign.
    for n in prange(points.shape[0]):
        c = _cell(points, n, gx, gy, gz, 0.0, vs, X, Y, Z)
        if c >= 0:
            out[c] = 1.0


def _count(points, gx, gy, gz, vs, X, Y, Z, chunks, out):
    # numba has no atomics on the CPU: a private grid per chunk, then a parallel sum over cells.
    N = points.shape[0]
    V = X * Y * Z
    priv = np.zeros((chunks, V), np.int32)
    for ch in prange(chunks):
        for n in range(ch * N // chunks, (ch + 1) * N // chunks):
            c = _cell(points, n, gx, gy, gz, 0.0, vs, X, Y, Z)
            if c >= 0:
                priv[ch, c] += 1
    for v in prange(V):
        s = 0
        for ch in range(chunks):
            s += priv[ch, v]
        out[v] = s


def _mean(points, feats, gx, gy, gz, vs, X, Y, Z, chunks, out):
    N = points.shape[0]
    F = feats.shape[1]
    V = X * Y * Z
    sums = np.zeros((chunks, V, F), np.float32)
    cnt = np.zeros((chunks, V), np.int32)
    for ch in prange(chunks):
        for n in range(ch * N // chunks, (ch + 1) * N // chunks):
            c = _cell(points, n, gx, gy, gz, 0.0, vs, X, Y, Z)
            if c >= 0:
                cnt[ch, c] += 1
                for f in range(F):
                    sums[ch, c, f] += feats[n, f]
    for v in prange(V):
        k = 0
        for ch in range(chunks):
            k += cnt[ch, v]
        for f in range(F):
            s = np.float32(0)
            for ch in range(chunks):
                s += sums[ch, v, f]
            out[v, f] = s / k if k > 0 else 0.0


def _max(points, feats, gx, gy, gz, vs, X, Y, Z, chunks, out):
    N = points.shape[0]
    F = feats.shape[1]
    V = X * Y * Z
    best = np.full((chunks, V, F), -np.inf, np.float32)
    seen = np.zeros((chunks, V), np.bool_)
    for ch in prange(chunks):
        for n in range(ch * N // chunks, (ch + 1) * N // chunks):
            c = _cell(points, n, gx, gy, gz, 0.0, vs, X, Y, Z)
            if c >= 0:
                seen[ch, c] = True
                for f in range(F):
                    best[ch, c, f] = max(best[ch, c, f], feats[n, f])
    for v in prange(V):
        any_ = False
        for ch in range(chunks):
            any_ = any_ or seen[ch, v]
        for f in range(F):
            m = np.float32(-np.inf)
            for ch in range(chunks):
                m = max(m, best[ch, v, f])
            out[v, f] = m if any_ else 0.0


def _count_batched(points, gx, gy, gz, vs, X, Y, Z, out):
    # One grid per batch row: parallel over rows, no sharing.
    for b in prange(points.shape[0]):
        p = points[b]
        o = out[b]
        for n in range(p.shape[0]):
            c = _cell(p, n, gx, gy, gz, 0.0, vs, X, Y, Z)
            if c >= 0:
                o[c] += 1


VOXEL_NUMBA = {name: _both(fn) for name, fn in
               {"occupancy": _occupancy, "count": _count, "mean": _mean, "max": _max,
                "count_batched": _count_batched}.items()}


def voxelize_numba(points, grid_min, voxel_size, shape, mode="occupancy", features=None, parallel=True,
                   threads=1):
    import numba

    c = points.dtype.type
    X, Y, Z = shape
    g = (c(grid_min[0]), c(grid_min[1]), c(grid_min[2]), c(voxel_size), X, Y, Z)
    fn = VOXEL_NUMBA[mode if points.ndim == 2 else mode + "_batched"][0 if parallel else 1]
    chunks = numba.get_num_threads() if parallel else 1
    if points.ndim == 3:
        out = np.zeros((points.shape[0], X * Y * Z), np.int32)
        fn(points, *g, out)
        return out.reshape((points.shape[0], X, Y, Z))
    if mode == "occupancy":
        out = np.zeros(X * Y * Z, np.float32)
        fn(points, *g, out)
    elif mode == "count":
        out = np.empty(X * Y * Z, np.int32)
        fn(points, *g, chunks, out)
    else:
        out = np.empty((X * Y * Z, features.shape[1]), np.float32)
        fn(points, features, *g, chunks, out)
    return out.reshape(tuple(shape) + out.shape[1:])


# ---------------------------------------------------------------- numpy
def _np_bracket(t, x):
    S = t.shape[0]
    r = np.clip(np.searchsorted(t, x, side="right"), 1, S - 1)
    return r - 1, r


def _np_row(v, t, x, mode):
    """One batch row with numpy: v [L,D], t [L], x [T]."""
    L = t.shape[0]
    if L == 1:
        return np.repeat(v[:1], x.shape[0], axis=0)
    l, r = _np_bracket(t, x)
    if mode == "previous":
        return v[np.where(x >= t[r], r, l)]
    if mode == "nearest":
        k = np.where(x - t[l] <= t[r] - x, l, r)
        return v[k]
    a = np.clip((x - t[l]) / (t[r] - t[l]), 0.0, 1.0)
    if mode == "linear":
        a = a.astype(v.dtype)[:, None]
        return v[l] + a * (v[r] - v[l])
    if mode == "cubic":
        vd = v.astype(np.float64)
        m = np.empty_like(vd)  # ops.md tangents: central differences, one-sided at the ends
        m[1:-1] = (vd[2:] - vd[:-2]) / (t[2:] - t[:-2])[:, None]
        m[0] = (vd[1] - vd[0]) / (t[1] - t[0])
        m[-1] = (vd[-1] - vd[-2]) / (t[-1] - t[-2])
        h = (t[r] - t[l])[:, None]
        s = a[:, None]
        s2, s3 = s * s, s * s * s
        out = (2 * s3 - 3 * s2 + 1) * v[l] + (s3 - 2 * s2 + s) * h * m[l] + (-2 * s3 + 3 * s2) * v[r] \
            + (s3 - s2) * h * m[r]
        return out.astype(v.dtype)
    if mode == "pose":
        out = np.empty((x.shape[0], 8), v.dtype)
        af = a.astype(v.dtype)[:, None]
        out[:, :3] = v[l, :3] + af * (v[r, :3] - v[l, :3])
        q0, q1 = v[l, 3:7], v[r, 3:7]
        dot = np.sum(q0 * q1, axis=1)
        q1 = np.where(dot[:, None] < 0, -q1, q1)
        dot = np.abs(dot)
        theta = np.arccos(np.minimum(dot, 1))
        st = np.sin(theta)
        small = theta < 1e-6
        w0 = np.where(small, 1 - a, np.sin((1 - a) * theta) / np.where(small, 1, st))
        w1 = np.where(small, a, np.sin(a * theta) / np.where(small, 1, st))
        q = w0[:, None] * q0 + w1[:, None] * q1
        out[:, 3:7] = q / np.linalg.norm(q, axis=1, keepdims=True)
        out[:, 7] = v[np.where(x >= t[r], r, l), 7]
        out[x <= t[0]] = v[0]  # holds copy the sample (slerp would flip a quaternion's sign)
        out[x >= t[-1]] = v[-1]
        return out
    raise ValueError(mode)


def resample_numpy(data, src, tgt, mode="linear", lengths=None):
    B, S, D = data.shape
    out = np.empty((B, tgt.shape[-1], D), data.dtype)
    for b in range(B):
        L = S if lengths is None else int(lengths[b])
        out[b] = _np_row(data[b, :L], src[b, :L], tgt[b], mode)
    return out


def fuse_numpy(streams, tgt):
    return np.concatenate([resample_numpy(d, t, tgt) for d, t in streams], axis=-1)


def _np_cells(points, grid_min, voxel_size, shape):
    idx = np.floor((points - np.asarray(grid_min, points.dtype)) / points.dtype.type(voxel_size)).astype(np.int64)
    ok = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=-1)
    flat = (idx[..., 0] * shape[1] + idx[..., 1]) * shape[2] + idx[..., 2]
    return flat, ok


def voxelize_numpy(points, grid_min, voxel_size, shape, mode="occupancy", features=None):
    V = int(np.prod(shape))
    flat, ok = _np_cells(points, grid_min, voxel_size, shape)
    if points.ndim == 3:  # batched count: offset each row's cells by b * V
        B = points.shape[0]
        flat = (flat + np.arange(B)[:, None] * V)[ok]
        return np.bincount(flat, minlength=B * V).astype(np.int32).reshape((B,) + tuple(shape))
    flat = flat[ok]
    if mode == "occupancy":
        out = np.zeros(V, np.float32)
        out[flat] = 1
        return out.reshape(shape)
    if mode == "count":
        return np.bincount(flat, minlength=V).astype(np.int32).reshape(shape)
    f = features[ok]
    F = f.shape[1]
    if mode == "mean":
        cnt = np.bincount(flat, minlength=V)
        out = np.stack([np.bincount(flat, weights=f[:, k], minlength=V) for k in range(F)], axis=1)
        out = np.where(cnt[:, None] > 0, out / np.maximum(cnt, 1)[:, None], 0).astype(np.float32)
        return out.reshape(tuple(shape) + (F,))
    if mode == "max":
        out = np.full((V, F), -np.inf, np.float32)
        np.maximum.at(out, flat, f)
        out[np.isneginf(out)] = 0
        return out.reshape(tuple(shape) + (F,))
    raise ValueError(mode)
