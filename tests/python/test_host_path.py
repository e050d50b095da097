"""The host path: what `import robocache` loads, the native short paths of the calls, and bound calls."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import robocache

pytestmark = pytest.mark.cpu_backend

SPEC = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 7}


def c3(seed=0, B=1, S=100, T=50, D=7, dtype=np.float32):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((B, S, D)).astype(dtype)
    src = np.sort(rng.uniform(0, 10, (B, S)), axis=1)
    tgt = np.sort(rng.uniform(0, 10, (B, T)), axis=1)
    return data, src, tgt


def run_fresh(code: str) -> str:
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_import_loads_neither_ml_dtypes_nor_llvm_until_a_cpu_compile():
    out = run_fresh(
        "import sys, numpy, robocache\n"
        "maps = lambda: open('/proc/self/maps').read()\n"
        "print('ml_dtypes' in sys.modules, 'libLLVM' in maps(), 'torch' in sys.modules)\n"
        "robocache.compile({'op': 'resample', 'dtype': 'f32', 'dim': 3}, 'cpu')\n"
        "print('libLLVM' in maps())\n")
    assert out.splitlines() == ["False False False", "True"]


def test_bf16_numpy_arrays_work_once_their_creator_imported_ml_dtypes():
    out = run_fresh(
        "import numpy as np, robocache, ml_dtypes\n"
        "d = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3).astype(ml_dtypes.bfloat16)\n"
        "t = np.arange(5.0)\n"
        "r = robocache.resample_trajectories(d, t, np.array([0.5, 3.25]))\n"
        "print(r.dtype, r.shape)\n")
    assert out == "bfloat16 (2, 2, 3)"


def test_high_level_short_path_matches_the_kernel_call_for_each_array_look():
    # The first call of each look goes the general way and remembers the kernel; the next take the
    # native short path. Every one must agree with a Kernel called directly.
    for dtype, interp in [(np.float32, "linear"), (np.float64, "linear"), (np.float32, "nearest"),
                          (np.float32, "cubic")]:
        data, src, tgt = c3(dtype=dtype)
        spec = dict(SPEC, dtype="f32" if dtype == np.float32 else "f64", interp=interp)
        want = robocache.compile(spec, "cpu")(data, src, tgt)
        for _ in range(2):
            got = robocache.resample_trajectories(data, src, tgt, interp=interp)
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, want)


def test_short_path_errors_are_the_general_paths_errors():
    data, src, tgt = c3()
    robocache.resample_trajectories(data, src, tgt)  # remembered: later calls try the short path
    bad = src.copy()
    bad[0, 10] = bad[0, 9] - 1.0
    with pytest.raises(ValueError, match="src_times"):
        robocache.resample_trajectories(data, bad, tgt)
    with pytest.raises(ValueError, match="tgt_times"):
        robocache.resample_trajectories(data, src, tgt.astype(np.float32))
    with pytest.raises(ValueError, match="'data'.*3-D"):
        robocache.resample_trajectories(data[0], src, tgt)
    with pytest.raises(ValueError, match="tgt_times"):
        robocache.resample_trajectories(data, src, np.concatenate([tgt, tgt]))


def test_short_paths_never_read_big_endian_arrays_raw():
    data, src, tgt = c3()
    want = robocache.resample_trajectories(data, src, tgt)
    swapped = src.astype(src.dtype.newbyteorder(">"))
    k = robocache.compile(SPEC, "cpu")
    for call in (lambda: robocache.resample_trajectories(data, swapped, tgt), lambda: k(data, swapped, tgt)):
        try:
            got = call()
        except (TypeError, ValueError):
            continue  # refused naming the argument: fine
        np.testing.assert_array_equal(got, want)  # or converted: the same values


def test_fuse_short_path_matches_the_kernel_call():
    rng = np.random.default_rng(1)
    streams = [(rng.standard_normal((2, S, D)).astype(np.float32), np.sort(rng.uniform(0, 5, (2, S)), axis=1))
               for S, D in [(30, 5), (60, 2), (90, 1)]]
    tgt = np.sort(rng.uniform(0, 5, (2, 20)), axis=1)
    k = robocache.compile({"op": "fuse", "dtype": "f32", "time_dtype": "f64",
                           "modalities": [{"dim": 5, "interp": "linear"}, {"dim": 2, "interp": "previous"},
                                          {"dim": 1, "interp": "linear"}]}, "cpu")
    want = k(streams, tgt)
    for _ in range(2):
        got = robocache.fuse_multimodal(streams, tgt, interp=["linear", "previous", "linear"])
        np.testing.assert_array_equal(got, want)


def test_bound_call_reruns_on_the_arrays_current_contents():
    data, src, tgt = c3()
    k = robocache.compile(SPEC, "cpu")
    bound = k.bind(data, src, tgt)
    out = bound()
    assert out is bound.out
    np.testing.assert_array_equal(out, k(data, src, tgt))
    data *= 2.0  # refilled in place between calls
    assert bound() is out
    np.testing.assert_array_equal(out, k(data, src, tgt))


def test_bound_call_writes_the_given_output():
    data, src, tgt = c3()
    k = robocache.compile(SPEC, "cpu")
    out = np.empty((1, 50, 7), np.float32)
    assert k.bind(data, src, tgt, out=out)() is out
    np.testing.assert_array_equal(out, k(data, src, tgt))


def test_bound_call_with_validation_rechecks_the_source_times_every_call():
    data, src, tgt = c3()
    k = robocache.compile(SPEC, "cpu")
    checked, unchecked = k.bind(data, src, tgt), k.bind(data, src, tgt, validate=False)
    src[0, 50] = np.nan
    with pytest.raises(ValueError, match="src_times"):
        checked()
    unchecked()  # the caller opted out of the value checks


def test_bind_checks_shapes_once_naming_the_argument():
    data, src, tgt = c3()
    k = robocache.compile(SPEC, "cpu")
    with pytest.raises(ValueError, match="data"):
        k.bind(data[:, :, :3].copy(), src, tgt)
    with pytest.raises(ValueError, match="out"):
        k.bind(data, src, tgt, out=np.empty((1, 49, 7), np.float32))
    with pytest.raises(ValueError, match="args"):
        k.bind(data.tolist(), src, tgt)


def test_kernel_call_writes_a_numpy_out_in_place():
    data, src, tgt = c3()
    k = robocache.compile(SPEC, "cpu")
    out = np.zeros((1, 50, 7), np.float32)
    assert k(data, src, tgt, out=out) is out
    np.testing.assert_array_equal(out, k(data, src, tgt))


def test_torch_cpu_tensors_take_the_short_paths_with_the_same_results():
    torch = pytest.importorskip("torch")
    data, src, tgt = c3()
    want = robocache.resample_trajectories(data, src, tgt)
    tensors = [torch.from_numpy(a) for a in (data, src, tgt)]
    for _ in range(2):
        got = robocache.resample_trajectories(*tensors)
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), want)
    bound = robocache.compile(SPEC, "cpu").bind(*tensors)
    np.testing.assert_array_equal(bound().numpy(), want)


@pytest.mark.gpu
def test_cuda_high_level_and_bound_calls_agree_with_the_kernel_call():
    import torch

    data, src, tgt = (torch.from_numpy(a).cuda() for a in c3())
    k = robocache.compile(SPEC, "cuda")
    want = k(data, src, tgt)
    for _ in range(2):
        torch.testing.assert_close(robocache.resample_trajectories(data, src, tgt), want, rtol=0, atol=0)
    bound = k.bind(data, src, tgt)
    torch.testing.assert_close(bound(), want, rtol=0, atol=0)
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        data.mul_(2.0)
        out = bound(side.cuda_stream)
    side.synchronize()
    torch.testing.assert_close(out, k(data, src, tgt), rtol=0, atol=0)


@pytest.mark.gpu
def test_cuda_fuse_short_path_agrees_with_the_kernel_call():
    import torch

    rng = np.random.default_rng(2)
    streams = [(torch.from_numpy(rng.standard_normal((4, S, D)).astype(np.float32)).cuda().bfloat16(),
                torch.from_numpy(np.sort(rng.uniform(0, 5, (4, S)), axis=1)).cuda())
               for S, D in [(30, 512), (100, 64), (200, 12)]]
    tgt = torch.from_numpy(np.sort(rng.uniform(0, 5, (4, 50)), axis=1)).cuda()
    k = robocache.compile({"op": "fuse", "dtype": "bf16", "time_dtype": "f64",
                           "modalities": [{"dim": D, "interp": "linear"} for D in (512, 64, 12)]}, "cuda")
    want = k(streams, tgt)
    for _ in range(2):
        torch.testing.assert_close(robocache.fuse_multimodal(streams, tgt), want, rtol=0, atol=0)
    torch.testing.assert_close(k.bind(streams, tgt)(), want, rtol=0, atol=0)


@pytest.mark.gpu
def test_native_launch_floor_measures_a_positive_host_cost():
    import torch

    from robocache._native import _robocache as native

    us = native.cuda_empty_launch_us(0, torch.cuda.current_stream().cuda_stream, 100)
    torch.cuda.synchronize()
    assert 0 < us < 1000
