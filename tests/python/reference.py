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


# ---------------------------------------------------------------------------------------------
# Every operation of ops.md: resample (all modes, channel groups, lengths), fuse, voxelize.
#
# Conventions shared by all references below:
# - Values are widened exactly to float64; the result is float64 (compare it with `rounded` for
#   16-bit outputs). Only the time arithmetic is done in the times' own dtype, and the final
#   weight is rounded once to the blend type (float32 for f16/bf16/f32 data, float64 for f64
#   data), as ops.md requires; everything after that is float64.
# - Row rules, in ops.md order (the first that applies wins): NaN target -> NaN row;
#   x <= t[0] -> v[0]; x >= t[L-1] -> v[L-1]; otherwise the mode on [t[l], t[r]] with l the
#   largest index such that t[l] <= x. Holds copy the sample as it is (slerp does not
#   normalise a held sample).
#   (`resample_linear` above lets the last-sample hold win when t[0] == t[L-1] == x; it is kept
#   unchanged for the existing tests, which never build that case.)
# ---------------------------------------------------------------------------------------------

MODES = ("linear", "nearest", "previous", "cubic", "slerp")
SLERP_FALLBACK_RAD = 1e-6


def blend_dtype(value_dtype):
    """The blend type of ops.md: float64 for f64 data, float32 for f16/bf16/f32 data."""
    return np.float64 if np.dtype(value_dtype) == np.float64 else np.float32


def _f64(a):
    return np.asarray(a).astype(np.float64)


def normalize_groups(D, interp="linear", groups=None):
    """The effective groups as a list of (start, size, mode): `groups` or one group of all channels."""
    if groups is None:
        return [(0, D, interp)]
    out = []
    for g in groups:
        out.append((int(g["start"]), int(g["size"]), g["interp"]))
    return out


def channel_modes(D, interp="linear", groups=None):
    """The mode of each channel, a list of D strings."""
    modes = [None] * D
    for start, size, mode in normalize_groups(D, interp, groups):
        for c in range(start, start + size):
            modes[c] = mode
    assert None not in modes, "groups do not tile [0, D)"
    return modes


def _cubic_tangents(t, v):
    """ops.md cubic tangents m[i] over one row's first L samples: float64 [L, C].

    Time differences are taken in the times' dtype (t keeps it); 0 where a denominator is 0.
    """
    L = t.shape[0]
    m = np.zeros_like(v)
    if L < 2:
        return m
    dt = np.empty(L, dtype=t.dtype)
    dv = np.empty_like(v)
    dt[0] = t[1] - t[0]
    dv[0] = v[1] - v[0]
    dt[L - 1] = t[L - 1] - t[L - 2]
    dv[L - 1] = v[L - 1] - v[L - 2]
    if L > 2:
        dt[1:L - 1] = t[2:] - t[:L - 2]
        dv[1:L - 1] = v[2:] - v[:L - 2]
    dt64 = dt.astype(np.float64)
    nz = dt64 != 0
    m[nz] = dv[nz] / dt64[nz, None]
    return m


def hermite_basis(s):
    """Standard cubic Hermite basis h00, h10, h01, h11 at s (float64)."""
    s2, s3 = s * s, s * s * s
    return 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2


def slerp_quaternions(q0, q1, a):
    """ops.md slerp of unit quaternions (rows of 4, float64) with weights a [n].

    Shorter arc (q1 negated where dot < 0), normalised lerp below SLERP_FALLBACK_RAD, result
    normalised.
    """
    q0, q1, a = _f64(q0), _f64(q1).copy(), _f64(a)
    d = np.sum(q0 * q1, axis=-1)
    neg = d < 0
    q1[neg] = -q1[neg]
    d = np.abs(d)
    theta = np.arccos(np.clip(d, -1.0, 1.0))
    small = theta < SLERP_FALLBACK_RAD
    with np.errstate(invalid="ignore", divide="ignore"):
        st = np.sin(theta)
        w0 = np.where(small, 1.0 - a, np.sin((1.0 - a) * theta) / st)
        w1 = np.where(small, a, np.sin(a * theta) / st)
    q = w0[:, None] * q0 + w1[:, None] * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _interior(mode, t, v, x, l, r, blend):
    """Rows for interior targets (t[l] <= x < t[r]) of one group: float64 [n, C]."""
    vl, vr = v[l], v[r]
    if mode == "previous":
        return vl.copy()
    if mode == "nearest":
        take_left = (x - t[l]) <= (t[r] - x)  # in the time dtype; a tie goes to the earlier sample
        return np.where(take_left[:, None], vl, vr)
    # The weight a = (x - t[l]) / (t[r] - t[l]) in the time dtype, rounded once to the blend type.
    h = t[r] - t[l]
    a = ((x - t[l]) / h).astype(blend).astype(np.float64)
    if mode == "linear":
        return vl + a[:, None] * (vr - vl)
    if mode == "cubic":
        m = _cubic_tangents(t, v)
        h64 = h.astype(np.float64)[:, None]
        h00, h10, h01, h11 = hermite_basis(a[:, None])
        return h00 * vl + h10 * h64 * m[l] + h01 * vr + h11 * h64 * m[r]
    if mode == "slerp":
        assert v.shape[1] == 4, "slerp needs groups of 4 channels"
        return slerp_quaternions(vl, vr, a)
    raise ValueError(f"unknown mode {mode!r}")


