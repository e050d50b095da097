"""A CUDA voxel grid larger than one L2-sized range (compiler/voxelize_abi.h, kCudaPassBytes) is
cleared, scattered and finalised range by range; the result is the float64 reference's (exact for
count, occupancy and max; within float rounding for mean's atomic sums)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
import robocache

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("mode", ["count", "occupancy", "mean", "max"])
def test_grid_split_into_l2_ranges_matches_cpu(mode):
    import torch

    rng = np.random.default_rng(31)
    # count/occupancy: 2 x 128 x 256 x 256 cells of 4 bytes = 64 MiB, two ranges; mean and max
    # (20 and 16 bytes a cell): 2 x 128^3 cells, 80 and 64 MiB, two ranges each.
    shape = (128, 256, 256) if mode in ("count", "occupancy") else (128, 128, 128)
    B, N = 2, 300_000
    pts = rng.uniform(-0.05, 1.05, size=(B, N, 3)).astype(np.float32) * np.array(shape, np.float32)
    lengths = np.array([N, N // 3])
    kw = {"lengths": lengths}
    if mode in ("mean", "max"):
        feats = rng.standard_normal((B, N, 4)).astype(np.float32)
        feats[0, ::97, 1] = np.nan if mode == "max" else feats[0, ::97, 1]
        kw["features"] = feats
    want = ref.voxelize(pts, (0, 0, 0), 1.0, shape, mode, kw.get("features"), lengths)
    gpu = robocache.voxelize_pointcloud(torch.from_numpy(pts).cuda(), (0, 0, 0), 1.0, shape, mode=mode,
                                        **{k: torch.from_numpy(v).cuda() for k, v in kw.items()})
    got = gpu.cpu().numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    if mode == "mean":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)
    # The points land in every range: each quarter of the flat grid has nonzero cells.
    assert all(np.count_nonzero(q) > 0 for q in np.array_split(want.reshape(-1), 4))
