"""The CPU voxel scatter at 1 to 3 threads (backends/cpu/voxelize_ir.cpp): serial launches use
plain updates, parallel count/mean/max launches split the grid's cells between threads. Every
thread count must give the reference's answer, and mean the same bits at every count up to 8
(each cell's sum is taken in point order by one thread)."""

import numpy as np
import pytest

import robocache
from reference import voxelize as ref_voxelize

GRID = dict(grid_min=(-1.0, -1.0, -1.0), voxel_size=0.25, grid_shape=(8, 8, 8))


@pytest.fixture
def threads():
    yield robocache.set_num_threads
    robocache.set_num_threads(0)


def cloud(seed=3, B=3, N=20011, F=2):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1.1, 1.1, (B, N, 3)).astype(np.float32)  # some fall outside the grid
    pts[0, 5] = np.nan
    feats = rng.standard_normal((B, N, F)).astype(np.float32)
    feats[1, 7, 0] = np.nan
    # A row cut mid-segment, an empty row and a full one: segments of 64 points never cross rows.
    return pts, feats, np.array([N, 0, 777])


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("mode", ["occupancy", "count", "max", "mean"])
def test_every_thread_count_matches_the_reference(threads, n, mode):
    threads(n)
    pts, feats, lengths = cloud()
    kw = {"features": feats} if mode in ("mean", "max") else {}
    got = robocache.voxelize_pointcloud(pts, mode=mode, lengths=lengths, **GRID, **kw)
    want = ref_voxelize(pts, GRID["grid_min"], GRID["voxel_size"], GRID["grid_shape"], mode, lengths=lengths, **kw)
    if mode == "mean":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)


def test_mean_has_the_same_bits_at_every_thread_count(threads):
    pts, feats, lengths = cloud(seed=5)
    results = []
    for n in (1, 2, 3, 8):
        threads(n)
        results.append(robocache.voxelize_pointcloud(pts, mode="mean", features=feats, lengths=lengths, **GRID))
    for r in results[1:]:
        assert r.tobytes() == results[0].tobytes()