def resample(data, src_times, tgt_times, interp="linear", groups=None, lengths=None):
    """ops.md §1 for every mode, channel groups and lengths: float64 [B, T, D].

    data [B,S,D] (any float dtype incl. bfloat16), src_times [B,S] or [S], tgt_times [B,T] or [T]
    (both f32 or both f64), groups None or dicts {"start","size","interp"}, lengths None or [B].
    """
    data = np.asarray(data)
    blend = blend_dtype(data.dtype)
    v_all = _f64(data)
    B, S, D = v_all.shape
    tdt = np.result_type(np.asarray(src_times).dtype, np.asarray(tgt_times).dtype)
    src = np.broadcast_to(np.asarray(src_times, dtype=tdt), (B, S))
    tgt = np.asarray(tgt_times, dtype=tdt)
    T = tgt.shape[-1]
    tgt = np.broadcast_to(tgt, (B, T))
    lens = np.full(B, S, dtype=np.int64) if lengths is None else np.asarray(lengths).astype(np.int64)
    grps = normalize_groups(D, interp, groups)
    out = np.empty((B, T, D))
    for b in range(B):
        L = int(lens[b])
        assert 1 <= L <= S
        t, x = src[b, :L], tgt[b]
        nan = np.isnan(x)
        first = ~nan & (x <= t[0])
        last = ~nan & ~first & (x >= t[L - 1])
        inner = ~(nan | first | last)
        xi = x[inner]
        l = np.searchsorted(t, xi, side="right") - 1
        r = l + 1
        row = np.empty((T, D))
        for start, size, mode in grps:
            v = v_all[b, :L, start:start + size]
            row[first, start:start + size] = v[0]
            row[last, start:start + size] = v[L - 1]
            if inner.any():
                row[inner, start:start + size] = _interior(mode, t, v, xi, l, r, blend)
        row[nan] = np.nan
        out[b] = row
    return out


def fuse(streams, tgt_times, interp="linear"):
    """ops.md §2: each modality resampled as by `resample`, concatenated over channels: float64.

    streams: (data, times) or (data, times, lengths) tuples; interp: one mode or one per stream.
    """
    modes = [interp] * len(streams) if isinstance(interp, str) else list(interp)
    parts = []
    for s, mode in zip(streams, modes):
        data, times = s[0], s[1]
        lengths = s[2] if len(s) > 2 else None
        parts.append(resample(data, times, tgt_times, interp=mode, lengths=lengths))
    return np.concatenate(parts, axis=-1)


VOXEL_DEFAULT_OUT = {"occupancy": np.float32, "count": np.int32, "mean": np.float32, "max": np.float32}


