"""robocache.torch: the custom ops against the Kernel results, torch.library.opcheck,
torch.compile(fullgraph=True), and (GPU) CUDA graph capture and replay."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import robocache  # noqa: E402
import robocache.torch as rt  # noqa: E402

# Tests not marked gpu run on the CPU backend (skipped in a build without it).
pytestmark = pytest.mark.cpu_backend

GRID = dict(grid_min=(-1.0, -1.0, -1.0), voxel_size=0.25, grid_shape=(8, 8, 8))


def inputs(device="cpu", B=3, S=40, T=17, seed=0):
    """Resample/fuse/voxelize inputs as torch tensors on `device`."""
    g = torch.Generator().manual_seed(seed)
    t = dict(
        data=torch.randn(B, S, 7, generator=g),
        src=torch.sort(torch.rand(S, generator=g, dtype=torch.float64)).values,
        force=torch.randn(B, 2 * S, 2, generator=g),
        force_t=torch.sort(torch.rand(2 * S, generator=g, dtype=torch.float64)).values,
        tgt=torch.linspace(-0.1, 1.1, T, dtype=torch.float64).expand(B, T).contiguous(),
        lengths=torch.tensor([S, S // 2, 1][:B], dtype=torch.int64),
        points=torch.rand(B, 300, 3, generator=g) * 2.2 - 1.1,
        features=torch.randn(B, 300, 4, generator=g),
        point_lengths=torch.tensor([300, 120, 0][:B], dtype=torch.int64),
    )
    return {k: v.to(device) for k, v in t.items()}


GROUPS = [(0, 3, "linear"), (3, 4, "slerp")]


def eager_all(x):
    """Each op through the plain robocache API (the Kernel path)."""
    return (
        robocache.resample_trajectories(x["data"], x["src"], x["tgt"], groups=GROUPS, lengths=x["lengths"]),
        robocache.fuse_multimodal([(x["data"], x["src"], x["lengths"]), (x["force"], x["force_t"])], x["tgt"],
                                  interp=["cubic", "nearest"]),
        robocache.voxelize_pointcloud(x["points"], **GRID, mode="mean", features=x["features"],
                                      lengths=x["point_lengths"]),
        robocache.voxelize_pointcloud(x["points"], **GRID, mode="count", lengths=x["point_lengths"]),
    )


def ops_all(x):
    """The same through robocache.torch's custom ops."""
    return (
        rt.resample(x["data"], x["src"], x["tgt"], groups=GROUPS, lengths=x["lengths"]),
        rt.fuse([(x["data"], x["src"], x["lengths"]), (x["force"], x["force_t"])], x["tgt"],
                interp=["cubic", "nearest"]),
        rt.voxelize(x["points"], **GRID, mode="mean", features=x["features"], lengths=x["point_lengths"]),
        rt.voxelize(x["points"], **GRID, mode="count", lengths=x["point_lengths"]),
    )


def assert_same(got, want):
    """Same dtype, shape and device; integer grids exact, float results to float32 rounding (voxel
    means may differ in the last bits with summation order, docs/semantics.md)."""
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape and g.device == w.device
        torch.testing.assert_close(g, w, equal_nan=True)


# ============================================================================================= CPU


def test_custom_ops_equal_the_kernel_results():
    x = inputs()
    assert_same(ops_all(x), eager_all(x))


def test_voxelize_default_dtypes_follow_the_mode():
    x = inputs()
    assert rt.voxelize(x["points"], **GRID, mode="count").dtype == torch.int32
    assert rt.voxelize(x["points"], **GRID).dtype == torch.float32
    assert rt.voxelize(x["points"], **GRID, out_dtype="u8").dtype == torch.uint8
    assert rt.voxelize(x["points"].double(), **GRID, mode="max", features=x["features"].double()).dtype == torch.float64


def test_opcheck_resample():
    x = inputs()
    torch.library.opcheck(torch.ops.robocache.resample.default,
                          (x["data"], x["src"], x["tgt"], x["lengths"], "linear", "", True))


def test_opcheck_fuse():
    x = inputs()
    torch.library.opcheck(torch.ops.robocache.fuse.default,
                          ([x["data"], x["force"]], [x["src"], x["force_t"]], [x["lengths"], None], x["tgt"],
                           "linear,previous", True))


def test_opcheck_voxelize():
    x = inputs()
    torch.library.opcheck(torch.ops.robocache.voxelize.default,
                          (x["points"], x["features"], x["point_lengths"], [-1.0, -1.0, -1.0], [0.25] * 3,
                           [8, 8, 8], "max", "", True))


def test_compiled_fullgraph_equals_eager_on_cpu():
    x = inputs()
    compiled = torch.compile(ops_all, fullgraph=True)
    assert_same(compiled(x), eager_all(x))
    y = inputs(seed=1)  # same shapes, new values: the compiled graph is reused, not re-traced values
    assert_same(compiled(y), eager_all(y))


def test_errors_from_the_op_name_the_argument():
    x = inputs()
    with pytest.raises(ValueError, match="argument 'lengths'"):
        rt.resample(x["data"], x["src"], x["tgt"], lengths=torch.tensor([0, 1, 1]))


# ============================================================================================= GPU


@pytest.mark.gpu
def test_compiled_fullgraph_equals_eager_on_cuda():
    x = inputs("cuda")
    compiled = torch.compile(ops_all, fullgraph=True)
    assert_same(compiled(x), eager_all(x))


@pytest.mark.gpu
@pytest.mark.parametrize("which", [0, 1, 2, 3], ids=["resample", "fuse", "voxelize_mean", "voxelize_count"])
def test_cuda_graph_replay_equals_eager(which):
    static = inputs("cuda", seed=0)
    run = lambda: ops_all(static)[which]  # noqa: E731
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up (compiles the kernel) off the capture stream
        run()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = run()
    fresh = inputs("cuda", seed=1)
    for k, v in fresh.items():
        static[k].copy_(v)
    graph.replay()
    torch.cuda.synchronize()
    assert_same([out], [eager_all(fresh)[which]])
