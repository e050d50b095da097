"""Property tests of every operation on the CPU backend against the float64 references of ops.md.

Hypothesis draws the shapes, modes, dtypes, lengths, channel groups and layouts; the values are
made by numpy from a drawn seed, so that they are generic (no accidental ties, no quaternion pairs
at exactly 90 degrees) while the structure that matters (repeated timestamps, exact hits, NaN
targets, lattice-aligned points) is drawn explicitly. The runs are derandomized: CI sees the same
examples every time.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
import robocache

pytestmark = pytest.mark.skipif(
    not robocache.check_installation()["cpu"]["available"], reason="built without the CPU backend"
)

VALUE_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16}
TIME_DTYPES = {"f32": np.float32, "f64": np.float64}
NON_SLERP = ["linear", "nearest", "previous", "cubic"]


def fast(n):
    """Settings of one property: n examples, reproducible, no per-example deadline (JIT compiles)."""
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ============================================================================ case builders (numpy)


def strided_copy(a, rng):
    """A non-contiguous view with the same values as `a` (a transposed buffer, or every other
    element of a wider array), so the backend must honour strides or copy."""
    a = np.asarray(a)
    if a.size <= 1:
        return a
    if a.ndim >= 2 and a.shape[-1] > 1 and a.shape[-2] > 1 and rng.random() < 0.5:
        view = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    else:
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., 1::2] = a
        view = wide[..., 1::2]
    assert not view.flags.c_contiguous
    return view


def make_src_times(rng, B, S, shared, tdt, style, epoch):
    shape = (S,) if shared else (B, S)
    if style == "repeats":  # few distinct stamps: repeated timestamps everywhere
        t = rng.integers(0, max(2, S // 2), size=shape) * 0.5
    else:
        t = rng.uniform(0.0, 10.0, size=shape)
    return (np.sort(t, axis=-1) + epoch).astype(tdt)  # a monotonic cast keeps the order


def make_tgt_times(rng, src, B, T, shared, tdt, epoch, nan_targets, lengths=None):
    """Uniform targets around the source span, a quarter of them exact hits of source times, some
    exactly at a row's last valid sample, some midpoints of neighbours, and (if asked) some NaN."""
    shape = (T,) if shared else (B, T)
    x = (rng.uniform(-1.0, 11.0, size=shape) + epoch).astype(tdt)
    srcb = np.broadcast_to(src, (B, src.shape[-1]))
    for idx in np.ndindex(*shape):
        u = rng.random()
        b = 0 if shared else idx[0]
        L = srcb.shape[1] if lengths is None else int(lengths[b])
        if u < 0.25:
            x[idx] = srcb[b, rng.integers(0, L)]
        elif u < 0.3:
            x[idx] = srcb[b, L - 1]
        elif u < 0.4 and L > 1:  # midpoints: ties of `nearest` (the earlier sample wins)
            i = rng.integers(0, L - 1)
            x[idx] = (srcb[b, i] + srcb[b, i + 1]) / tdt(2)
        elif nan_targets and u < 0.46:
            x[idx] = np.nan
    return x


def random_quaternions(rng, shape_lead, style):
    """Unit quaternions [..., 4]: independent, or a slow random walk (small angles between
    neighbours, down to the nlerp fallback below 1e-6 rad)."""
    if style == "walk":
        B, S = shape_lead
        q = np.empty((B, S, 4))
        q[:, 0] = rng.standard_normal((B, 4))
        step = 10.0 ** rng.uniform(-9, -1, size=(B, S, 1))
        for s in range(1, S):
            q[:, s] = q[:, s - 1] + step[:, s] * rng.standard_normal((B, 4))
            q[:, s] /= np.linalg.norm(q[:, s], axis=-1, keepdims=True)
    else:
        q = rng.standard_normal(tuple(shape_lead) + (4,))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    # Random signs: the shorter-arc rule must flip about half of the neighbour pairs.
    return q * rng.choice([-1.0, 1.0], size=tuple(shape_lead) + (1,))


