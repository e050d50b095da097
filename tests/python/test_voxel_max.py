"""Voxel `max` (docs/semantics.md, voxelize): +0 wins over -0 whatever the order the points come
in, NaN features are ignored, an all-NaN channel gives NaN, an empty voxel 0, on both backends."""

from __future__ import annotations

import numpy as np
import pytest

import robocache

GRID = dict(grid_min=(0.0, 0.0, 0.0), voxel_size=1.0, grid_shape=(3, 1, 1))


def zero_and_nan_cloud(dtype):
    """Voxel 0: -0 then +0 (channel 0), +0 then -0 (channel 1); voxel 1: NaN and -0 (channel 0),
    only NaN (channel 1); voxel 2: empty."""
    pts = np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [1.5, 0.5, 0.5]], dtype)
    feats = np.array([[-0.0, 0.0], [0.0, -0.0], [np.nan, np.nan], [-0.0, np.nan]], dtype)
    return pts, feats


def check(out):
    out = np.asarray(out)[:, 0, 0]
    assert not np.signbit(out[0]).any(), f"+0 must win over -0 in voxel 0, got {out[0]!r}"
    assert out[1, 0] == 0.0 and np.signbit(out[1, 0]), "NaN is ignored: -0 is voxel 1's channel 0 max"
    assert np.isnan(out[1, 1]), "a channel whose features are all NaN gives NaN"
    np.testing.assert_array_equal(out[2], [0.0, 0.0])
    assert not np.signbit(out[2]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_voxel_max_orders_zeros_and_ignores_nan(dtype):
    pts, feats = zero_and_nan_cloud(dtype)
    check(robocache.voxelize_pointcloud(pts, **GRID, mode="max", features=feats))
    # Reversed point order: the same bits.
    check(robocache.voxelize_pointcloud(pts[::-1].copy(), **GRID, mode="max", features=feats[::-1].copy()))


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_voxel_max_orders_zeros_and_ignores_nan(dtype):
    import torch

    pts, feats = zero_and_nan_cloud(dtype)
    for order in (slice(None), slice(None, None, -1)):
        out = robocache.voxelize_pointcloud(torch.from_numpy(pts[order].copy()).cuda(), **GRID, mode="max",
                                            features=torch.from_numpy(feats[order].copy()).cuda())
        check(out.cpu().numpy())
