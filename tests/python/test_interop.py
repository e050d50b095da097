"""Arrays from any framework: DLPack and CUDA-array-interface producers in, the caller's framework
out, and the `stream=` argument. CPU tests run everywhere; GPU ones need torch and a device."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest

import robocache
from robocache import _streams

# Tests not marked gpu run on the CPU backend (skipped in a build without it).
pytestmark = pytest.mark.cpu_backend

SPEC = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 3, "interp": "linear"}


class DLPackOnly:
    """Exposes a numpy array through the DLPack protocol and nothing else (no dtype, no shape)."""

    def __init__(self, array):
        self._a = array

    def __dlpack__(self, stream=None):
        return self._a.__dlpack__()

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def resample_inputs(B=2, S=16, T=9, D=3, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((B, S, D)).astype(np.float32)
    src = np.sort(rng.uniform(0.0, 1.0, S))
    tgt = np.linspace(-0.1, 1.1, T)
    return data, src, tgt


# ================================================================================= DLPack on the CPU


def test_dlpack_only_inputs_give_the_numpy_result_as_numpy():
    data, src, tgt = resample_inputs()
    k = robocache.compile(SPEC, "cpu")
    out = k(DLPackOnly(data), DLPackOnly(src), DLPackOnly(tgt))
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, k(data, src, tgt))


def test_dlpack_only_inputs_through_the_high_level_calls():
    data, src, tgt = resample_inputs()
    out = robocache.resample_trajectories(DLPackOnly(data), DLPackOnly(src), DLPackOnly(tgt), interp="nearest")
    np.testing.assert_array_equal(out, robocache.resample_trajectories(data, src, tgt, interp="nearest"))
    fused = robocache.fuse_multimodal([(DLPackOnly(data), DLPackOnly(src))], DLPackOnly(tgt))
    np.testing.assert_array_equal(fused, robocache.fuse_multimodal([(data, src)], tgt))
    pts = np.random.default_rng(2).uniform(-1, 1, (500, 3)).astype(np.float32)
    grid = robocache.voxelize_pointcloud(DLPackOnly(pts), (-1, -1, -1), 0.25, (8, 8, 8), mode="count")
    np.testing.assert_array_equal(grid, robocache.voxelize_pointcloud(pts, (-1, -1, -1), 0.25, (8, 8, 8),
                                                                      mode="count"))


def test_dlpack_int64_lengths_are_used_and_other_widths_refused():
    data, src, tgt = resample_inputs()
    lengths = np.array([5, 16], dtype=np.int64)
    k = robocache.compile(SPEC, "cpu")
    out = k(DLPackOnly(data), DLPackOnly(src), DLPackOnly(tgt), DLPackOnly(lengths))
    np.testing.assert_array_equal(out, k(data, src, tgt, lengths))
    with pytest.raises(TypeError, match="argument 'lengths'.*int64"):
        k(DLPackOnly(data), DLPackOnly(src), DLPackOnly(tgt), DLPackOnly(lengths.astype(np.int32)))


def test_strided_dlpack_input_is_refused_naming_the_argument():
    data, src, tgt = resample_inputs()
    wide = np.repeat(data, 2, axis=2)[..., ::2]  # same values, channel stride 2
    with pytest.raises(ValueError, match="argument 'data'.*contiguous"):
        robocache.compile(SPEC, "cpu")(DLPackOnly(wide), DLPackOnly(src), DLPackOnly(tgt))


def test_mixing_frameworks_in_one_call_is_a_type_error():
    data, src, tgt = resample_inputs()
    with pytest.raises(TypeError, match="argument 'src_times'.*one framework"):
        robocache.compile(SPEC, "cpu")(DLPackOnly(data), src, DLPackOnly(tgt))


def test_unsupported_objects_name_the_argument():
    data, src, tgt = resample_inputs()
    with pytest.raises(TypeError, match="argument 'tgt_times'.*__dlpack__"):
        robocache.compile(SPEC, "cpu")(DLPackOnly(data), DLPackOnly(src), [0.0, 1.0])


def test_output_is_rebuilt_by_the_producers_from_dlpack():
    """A producer whose top-level module has from_dlpack gets its own array type back."""
    module = types.ModuleType("fakearrays")

    class FakeArray(DLPackOnly):
        pass

    FakeArray.__module__ = "fakearrays.core"
    module.from_dlpack = lambda x: ("rebuilt", np.from_dlpack(x))
    sys.modules["fakearrays"] = module
    try:
        data, src, tgt = resample_inputs()
        tag, out = robocache.compile(SPEC, "cpu")(FakeArray(data), FakeArray(src), FakeArray(tgt))
    finally:
        del sys.modules["fakearrays"]
    assert tag == "rebuilt"
    np.testing.assert_array_equal(out, robocache.compile(SPEC, "cpu")(data, src, tgt))


def test_importing_robocache_does_not_import_torch():
    code = "import sys, robocache; assert 'torch' not in sys.modules and 'cupy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ========================================================================================= stream=


@pytest.mark.parametrize("bad", ["0", 1.5, True, object(), [0]])
def test_bad_stream_types_are_type_errors_naming_stream(bad):
    data, src, tgt = resample_inputs()
    with pytest.raises(TypeError, match="'stream'"):
        robocache.compile(SPEC, "cpu")(data, src, tgt, stream=bad)
    with pytest.raises(TypeError, match="'stream'"):
        robocache.resample_trajectories(data, src, tgt, stream=bad)


def test_negative_stream_handle_is_a_value_error():
    data, src, tgt = resample_inputs()
    with pytest.raises(ValueError, match="'stream'"):
        robocache.resample_trajectories(data, src, tgt, stream=-1)


def test_a_valid_stream_on_cpu_arrays_changes_nothing():
    data, src, tgt = resample_inputs()
    np.testing.assert_array_equal(robocache.resample_trajectories(data, src, tgt, stream=0),
                                  robocache.resample_trajectories(data, src, tgt))


class _Proto:
    def __cuda_stream__(self):
        return (0, 0x1234)


@pytest.mark.parametrize("stream, handle", [
    (7, 7),
    (_Proto(), 0x1234),
    (types.SimpleNamespace(cuda_stream=0x55), 0x55),   # torch.cuda.Stream's attribute
    (types.SimpleNamespace(ptr=0x66), 0x66),           # CuPy streams' attribute
])
def test_stream_spellings_give_their_handle(stream, handle):
    assert _streams.stream_handle(stream) == handle


# ============================================================================================= GPU


def _torch_cuda_inputs(seed=0):
    import torch

    data, src, tgt = resample_inputs(B=4, S=4096, T=512, seed=seed)
    return torch.from_numpy(data).cuda(), torch.from_numpy(src).cuda(), torch.from_numpy(tgt).cuda()


def _as_numpy(x):
    import torch

    return torch.as_tensor(x, device="cuda").cpu().numpy()


class CAIOnly:
    """Exposes a CUDA tensor through __cuda_array_interface__ only, optionally naming a stream (v3)."""

    def __init__(self, tensor, stream=None):
        self._t = tensor
        self._stream = stream

    @property
    def __cuda_array_interface__(self):
        cai = dict(self._t.__cuda_array_interface__)
        cai["version"] = 3
        cai["stream"] = self._stream
        return cai


@pytest.mark.gpu
def test_cupy_arrays_in_cupy_arrays_out():
    cupy = pytest.importorskip("cupy")
    import torch

    data, src, tgt = resample_inputs()
    want = robocache.resample_trajectories(*(torch.from_numpy(a).cuda() for a in (data, src, tgt))).cpu().numpy()
    out = robocache.resample_trajectories(cupy.asarray(data), cupy.asarray(src), cupy.asarray(tgt))
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(out), want)
    strided = cupy.asarray(np.repeat(data, 2, axis=2))[..., ::2]  # made contiguous by CuPy, on the GPU
    assert not strided.flags.c_contiguous
    got = robocache.resample_trajectories(strided, cupy.asarray(src), cupy.asarray(tgt))
    np.testing.assert_array_equal(cupy.asnumpy(got), want)


@pytest.mark.gpu
def test_cupy_side_stream_current_or_named_gives_correct_results():
    cupy = pytest.importorskip("cupy")

    data, src, tgt = (cupy.asarray(a) for a in resample_inputs(B=4, S=4096, T=512))
    want = cupy.asnumpy(robocache.resample_trajectories(data, src, tgt))
    side = cupy.cuda.Stream(non_blocking=True)
    with side:
        out = robocache.resample_trajectories(data, src, tgt)
    side.synchronize()
    np.testing.assert_array_equal(cupy.asnumpy(out), want)
    out = robocache.resample_trajectories(data, src, tgt, stream=side)
    side.synchronize()
    np.testing.assert_array_equal(cupy.asnumpy(out), want)


@pytest.mark.gpu
def test_cuda_array_interface_only_inputs():
    import torch

    data, src, tgt = _torch_cuda_inputs()
    want = robocache.resample_trajectories(data, src, tgt)
    out = robocache.resample_trajectories(CAIOnly(data), CAIOnly(src), CAIOnly(tgt))
    torch.cuda.synchronize()
    np.testing.assert_array_equal(_as_numpy(out), want.cpu().numpy())


def _pending_write(side, target, values):
    """Queues on `side` a long sleep and then target.copy_(values): only launches ordered after
    `side`'s work read the new values."""
    import torch

    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        torch.cuda._sleep(200_000_000)
        target.copy_(values)