def make_values(rng, B, S, groups, vdt, quat_style):
    D = sum(size for _, size, _ in groups)
    data = rng.standard_normal((B, S, D)) * rng.choice([1.0, 100.0])
    for start, size, mode in groups:
        if mode == "slerp":
            data[..., start:start + size] = random_quaternions(rng, (B, S), quat_style)
    return data.astype(vdt)


# ============================================================================ hypothesis strategies


@st.composite
def groupings(draw, D=None, allow_slerp=True):
    """A list of (start, size, mode) tiling [0, D) with random modes; slerp groups have size 4."""
    if D is None:
        D = draw(st.integers(1, 12))
    groups, start = [], 0
    while start < D:
        left = D - start
        modes = NON_SLERP + (["slerp"] if allow_slerp and left >= 4 else [])
        mode = draw(st.sampled_from(modes))
        size = 4 if mode == "slerp" else draw(st.integers(1, left))
        groups.append((start, size, mode))
        start += size
    return groups


@st.composite
def resample_cases(draw, grouped):
    vname = draw(st.sampled_from(sorted(VALUE_DTYPES)))
    tname = draw(st.sampled_from(sorted(TIME_DTYPES)))
    B = draw(st.integers(1, 4))
    S = draw(st.integers(1, 64))
    T = draw(st.integers(1, 64))
    if grouped:
        groups = draw(groupings())
    else:
        mode = draw(st.sampled_from(ref.MODES))
        D = 4 if mode == "slerp" else draw(st.integers(1, 12))
        groups = [(0, D, mode)]
    return dict(
        vname=vname,
        tname=tname,
        B=B,
        S=S,
        T=T,
        groups=groups,
        grouped=grouped,
        shared_src=draw(st.booleans()),
        shared_tgt=draw(st.booleans()),
        lengths=draw(st.sampled_from([None, "int32", "int64"])),
        time_style=draw(st.sampled_from(["uniform", "repeats"])),
        epoch=draw(st.sampled_from([0.0, 1.7e9])) if tname == "f64" else 0.0,
        quat_style=draw(st.sampled_from(["independent", "walk"])),
        nan_targets=draw(st.booleans()),
        strided=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def build_resample(c):
    rng = np.random.default_rng(c["seed"])
    vdt, tdt = VALUE_DTYPES[c["vname"]], TIME_DTYPES[c["tname"]]
    B, S, T = c["B"], c["S"], c["T"]
    lengths = None
    if c["lengths"] is not None:
        lengths = rng.integers(1, S + 1, size=B).astype(c["lengths"])
    data = make_values(rng, B, S, c["groups"], vdt, c["quat_style"])
    src = make_src_times(rng, B, S, c["shared_src"], tdt, c["time_style"], c["epoch"])
    tgt = make_tgt_times(rng, src, B, T, c["shared_tgt"], tdt, c["epoch"], c["nan_targets"],
                         lengths if not c["shared_tgt"] else None)
    if lengths is not None:  # samples past a row's length are garbage the kernel must not read
        for b in range(B):
            data[b, lengths[b]:] = np.asarray(np.nan).astype(vdt)
    return rng, data, src, tgt, lengths


def api_kwargs(c):
    if c["grouped"]:
        return {"groups": [{"start": s, "size": n, "interp": m} for s, n, m in c["groups"]]}
    return {"interp": c["groups"][0][2]}


def modes_of(groups):
    return [m for _, size, m in groups for _ in range(size)]


# ============================================================================ resample


def check_resample_case(c):
    rng, data, src, tgt, lengths = build_resample(c)
    kw = api_kwargs(c)
    out = robocache.resample_trajectories(data, src, tgt, lengths=lengths, **kw)
    assert isinstance(out, np.ndarray)
    want = ref.resample(data, src, tgt, lengths=lengths, **kw)
    ref.assert_resample_close(out, want, data.dtype, modes_of(c["groups"]))
    if c["strided"]:
        args = [strided_copy(a, rng) for a in (data, src, tgt)]
        lens = None if lengths is None else strided_copy(lengths, rng)
        out_s = robocache.resample_trajectories(*args, lengths=lens, **kw)
        ref.assert_same_bits(out_s, out)


@fast(150)
@given(resample_cases(grouped=False))
def test_resample_one_mode_matches_reference(c):
    check_resample_case(c)


@fast(100)
@given(resample_cases(grouped=True))
def test_resample_channel_groups_match_reference(c):
    check_resample_case(c)


@fast(15)
@given(st.sampled_from(ref.MODES), st.sampled_from(sorted(VALUE_DTYPES)), st.integers(0, 2**32 - 1))
def test_exact_hits_and_holds_return_the_sample(mode, vname, seed):
    """At x == t[i] (distinct stamps) every mode but slerp returns v[i] bit for bit; holds copy
    the first/last sample in every mode (a held quaternion is not renormalised)."""
    rng = np.random.default_rng(seed)
    vdt = VALUE_DTYPES[vname]
    D = 4 if mode == "slerp" else 3
    data = make_values(rng, 2, 12, [(0, D, mode)], vdt, "independent")
    if mode == "slerp":  # a non-unit sample at each end shows that holds are copies
        data[:, 0] = (data[:, 0].astype(np.float64) * 1.5).astype(vdt)
        data[:, -1] = (data[:, -1].astype(np.float64) * 0.5).astype(vdt)
    src = np.cumsum(rng.uniform(0.01, 1.0, size=(2, 12)), axis=1)
    tgt = np.concatenate([src[:, :1] - 1.0, src[:, :1], src, src[:, -1:], src[:, -1:] + 1.0], axis=1)
    out = robocache.resample_trajectories(data, src, tgt, interp=mode)
    holds_first = out[:, :3].astype(np.float64)
    holds_last = out[:, -2:].astype(np.float64)
    np.testing.assert_array_equal(holds_first, np.repeat(data[:, :1].astype(np.float64), 3, axis=1))
    np.testing.assert_array_equal(holds_last, np.repeat(data[:, -1:].astype(np.float64), 2, axis=1))
    if mode != "slerp":
        ref.assert_same_bits(out[:, 2:-2], data)


@fast(10)
@given(st.sampled_from(ref.MODES), st.sampled_from(sorted(TIME_DTYPES)), st.integers(0, 2**32 - 1))
def test_zero_padded_times_past_a_rows_length_are_ignored(mode, tname, seed):
    """A padded batch: times (and data) past L_b are zeros, so each row's time array decreases
    after its last valid sample. Only t[0..L_b-1] is part of the row (ops.md §1), so validation
    must not reject it and the results must equal each row resampled alone."""
    rng = np.random.default_rng(seed)
    tdt = TIME_DTYPES[tname]
    B, S, T = 3, 20, 25
    D = 4 if mode == "slerp" else 3
    data = make_values(rng, B, S, [(0, D, mode)], np.float32, "independent")
    src = make_src_times(rng, B, S, False, tdt, "uniform", 0.0) + tdt(1.0)
    lengths = np.array([S, 1, rng.integers(2, S)], dtype=np.int64)
    tgt = make_tgt_times(rng, src, B, T, False, tdt, 0.0, False, lengths)
    for b in range(B):
        data[b, lengths[b]:] = 0
        src[b, lengths[b]:] = 0
    out = robocache.resample_trajectories(data, src, tgt, interp=mode, lengths=lengths)
    for b in range(B):
        L = lengths[b]
        alone = robocache.resample_trajectories(data[b:b + 1, :L], src[b:b + 1, :L], tgt[b:b + 1], interp=mode)
        ref.assert_same_bits(out[b:b + 1], alone)
    ref.assert_resample_close(out, ref.resample(data, src, tgt, mode, lengths=lengths), np.float32, [mode] * D)


# ============================================================================ fuse


@st.composite
def fuse_cases(draw):
    n = draw(st.integers(1, 3))
    mods = []
    for _ in range(n):
        mode = draw(st.sampled_from(ref.MODES))
        D = 4 if mode == "slerp" else draw(st.integers(1, 5))
        mods.append(
            dict(
                mode=mode,
                D=D,
                S=draw(st.integers(1, 32)),
                shared=draw(st.booleans()),
                lengths=draw(st.sampled_from([None, "int32", "int64"])),
                style=draw(st.sampled_from(["uniform", "repeats"])),
            )
        )
    return dict(
        mods=mods,
        one_mode=draw(st.booleans()),
        vname=draw(st.sampled_from(sorted(VALUE_DTYPES))),
        tname=draw(st.sampled_from(sorted(TIME_DTYPES))),
        B=draw(st.integers(1, 4)),
        T=draw(st.integers(1, 48)),
        shared_tgt=draw(st.booleans()),
        strided=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@fast(80)
@given(fuse_cases())
def test_fuse_matches_reference_and_resample(c):
    rng = np.random.default_rng(c["seed"])
    vdt, tdt = VALUE_DTYPES[c["vname"]], TIME_DTYPES[c["tname"]]
    B, T = c["B"], c["T"]
    mods = c["mods"]
    if c["one_mode"]:  # one mode for all: the first modality's, unless it cannot apply to all
        m0 = mods[0]["mode"]
        if m0 == "slerp" and any(m["D"] != 4 for m in mods):
            m0 = "linear"
        for m in mods:
            m["mode"] = m0
    streams = []
    for m in mods:
        S = m["S"]
        data = make_values(rng, B, S, [(0, m["D"], m["mode"])], vdt, "independent")
        times = make_src_times(rng, B, S, m["shared"], tdt, m["style"], 0.0)
        if m["lengths"] is None:
            streams.append((data, times))
        else:
            streams.append((data, times, rng.integers(1, S + 1, size=B).astype(m["lengths"])))
    tgt = make_tgt_times(rng, streams[0][1], B, T, c["shared_tgt"], tdt, 0.0, nan_targets=True)
    interp = mods[0]["mode"] if c["one_mode"] else [m["mode"] for m in mods]
    out = robocache.fuse_multimodal(streams, tgt, interp=interp)
    assert isinstance(out, np.ndarray)
    want = ref.fuse(streams, tgt, interp)
    modes = [m["mode"] for m in mods for _ in range(m["D"])]
    ref.assert_resample_close(out, want, vdt, modes)
    # Each modality exactly as resample_trajectories computes it, at its channel offset.
    off = 0
    for s, m in zip(streams, mods):
        alone = robocache.resample_trajectories(s[0], s[1], tgt, interp=m["mode"],
                                                lengths=s[2] if len(s) > 2 else None)
        ref.assert_same_bits(out[..., off:off + m["D"]], alone)
        off += m["D"]
    if c["strided"]:
        strided = [tuple(strided_copy(a, rng) for a in s) for s in streams]
        out_s = robocache.fuse_multimodal(strided, strided_copy(tgt, rng), interp=interp)
        ref.assert_same_bits(out_s, out)


# ============================================================================ voxelize


VOXEL_SIZES = [0.1, 0.125, 0.25, 0.3, 0.5, 1.0]
OUT_DTYPES = {
    "occupancy": [None, np.float32, np.float64, np.uint8, np.int32],
    "count": [None, np.int32],
    "mean": [None, np.float32, np.float64],
    "max": [None, np.float32, np.float64],
}


@st.composite
def voxel_cases(draw):
    mode = draw(st.sampled_from(["occupancy", "count", "mean", "max"]))
    batched = draw(st.booleans())
    return dict(
        mode=mode,
        batched=batched,
        B=draw(st.integers(1, 4)) if batched else None,
        N=draw(st.integers(0, 500)),
        F=draw(st.integers(1, 4)) if mode in ("mean", "max") else 0,
        shape=tuple(draw(st.integers(1, 16)) for _ in range(3)),
        grid_min=tuple(draw(st.integers(-8, 8)) * 0.25 for _ in range(3)),
        voxel_size=draw(st.one_of(st.sampled_from(VOXEL_SIZES),
                                  st.tuples(*[st.sampled_from(VOXEL_SIZES)] * 3))),
        coord=draw(st.sampled_from(["f32", "f64"])),
        out_dtype=draw(st.sampled_from(OUT_DTYPES[mode])),
        lengths=draw(st.sampled_from([None, "int32", "int64"])) if batched else None,
        strided=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def build_voxel(c):
    rng = np.random.default_rng(c["seed"])
    cdt = TIME_DTYPES[c["coord"]]
    lead = (c["B"], c["N"]) if c["batched"] else (c["N"],)
    gmin = np.array(c["grid_min"])
    vs = np.broadcast_to(np.asarray(c["voxel_size"], dtype=np.float64), (3,))
    extent = vs * np.array(c["shape"])
    # Points over the grid and 20% beyond each side (those must be dropped, not clamped) ...
    pts = gmin + rng.uniform(-0.2, 1.2, size=lead + (3,)) * extent
    # ... some on voxel faces (including the far face of the grid, index == shape: dropped) ...
    on_face = rng.random(lead + (3,)) < 0.15
    k = rng.integers(0, np.array(c["shape"]) + 1, size=lead + (3,))
    pts = np.where(on_face, gmin + k * vs, pts)
    # ... and a few with a NaN coordinate.
    nan = rng.random(lead + (3,)) < 0.01
    pts = np.where(nan, np.nan, pts).astype(cdt)
    feats = None
    if c["F"]:
        fdt = np.float64 if c["out_dtype"] == np.float64 else np.float32
        feats = (rng.standard_normal(lead + (c["F"],)) * 10).astype(fdt)
    lengths = None
    if c["lengths"] is not None:
        lengths = rng.integers(0, c["N"] + 1, size=c["B"]).astype(c["lengths"])
    return rng, pts, feats, lengths


def voxel_call(c, pts, feats, lengths):
    kw = {}
    if c["out_dtype"] is not None:
        kw["out_dtype"] = c["out_dtype"]
    if feats is not None:
        kw["features"] = feats
    if lengths is not None:
        kw["lengths"] = lengths
    return robocache.voxelize_pointcloud(pts, c["grid_min"], c["voxel_size"], c["shape"], mode=c["mode"], **kw)


def check_voxel(out, want, mode):
    assert isinstance(out, np.ndarray)
    assert out.dtype == want.dtype, f"dtype {out.dtype}, expected {want.dtype}"
    assert out.shape == want.shape, f"shape {out.shape}, expected {want.shape}"
    if mode == "mean":
        tol = 1e-12 if want.dtype == np.float64 else 1e-5  # the sum's order is free (ops.md §3)
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    else:  # occupancy, count and max are exact
        np.testing.assert_array_equal(out, want)


@fast(150)
@given(voxel_cases())
def test_voxelize_matches_reference(c):
    rng, pts, feats, lengths = build_voxel(c)
    out = voxel_call(c, pts, feats, lengths)
    want = ref.voxelize(pts, c["grid_min"], c["voxel_size"], c["shape"], c["mode"], feats, lengths,
                        c["out_dtype"])
    check_voxel(out, want, c["mode"])
    if c["strided"]:
        out_s = voxel_call(c, strided_copy(pts, rng), None if feats is None else strided_copy(feats, rng),
                           None if lengths is None else strided_copy(lengths, rng))
        check_voxel(out_s, want, c["mode"])


@fast(10)
@given(st.integers(1, 4), st.integers(0, 300), st.sampled_from(["f32", "f64"]), st.integers(0, 2**32 - 1))
def test_batched_voxelize_is_each_cloud_voxelized_alone(B, N, coord, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 3, size=(B, N, 3)).astype(TIME_DTYPES[coord])
    lengths = rng.integers(0, N + 1, size=B)
    counts = robocache.voxelize_pointcloud(pts, (0, 0, 0), 0.25, (8, 8, 8), mode="count", lengths=lengths)
    assert counts.shape == (B, 8, 8, 8) and counts.dtype == np.int32
    for b in range(B):
        alone = robocache.voxelize_pointcloud(pts[b, :lengths[b]], (0, 0, 0), 0.25, (8, 8, 8), mode="count")
        np.testing.assert_array_equal(counts[b], alone)


# ============================================================================ large inputs


@pytest.mark.parametrize("vname", ["f32", "bf16"])
def test_large_resample_with_groups_uses_the_thread_pool_and_stays_correct(vname):
    """Sizes past the hypothesis range, where the CPU backend splits the work across threads."""
    rng = np.random.default_rng(21)
    groups = [(0, 3, "linear"), (3, 4, "slerp"), (7, 2, "cubic"), (9, 1, "nearest"), (10, 1, "previous")]
    B, S, T = 6, 700, 3000
    vdt = VALUE_DTYPES[vname]
    data = make_values(rng, B, S, groups, vdt, "walk")
    src = make_src_times(rng, B, S, False, np.float64, "uniform", 1.7e9)
    lengths = rng.integers(1, S + 1, size=B)
    tgt = make_tgt_times(rng, src, B, T, False, np.float64, 1.7e9, True, lengths)
    kw = {"groups": [{"start": s, "size": n, "interp": m} for s, n, m in groups]}
    out = robocache.resample_trajectories(data, src, tgt, lengths=lengths, **kw)
    ref.assert_resample_close(out, ref.resample(data, src, tgt, lengths=lengths, **kw), vdt, modes_of(groups))


def test_large_fuse_stays_correct():
    rng = np.random.default_rng(22)
    B, T = 4, 4000
    streams = [
        (make_values(rng, B, 900, [(0, 6, "cubic")], np.float32, "independent"),
         make_src_times(rng, B, 900, False, np.float64, "uniform", 0.0)),
        (make_values(rng, B, 300, [(0, 4, "slerp")], np.float32, "walk"),
         make_src_times(rng, B, 300, True, np.float64, "uniform", 0.0)),
        (make_values(rng, B, 50, [(0, 1, "previous")], np.float32, "independent"),
         make_src_times(rng, B, 50, False, np.float64, "repeats", 0.0), np.array([50, 1, 20, 49])),
    ]
    tgt = make_tgt_times(rng, streams[0][1], B, T, False, np.float64, 0.0, True)
    modes = ["cubic", "slerp", "previous"]
    out = robocache.fuse_multimodal(streams, tgt, interp=modes)
    ref.assert_resample_close(out, ref.fuse(streams, tgt, modes), np.float32, ["cubic"] * 6 + ["slerp"] * 4 + ["previous"])


@pytest.mark.parametrize("mode", ["occupancy", "count", "mean", "max"])
def test_large_clouds_into_few_voxels_stay_exact(mode):
    """Many points per voxel (contended updates): count, occupancy and max stay exact."""
    rng = np.random.default_rng(23)
    B, N = 3, 60_000
    pts = rng.uniform(-0.1, 1.1, size=(B, N, 3)).astype(np.float32)
    feats = rng.standard_normal((B, N, 2)).astype(np.float32) if mode in ("mean", "max") else None
    lengths = np.array([N, 12_345, 0])
    args = ((0.0, 0.0, 0.0), 0.25, (4, 4, 4))
    out = robocache.voxelize_pointcloud(pts, *args, mode=mode, features=feats, lengths=lengths)
    want = ref.voxelize(pts, *args, mode, feats, lengths)
    if mode == "mean":  # ~1000 f32 additions per voxel in any order: sum error ~ 1e-4 relative at most
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    else:
        ref.assert_same_bits(out, want)
