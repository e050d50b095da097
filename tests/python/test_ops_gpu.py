"""Every operation with torch CUDA tensors: the float64 references, CPU agreement, one launch per
fuse, and backend/device errors. Skipped (conftest) without a CUDA device and torch."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference as ref
import robocache
from test_ops_properties import (
    VALUE_DTYPES,
    api_kwargs,
    build_resample,
    build_voxel,
    fast,
    fuse_cases,
    make_src_times,
    make_tgt_times,
    make_values,
    modes_of,
    resample_cases,
    voxel_cases,
    TIME_DTYPES,
)

pytestmark = pytest.mark.gpu

CPU = robocache.check_installation()["cpu"]["available"]


def to_torch(a, strided=False, device="cuda"):
    """A torch tensor on `device` with the values of numpy array `a` (a strided view if asked)."""
    import torch

    a = np.ascontiguousarray(a)
    if a.dtype == ml_dtypes.bfloat16:
        t = torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    else:
        t = torch.from_numpy(a)
    t = t.to(device)
    if strided and t.numel() > 1:
        wide = torch.zeros(t.shape[:-1] + (2 * t.shape[-1],), dtype=t.dtype, device=device)
        wide[..., 1::2] = t
        t = wide[..., 1::2]
        assert not t.is_contiguous()
    return t


def to_numpy(t):
    import torch

    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def opt(a, **kw):
    return None if a is None else to_torch(a, **kw)


def check_cuda_tensor(out, dtype_name):
    import torch

    assert isinstance(out, torch.Tensor) and out.is_cuda
    assert out.dtype == {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16,
                         "bf16": torch.bfloat16}[dtype_name]


# ============================================================================ against the references


@fast(25)
@given(st.booleans().flatmap(lambda g: resample_cases(grouped=g)))
def test_cuda_resample_matches_reference(c):
    _, data, src, tgt, lengths = build_resample(c)
    kw = api_kwargs(c)
    s = c["strided"]
    out = robocache.resample_trajectories(to_torch(data, s), to_torch(src, s), to_torch(tgt, s),
                                          lengths=opt(lengths, strided=s), **kw)
    check_cuda_tensor(out, c["vname"])
    want = ref.resample(data, src, tgt, lengths=lengths, **kw)
    ref.assert_resample_close(to_numpy(out), want, data.dtype, modes_of(c["groups"]))


@fast(15)
@given(fuse_cases())
def test_cuda_fuse_matches_reference(c):
    rng = np.random.default_rng(c["seed"])
    vdt, tdt = VALUE_DTYPES[c["vname"]], TIME_DTYPES[c["tname"]]
    B, T = c["B"], c["T"]
    streams, modes = [], []
    for m in c["mods"]:
        data = make_values(rng, B, m["S"], [(0, m["D"], m["mode"])], vdt, "independent")
        times = make_src_times(rng, B, m["S"], m["shared"], tdt, m["style"], 0.0)
        lengths = None if m["lengths"] is None else rng.integers(1, m["S"] + 1, size=B).astype(m["lengths"])
        streams.append((data, times) if lengths is None else (data, times, lengths))
        modes.append(m["mode"])
    tgt = make_tgt_times(rng, streams[0][1], B, T, c["shared_tgt"], tdt, 0.0, nan_targets=True)
    s = c["strided"]
    out = robocache.fuse_multimodal([tuple(to_torch(a, s) for a in st_) for st_ in streams], to_torch(tgt, s),
                                    interp=modes)
    check_cuda_tensor(out, c["vname"])
    want = ref.fuse(streams, tgt, modes)
    ref.assert_resample_close(to_numpy(out), want, vdt, [m["mode"] for m in c["mods"] for _ in range(m["D"])])


@fast(25)
@given(voxel_cases())
def test_cuda_voxelize_matches_reference(c):
    import torch

    _, pts, feats, lengths = build_voxel(c)
    s = c["strided"]
    kw = {}
    if c["out_dtype"] is not None:
        kw["out_dtype"] = c["out_dtype"]
    if feats is not None:
        kw["features"] = to_torch(feats, s)
    if lengths is not None:
        kw["lengths"] = to_torch(lengths, s)
    out = robocache.voxelize_pointcloud(to_torch(pts, s), c["grid_min"], c["voxel_size"], c["shape"],
                                        mode=c["mode"], **kw)
    assert isinstance(out, torch.Tensor) and out.is_cuda
    want = ref.voxelize(pts, c["grid_min"], c["voxel_size"], c["shape"], c["mode"], feats, lengths, c["out_dtype"])
    got = to_numpy(out)
    assert got.dtype == want.dtype and got.shape == want.shape
    if c["mode"] == "mean":  # float atomics: the summation order is free (ops.md §3)
        tol = 1e-12 if want.dtype == np.float64 else 1e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:  # occupancy, count and max are exact and deterministic
        np.testing.assert_array_equal(got, want)


# ============================================================================ CUDA vs CPU, bit for bit


needs_cpu = pytest.mark.skipif(not CPU, reason="no CPU backend in this build to compare with")


@needs_cpu
@pytest.mark.parametrize("interp", ["linear", "nearest", "previous"])
@pytest.mark.parametrize("tname", ["f32", "f64"])
def test_cuda_and_cpu_resample_agree_bit_for_bit(interp, tname):
    rng = np.random.default_rng(11)
    tdt = TIME_DTYPES[tname]
    epoch = 1.7e9 if tname == "f64" else 0.0
    B, S, T, D = 3, 200, 300, 7
    data = rng.standard_normal((B, S, D)).astype(np.float32)
    src = make_src_times(rng, B, S, False, tdt, "uniform", epoch)
    lengths = rng.integers(1, S + 1, size=B).astype(np.int64)
    tgt = make_tgt_times(rng, src, B, T, False, tdt, epoch, True, lengths)
    cpu = robocache.resample_trajectories(data, src, tgt, interp=interp, lengths=lengths)
    gpu = robocache.resample_trajectories(to_torch(data), to_torch(src), to_torch(tgt), interp=interp,
                                          lengths=to_torch(lengths))
    ref.assert_same_bits(to_numpy(gpu), cpu)


@needs_cpu
def test_cuda_and_cpu_fuse_agree_bit_for_bit():
    rng = np.random.default_rng(12)
    B, T = 2, 100
    streams = [
        (rng.standard_normal((B, 50, 3)).astype(np.float32), make_src_times(rng, B, 50, True, np.float64, "uniform", 0)),
        (rng.standard_normal((B, 80, 2)).astype(np.float32), make_src_times(rng, B, 80, False, np.float64, "repeats", 0)),
        (rng.standard_normal((B, 9, 1)).astype(np.float32), make_src_times(rng, B, 9, False, np.float64, "uniform", 0),
         np.array([9, 4], np.int32)),
    ]
    tgt = make_tgt_times(rng, streams[0][1], B, T, False, np.float64, 0.0, True)
    modes = ["linear", "nearest", "previous"]
    cpu = robocache.fuse_multimodal(streams, tgt, interp=modes)
    gpu = robocache.fuse_multimodal([tuple(to_torch(a) for a in s) for s in streams], to_torch(tgt), interp=modes)
    ref.assert_same_bits(to_numpy(gpu), cpu)


@needs_cpu
@pytest.mark.parametrize("mode", ["occupancy", "count"])
@pytest.mark.parametrize("coord", ["f32", "f64"])
def test_cuda_and_cpu_voxelize_agree_bit_for_bit(mode, coord):
    rng = np.random.default_rng(13)
    pts = rng.uniform(-0.5, 2.5, size=(3, 5000, 3)).astype(TIME_DTYPES[coord])
    pts[0, ::50] = np.nan
    lengths = np.array([5000, 17, 2500])
    args = ((-0.25, 0.0, 0.1), (0.1, 0.125, 0.3), (16, 16, 8))
    cpu = robocache.voxelize_pointcloud(pts, *args, mode=mode, lengths=lengths)
    gpu = robocache.voxelize_pointcloud(to_torch(pts), *args, mode=mode, lengths=to_torch(lengths))
    ref.assert_same_bits(to_numpy(gpu), cpu)


# ============================================================================ launches


def launches():
    return robocache.cache_stats()["launches"]


def test_fuse_of_three_modalities_is_one_launch():
    rng = np.random.default_rng(14)
    B, T = 4, 64
    streams = [
        (to_torch(rng.standard_normal((B, 40, 3)).astype(np.float32)), to_torch(np.linspace(0, 1, 40))),
        (to_torch(make_values(rng, B, 30, [(0, 4, "slerp")], np.float32, "independent")),
         to_torch(np.linspace(0, 1, 30))),
        (to_torch(rng.standard_normal((B, 10, 1)).astype(np.float32)), to_torch(np.linspace(0, 1, 10)),
         to_torch(np.array([10, 3, 5, 1], np.int64))),
    ]
    tgt = to_torch(np.linspace(-0.1, 1.1, T))
    modes = ["cubic", "slerp", "previous"]
    robocache.fuse_multimodal(streams, tgt, interp=modes)  # compiles (a compile is not a launch)
    before = launches()
    out = robocache.fuse_multimodal(streams, tgt, interp=modes)
    assert launches() - before == 1
    assert tuple(out.shape) == (B, T, 8)


def test_resample_is_one_launch():
    rng = np.random.default_rng(15)
    data = to_torch(rng.standard_normal((2, 30, 8)).astype(np.float32))
    src, tgt = to_torch(np.linspace(0, 1, 30)), to_torch(np.linspace(0, 1, 50))
    groups = [{"start": 0, "size": 3, "interp": "cubic"}, {"start": 3, "size": 4, "interp": "slerp"},
              {"start": 7, "size": 1, "interp": "previous"}]
    robocache.resample_trajectories(data, src, tgt, groups=groups)
    before = launches()
    robocache.resample_trajectories(data, src, tgt, groups=groups)
    assert launches() - before == 1


# ============================================================================ devices and backends


def test_outputs_are_on_the_inputs_device_and_empty_batches_work():
    import torch

    out = robocache.resample_trajectories(to_torch(np.zeros((0, 5, 3), np.float32)), to_torch(np.arange(5.0)),
                                          to_torch(np.arange(3.0)), interp="cubic")
    assert out.is_cuda and tuple(out.shape) == (0, 3, 3)
    out = robocache.fuse_multimodal([(to_torch(np.zeros((2, 5, 3), np.float32)), to_torch(np.arange(5.0)))],
                                    to_torch(np.zeros(0)))
    assert out.is_cuda and tuple(out.shape) == (2, 0, 3)
    out = robocache.voxelize_pointcloud(to_torch(np.zeros((0, 3), np.float32)), (0, 0, 0), 1.0, (2, 3, 4),
                                        mode="count")
    assert out.is_cuda and tuple(out.shape) == (2, 3, 4) and out.dtype == torch.int32 and not out.any()


def test_cuda_tensors_with_the_cpu_backend_name_the_argument():
    args = (to_torch(np.zeros((1, 3, 2), np.float32)), to_torch(np.arange(3.0)), to_torch(np.arange(2.0)))
    with pytest.raises(ValueError, match="argument 'data'"):
        robocache.resample_trajectories(*args, backend="cpu")
    with pytest.raises(ValueError, match="argument 'points'"):
        robocache.voxelize_pointcloud(to_torch(np.zeros((4, 3), np.float32)), (0, 0, 0), 1.0, (2, 2, 2),
                                      backend="cpu")
    with pytest.raises(ValueError, match=r"argument 'streams\[0\]"):
        robocache.fuse_multimodal([args[:2]], args[2], backend="cpu")


def test_host_tensors_with_the_cuda_backend_name_the_argument():
    args = (to_torch(np.zeros((1, 3, 2), np.float32), device="cpu"), to_torch(np.arange(3.0), device="cpu"),
            to_torch(np.arange(2.0), device="cpu"))
    with pytest.raises(ValueError, match="argument 'data'"):
        robocache.resample_trajectories(*args, backend="cuda")
    with pytest.raises(ValueError, match="argument 'data'"):
        robocache.resample_trajectories(np.zeros((1, 3, 2), np.float32), np.arange(3.0), np.arange(2.0),
                                        backend="cuda")


def test_arrays_on_different_devices_name_the_argument():
    data = to_torch(np.zeros((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match="argument 'src_times'"):
        robocache.resample_trajectories(data, to_torch(np.arange(3.0), device="cpu"), to_torch(np.arange(2.0)))
    with pytest.raises(ValueError, match="argument 'lengths'"):
        robocache.resample_trajectories(data, to_torch(np.arange(3.0)), to_torch(np.arange(2.0)),
                                        lengths=to_torch(np.array([3, 2]), device="cpu"))
    with pytest.raises(ValueError, match="argument 'features'"):
        robocache.voxelize_pointcloud(to_torch(np.zeros((4, 3), np.float32)), (0, 0, 0), 1.0, (2, 2, 2),
                                      mode="max", features=to_torch(np.zeros((4, 2), np.float32), device="cpu"))