@pytest.mark.gpu
def test_explicit_stream_orders_the_launch_on_that_stream():
    import torch

    data, src, tgt = _torch_cuda_inputs(seed=0)
    new, _, _ = _torch_cuda_inputs(seed=1)
    want = robocache.resample_trajectories(new, src, tgt).cpu()
    side = torch.cuda.Stream()
    _pending_write(side, data, new)
    out = robocache.resample_trajectories(data, src, tgt, stream=side)
    side.synchronize()
    torch.testing.assert_close(out.cpu(), want, rtol=0, atol=0)


@pytest.mark.gpu
def test_default_stream_is_torchs_current_stream():
    import torch

    data, src, tgt = _torch_cuda_inputs(seed=0)
    new, _, _ = _torch_cuda_inputs(seed=1)
    want = robocache.resample_trajectories(new, src, tgt).cpu()
    side = torch.cuda.Stream()
    _pending_write(side, data, new)
    with torch.cuda.stream(side):
        out = robocache.resample_trajectories(data, src, tgt)
    side.synchronize()
    torch.testing.assert_close(out.cpu(), want, rtol=0, atol=0)


@pytest.mark.gpu
def test_cuda_array_interface_stream_is_used_when_none_is_given():
    import torch

    data, src, tgt = _torch_cuda_inputs(seed=0)
    new, _, _ = _torch_cuda_inputs(seed=1)
    want = robocache.resample_trajectories(new, src, tgt).cpu()
    side = torch.cuda.Stream()
    _pending_write(side, data, new)
    out = robocache.resample_trajectories(CAIOnly(data, side.cuda_stream), CAIOnly(src), CAIOnly(tgt))
    torch.cuda.synchronize()
    np.testing.assert_array_equal(_as_numpy(out), want.numpy())