def voxel_indices(points, grid_min, voxel_size, grid_shape):
    """Per-point flat voxel index (x-major) and a keep mask, computed in the coord dtype.

    points [..., 3]; returns (flat int64 [...], keep bool [...]). A point is dropped when any
    coordinate is NaN or any index is outside [0, shape).
    """
    pts = np.asarray(points)
    cdt = pts.dtype
    gmin = np.asarray(grid_min, dtype=np.float64).astype(cdt)
    vs = np.broadcast_to(np.asarray(voxel_size, dtype=np.float64), (3,)).astype(cdt)
    shape = np.asarray(grid_shape, dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        f = np.floor((pts - gmin) / vs)  # float arithmetic in the coord dtype
        keep = np.all((f >= 0) & (f < shape.astype(np.float64)), axis=-1)
    idx = np.where(keep[..., None], f, 0).astype(np.int64)
    flat = (idx[..., 0] * shape[1] + idx[..., 1]) * shape[2] + idx[..., 2]
    return flat, keep


def voxelize(points, grid_min, voxel_size, grid_shape, mode="occupancy", features=None, lengths=None,
             out_dtype=None):
    """ops.md §3: [X,Y,Z] or [B,X,Y,Z] (+F for mean/max) in `out_dtype` (default per mode).

    mean is summed in float64 and divided once, then rounded to the output dtype; max is exact;
    empty voxels are 0.
    """
    pts = np.asarray(points)
    batched = pts.ndim == 3
    if not batched:
        pts = pts[None]
        if features is not None:
            features = np.asarray(features)[None]
    B, N, _ = pts.shape
    X, Y, Z = (int(s) for s in grid_shape)
    cells = X * Y * Z
    out_dt = np.dtype(out_dtype if out_dtype is not None else VOXEL_DEFAULT_OUT[mode])
    flat, keep = voxel_indices(pts, grid_min, voxel_size, grid_shape)
    if lengths is not None:
        keep = keep & (np.arange(N)[None, :] < np.asarray(lengths).astype(np.int64)[:, None])
    feat = mode in ("mean", "max")
    F = np.asarray(features).shape[-1] if feat else 0
    out = np.zeros((B, cells, F) if feat else (B, cells), dtype=np.float64)
    for b in range(B):
        idx = flat[b][keep[b]]
        counts = np.bincount(idx, minlength=cells)
        if mode == "occupancy":
            out[b] = counts > 0
        elif mode == "count":
            out[b] = counts
        else:
            fb = _f64(features[b])[keep[b]]
            if mode == "mean":
                sums = np.zeros((cells, F))
                np.add.at(sums, idx, fb)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[b] = np.where(counts[:, None] > 0, sums / counts[:, None], 0.0)
            else:
                # ops.md §3: NaN features are ignored like fmax; a channel whose features are all
                # NaN gives NaN (the NaN start value survives every fmax with NaN).
                mx = np.full((cells, F), np.nan)
                np.fmax.at(mx, idx, fb)
                out[b] = np.where(counts[:, None] > 0, mx, 0.0)
    out = out.reshape((B, X, Y, Z, F) if feat else (B, X, Y, Z)).astype(out_dt)
    return out if batched else out[0]


# ---------------------------------------------------------------------------------------------
# Comparison helpers shared by the CPU and GPU property tests.
# ---------------------------------------------------------------------------------------------

_SIXTEEN_BIT = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def assert_resample_close(out, ref, dtype, modes):
    """Checks a resample/fuse output against the float64 reference, channel by channel.

    modes: the mode of each channel. Tolerances:
    - nearest/previous pick a sample (and holds copy one): bit exact in every dtype;
    - f32: linear rtol/atol 1e-5, cubic 1e-4 (several f32 roundings in the Hermite sum and the
      tangents), slerp atol 1e-5 on unit quaternions;
    - f64: 1e-10 for every mode;
    - f16/bf16: linear within 1 ulp of `rounded(ref)` (the f32 fma result is correctly rounded,
      rounding it to 16 bits adds at most one more ulp); cubic/slerp within 2 ulps, because their
      f32 result carries a few f32 roundings, which can push a value that lies near a 16-bit
      rounding boundary one ulp further; where the exact result is near 0 (16-bit ulps there
      are far below the f32 error of those terms) the f32 tolerance of the mode applies instead.
    NaN positions must match exactly.
    """
    out = np.asarray(out)
    dtype = np.dtype(dtype)
    assert out.dtype == dtype, f"output dtype {out.dtype}, expected {dtype}"
    assert out.shape == ref.shape, f"output shape {out.shape}, expected {ref.shape}"
    o64 = out.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(o64), np.isnan(ref), err_msg="NaN positions differ")
    modes = np.asarray(modes)
    for mode in np.unique(modes):
        ch = np.nonzero(modes == mode)[0]
        o, rf = o64[..., ch], ref[..., ch]
        ok = ~np.isnan(rf)
        o, rf = o[ok], rf[ok]
        if o.size == 0:
            continue
        if mode in ("nearest", "previous"):
            want = rf.astype(dtype).astype(np.float64)
            np.testing.assert_array_equal(o, want, err_msg=f"mode {mode} must pick samples exactly")
            continue
        if dtype == np.float64:
            np.testing.assert_allclose(o, rf, rtol=1e-10, atol=1e-10, err_msg=f"mode {mode}")
            continue
        tol = {"linear": 1e-5, "cubic": 1e-4, "slerp": 1e-5}[mode]
        if dtype == np.float32:
            if mode == "slerp":
                np.testing.assert_allclose(o, rf, rtol=0, atol=tol, err_msg="mode slerp")
            else:
                np.testing.assert_allclose(o, rf, rtol=tol, atol=tol, err_msg=f"mode {mode}")
            continue
        assert dtype in _SIXTEEN_BIT
        want = rounded(rf, dtype)
        ulps = ulp_distance(o.astype(dtype), want)
        max_ulps = 1 if mode == "linear" else 2
        bad = ulps > max_ulps
        if mode != "linear":
            bad &= np.abs(o - rf) > tol
        assert not bad.any(), (
            f"mode {mode} {dtype}: {int(bad.sum())} values beyond {max_ulps} ulp; "
            f"first got {o[bad][:5]}, want {want[bad][:5].astype(np.float64)} (exact {rf[bad][:5]})"
        )


def _is_float(dtype):
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype == np.dtype(ml_dtypes.bfloat16)


def assert_same_bits(a, b, err_msg=""):
    """a and b have the same dtype, shape and bits (NaN positions must match; NaN payloads may differ)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"dtype {a.dtype} != {b.dtype} {err_msg}"
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape} {err_msg}"
    if not _is_float(a.dtype):
        np.testing.assert_array_equal(a, b, err_msg=err_msg)
        return
    na, nb = np.isnan(a.astype(np.float64)), np.isnan(b.astype(np.float64))
    np.testing.assert_array_equal(na, nb, err_msg=f"NaN positions differ {err_msg}")
    uint = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    ba, bb = np.ascontiguousarray(a).view(uint), np.ascontiguousarray(b).view(uint)
    diff = (ba != bb) & ~na
    assert not diff.any(), (
        f"{int(diff.sum())} of {a.size} values differ in their bits {err_msg}; first at "
        f"{np.argwhere(diff)[:3].tolist()}: {a[diff][:3]} vs {b[diff][:3]}"
    )
