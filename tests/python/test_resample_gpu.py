"""resample on an H100 (or any CUDA device) with torch tensors: reference match and CPU agreement."""

import ml_dtypes
import numpy as np
import pytest

import robocache
from reference import resample_linear, rounded, ulp_distance

pytestmark = pytest.mark.gpu

TORCH_OF = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16"}
NUMPY_OF = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16}


def to_numpy(t):
    import torch

    t = t.cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def to_torch(a):
    import torch

    if a.dtype == ml_dtypes.bfloat16:
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16).cuda()
    return torch.from_numpy(np.ascontiguousarray(a)).cuda()


def case(rng, vname, tname, B=4, S=300, T=500, D=19, shared=False, epoch=0.0):
    tdt = np.float32 if tname == "f32" else np.float64
    src = np.sort(rng.uniform(0, 10, size=(S,) if shared else (B, S)), axis=-1) + epoch
    tgt = rng.uniform(-1, 11, size=(T,) if shared else (B, T)) + epoch
    tgt.reshape(-1)[::97] = np.nan
    data = rng.standard_normal((B, S, D)).astype(NUMPY_OF[vname])
    return data, src.astype(tdt), tgt.astype(tdt)


@pytest.mark.parametrize("vname", list(TORCH_OF))
@pytest.mark.parametrize("tname", ["f32", "f64"])
@pytest.mark.parametrize("shared", [False, True], ids=["per-row", "shared"])
def test_cuda_matches_reference(vname, tname, shared):
    import torch

    rng = np.random.default_rng(abs(hash((vname, tname, shared))) % 2**32)
    data, src, tgt = case(rng, vname, tname, shared=shared)
    k = robocache.compile({"op": "resample", "dtype": vname, "time_dtype": tname, "dim": 19}, "cuda")
    out_t = k(to_torch(data), to_torch(src), to_torch(tgt))
    assert isinstance(out_t, torch.Tensor) and out_t.is_cuda
    assert out_t.dtype == getattr(torch, TORCH_OF[vname])
    out = to_numpy(out_t)
    ref = resample_linear(data, src, tgt)
    if vname == "f32":
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    elif vname == "f64":
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    else:
        want = rounded(ref, out.dtype)
        both_nan = np.isnan(out.astype(np.float32)) & np.isnan(want.astype(np.float32))
        assert (ulp_distance(out, want)[~both_nan] <= 1).all()


@pytest.mark.parametrize("vname", ["f32", "bf16", "f16", "f64"])
def test_cuda_and_cpu_agree_bit_for_bit(vname):
    if not robocache.check_installation()["cpu"]["available"]:
        pytest.skip("no CPU backend in this build")
    rng = np.random.default_rng(42)
    data, src, tgt = case(rng, vname, "f64", B=3, S=700, T=900, D=8, epoch=1.7e9)
    spec = {"op": "resample", "dtype": vname, "time_dtype": "f64", "dim": 8}
    cpu = robocache.compile(spec, "cpu")(data, src, tgt)
    gpu = to_numpy(robocache.compile(spec, "cuda")(to_torch(data), to_torch(src), to_torch(tgt)))
    gpu_nan, cpu_nan = np.isnan(gpu.astype(np.float64)), np.isnan(cpu.astype(np.float64))
    np.testing.assert_array_equal(gpu_nan, cpu_nan)  # NaN payloads may differ; positions may not
    np.testing.assert_array_equal(gpu[~gpu_nan].view(np.uint8), cpu[~cpu_nan].view(np.uint8))


def test_exact_hits_are_bit_exact_on_cuda():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 64, 5)).astype(np.float32)
    src = np.cumsum(rng.uniform(0.01, 1.0, size=(2, 64)), axis=1)
    k = robocache.compile({"op": "resample", "dtype": "f32", "dim": 5}, "cuda")
    out = to_numpy(k(to_torch(data), to_torch(src), to_torch(src)))
    np.testing.assert_array_equal(out, data)


def test_runs_on_the_current_torch_stream():
    import torch

    rng = np.random.default_rng(2)
    data, src, tgt = case(rng, "f32", "f64")
    k = robocache.compile({"op": "resample", "dtype": "f32", "dim": 19}, "cuda")
    args = [to_torch(a) for a in (data, src, tgt)]
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        out = k(*args)
        out.record_stream(s)
    s.synchronize()
    np.testing.assert_allclose(to_numpy(out), resample_linear(data, src, tgt), rtol=1e-5, atol=1e-5)


def test_numpy_arrays_with_a_cuda_kernel_are_rejected():
    k = robocache.compile({"op": "resample", "dtype": "f32", "dim": 2}, "cuda")
    with pytest.raises(ValueError, match="argument 'data'.*cpu"):
        k(np.zeros((1, 3, 2), np.float32), np.arange(3.0), np.arange(2.0))
