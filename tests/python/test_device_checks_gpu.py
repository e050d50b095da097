"""Validation on the GPU without a host synchronisation (docs/semantics.md, "Validation on the
GPU"): a bad row is written as NaN, the ValueError naming the argument comes from the next
RoboCache call on the device or from robocache.synchronize(), and every high-level call with
default arguments can be captured in a CUDA graph. Skipped (conftest) without a CUDA device."""

from __future__ import annotations

import re

import numpy as np
import pytest

import robocache

pytestmark = pytest.mark.gpu


def torch():
    import torch as t

    return t


def stream(B=3, S=40, T=25, D=4, seed=0, dtype=None):
    t = torch()
    g = t.Generator(device="cuda").manual_seed(seed)
    src = t.cumsum(t.rand((B, S), generator=g, device="cuda", dtype=t.float64) + 0.01, dim=1) + 1.7e9
    tgt = src[:, :1] + t.rand((B, T), generator=g, device="cuda", dtype=t.float64) * (src[:, -1:] - src[:, :1])
    data = t.randn((B, S, D), generator=g, device="cuda", dtype=dtype or t.float32)
    return data, src.contiguous(), tgt.contiguous()


def expect_reported(name: str, row: int):
    with pytest.raises(ValueError, match=rf"'{re.escape(name)}'.*row {row}"):
        robocache.synchronize()
    robocache.synchronize()  # reported once: the word is cleared


def test_out_of_range_length_writes_the_row_as_nan_and_synchronize_raises():
    t = torch()
    data, src, tgt = stream()
    lengths = t.tensor([40, 41, 5], device="cuda", dtype=t.int64)  # row 1 is past S
    good = robocache.resample_trajectories(data[[0, 2]], src[[0, 2]], tgt[[0, 2]], lengths=lengths[[0, 2]])
    out = robocache.resample_trajectories(data, src, tgt, lengths=lengths)  # no sync, no error yet
    t.cuda.synchronize()
    assert bool(t.isnan(out[1]).all())
    expect_reported("lengths", 1)
    assert t.equal(out[[0, 2]], good)


@pytest.mark.parametrize("spoil,name", [("decreasing", "src_times"), ("nan", "src_times")])
def test_bad_source_times_write_the_row_as_nan_only_when_validating(spoil, name):
    t = torch()
    data, src, tgt = stream(seed=1)
    bad = src.clone()
    if spoil == "decreasing":
        bad[2, 10], bad[2, 30] = src[2, 30], src[2, 10]
    else:
        bad[2, 7] = float("nan")
    out = robocache.resample_trajectories(data, bad, tgt)
    t.cuda.synchronize()
    assert bool(t.isnan(out[2]).all()) and not bool(t.isnan(out[:2]).any())
    expect_reported(name, 2)
    # validate=False trusts the times: no NaN rows, nothing reported.
    out = robocache.resample_trajectories(data, bad, tgt, validate=False)
    robocache.synchronize()
    assert not bool(t.isnan(out[:2]).any())


def test_the_next_call_raises_after_the_bad_kernel_completed():
    t = torch()
    data, src, tgt = stream(seed=2)
    lengths = t.tensor([40, 0, 40], device="cuda", dtype=t.int64)
    robocache.resample_trajectories(data, src, tgt, lengths=lengths)
    t.cuda.synchronize()  # the kernel has completed; RoboCache itself has not looked yet
    with pytest.raises(ValueError, match="'lengths'.*row 1"):
        robocache.resample_trajectories(data, src, tgt)
    robocache.resample_trajectories(data, src, tgt)  # reported once
    robocache.synchronize()


def test_fuse_names_the_stream():
    t = torch()
    a, ta, tgt = stream(B=2, S=30, D=3, seed=3)
    b, tb, _ = stream(B=2, S=50, D=5, seed=4)
    lb = t.tensor([50, 51], device="cuda", dtype=t.int64)
    out = robocache.fuse_multimodal([(a, ta), (b, tb, lb)], tgt)
    t.cuda.synchronize()
    assert bool(t.isnan(out[1, :, 3:]).all()) and not bool(t.isnan(out[1, :, :3]).any())
    expect_reported("streams[1].lengths", 1)


def test_voxel_lengths_out_of_range_are_reported():
    t = torch()
    pts = t.rand((2, 100, 3), device="cuda")
    lengths = t.tensor([100, 101], device="cuda", dtype=t.int64)
    grid = robocache.voxelize_pointcloud(pts, (0, 0, 0), 0.25, (4, 4, 4), mode="count", lengths=lengths)
    t.cuda.synchronize()
    assert int(grid[1].sum()) == 0 and int(grid[0].sum()) == 100
    expect_reported("lengths", 1)


def _captured_equals_eager(fn, exact=True):
    t = torch()
    want = fn()
    side = t.cuda.Stream()
    side.wait_stream(t.cuda.current_stream())
    with t.cuda.stream(side):
        fn()
    t.cuda.current_stream().wait_stream(side)
    graph = t.cuda.CUDAGraph()
    with t.cuda.graph(graph):
        got = fn()
    got.fill_(-7)
    graph.replay()
    t.cuda.synchronize()
    robocache.synchronize()
    assert t.equal(got.isnan(), want.isnan())
    if exact:
        assert t.equal(t.nan_to_num(got), t.nan_to_num(want))
    else:  # a mean's float atomics add in any order: the last bits may differ (ops.md §3)
        assert t.allclose(t.nan_to_num(got), t.nan_to_num(want), rtol=1e-5, atol=1e-6)


def test_resample_with_groups_and_lengths_captures_with_default_arguments():
    t = torch()
    data, src, tgt = stream(B=4, S=60, D=8, seed=5)
    data[..., 3:7] = t.nn.functional.normalize(data[..., 3:7], dim=-1)
    lengths = t.tensor([60, 31, 2, 59], device="cuda", dtype=t.int64)
    groups = [(0, 3, "linear"), (3, 4, "slerp"), (7, 1, "previous")]
    _captured_equals_eager(lambda: robocache.resample_trajectories(data, src, tgt, groups=groups, lengths=lengths))


def test_fuse_captures_with_default_arguments():
    t = torch()
    a, ta, tgt = stream(B=2, S=30, D=16, seed=6)
    b, tb, _ = stream(B=2, S=90, D=6, seed=7)
    lb = t.tensor([90, 45], device="cuda", dtype=t.int64)
    _captured_equals_eager(lambda: robocache.fuse_multimodal([(a, ta), (b, tb, lb)], tgt,
                                                             interp=["nearest", "cubic"]))


@pytest.mark.parametrize("mode", ["occupancy", "count", "mean", "max"])
def test_each_voxel_mode_captures_with_default_arguments(mode):
    t = torch()
    pts = t.rand((3, 500, 3), device="cuda")
    feats = t.randn((3, 500, 2), device="cuda") if mode in ("mean", "max") else None
    lengths = t.tensor([500, 250, 0], device="cuda", dtype=t.int64)
    _captured_equals_eager(lambda: robocache.voxelize_pointcloud(pts, (0, 0, 0), 0.2, (5, 5, 5), mode=mode,
                                                                 features=feats, lengths=lengths),
                           exact=mode != "mean")


def test_staged_and_unstaged_rows_agree_with_the_cpu_backend():
    """Rows short enough to stage in shared memory and rows too long to stage give the CPU
    backend's bits (a 5000-sample f64 row is 40 KB, past the 32 KB staging area)."""
    if not robocache.check_installation()["cpu"]["available"]:
        pytest.skip("the CPU backend is not built here")
    for S in (300, 5000):
        data, src, tgt = stream(B=2, S=S, T=700, D=6, seed=S)
        got = robocache.resample_trajectories(data, src, tgt).cpu().numpy()
        want = robocache.resample_trajectories(data.cpu().numpy(), src.cpu().numpy(), tgt.cpu().numpy())
        np.testing.assert_array_equal(got, want)
