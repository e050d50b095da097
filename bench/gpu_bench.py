"""The GPU cases of targets.md and issue 13, side by side: RoboCache, eager PyTorch, torch.compile
and the memory floor, measured in one process with targets.md's method.

    python bench/gpu_bench.py [--cases R1,X1,...] [--sweep] [--tune] [--no-compile] [--out DIR]

Method (shared/targets.md):
- `us`: Triton's `do_bench` (L2 flushed before every repetition, median) of one call that
  allocates its output, as a user's code does.
- `gpu_us`: one replay of a CUDA graph holding 20 calls on 20 distinct input and output sets (so
  L2 holds none of them), divided by 20, for every implementation alike (do_bench median of the
  replay).
- `floor_us`: bytes that must move over the copy bandwidth (torch `copy_` of 1 GiB, bytes read +
  written) measured in this process. Bytes: the distinct source rows the mode reads (1 per target
  for nearest and previous, 2 for linear and slerp, 4 for cubic, at most the row's length), every
  time array at its dtype, and the outputs; for voxels the points and features read and the grid
  written once.
- `eager`: the fastest of the PyTorch formulations a user writes first; `torch.compile`: the
  fastest of the same formulations under torch.compile (each timed 3 times, interleaved).
- RoboCache runs its default config (no tuning database). With --tune each case is also tuned and
  the tuned config timed beside the default, interleaved (3 repeats, GPU-only figure).

Writes `gpu-<device>-<date>[-tag].jsonl` under --out (one JSON line per case and implementation);
bench/plot_gpu.py draws the chart from it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
from triton.testing import do_bench

import robocache

DEV = "cuda"
SETS = 20  # distinct input/output sets in one GPU-only graph
EPOCH = 1.7e9  # robot logs carry epoch seconds; realistic cases use f64 clocks from here


# ---------------------------------------------------------------------------------------------
# Inputs


def clock(B: int, S: int, rate: float, seed: int, dtype=torch.float64, t0: float = 0.0, jitter: float = 0.2):
    """[B,S] increasing sample times at `rate` Hz with +-jitter/2 of a period, from t0 (+ a per-row
    offset of up to one period), in `dtype`."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    period = 1.0 / rate
    base = torch.arange(S, device=DEV, dtype=torch.float64) * period
    off = torch.rand((B, 1), generator=g, device=DEV, dtype=torch.float64) * period
    jit = (torch.rand((B, S), generator=g, device=DEV, dtype=torch.float64) - 0.5) * jitter * period
    return (t0 + base + off + jit).to(dtype).contiguous()


def values(shape, dtype, seed: int) -> torch.Tensor:
    g = torch.Generator(device=DEV).manual_seed(seed)
    return torch.randn(shape, generator=g, device=DEV, dtype=torch.float32).to(dtype)


def quaternions(B: int, S: int, seed: int) -> torch.Tensor:
    """[B,S,4] unit quaternions that rotate smoothly (a real orientation log, not noise)."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn((B, 1, 3), generator=g, device=DEV), dim=-1)
    angle = torch.cumsum(torch.rand((B, S, 1), generator=g, device=DEV) * 0.02, dim=1)
    return torch.cat([axis * torch.sin(angle / 2), torch.cos(angle / 2)], dim=-1)


def nbytes(*tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def rows_read(S: int, T: int, per_target: int) -> int:
    """Distinct source rows a mode reads: per_target per target, at most the row's length."""
    return min(S, per_target * T)


# ---------------------------------------------------------------------------------------------
# The PyTorch a user writes first. Each returns [B,T,D] in data's dtype, blending in f32.


def _bracket(src: torch.Tensor, tgt: torch.Tensor, S: int):
    if src.dim() == 1:
        src = src.expand(tgt.shape[0], -1) if tgt.dim() == 2 else src
    r = torch.searchsorted(src, tgt, right=True).clamp(1, S - 1)
    return r - 1, r, src


def eager_gather(data, src, tgt, lengths=None):
    """searchsorted + gather + lerp (formulation A)."""
    S, D = data.shape[1], data.shape[2]
    l, r, src = _bracket(src, tgt, S)
    tl, tr = src.gather(1, l), src.gather(1, r)
    w = ((tgt - tl) / (tr - tl)).clamp(0, 1).float()
    vl = data.gather(1, l.unsqueeze(-1).expand(-1, -1, D)).float()
    vr = data.gather(1, r.unsqueeze(-1).expand(-1, -1, D)).float()
    return torch.lerp(vl, vr, w.unsqueeze(-1)).to(data.dtype)


def eager_index(data, src, tgt, lengths=None):
    """searchsorted(right=True) once, weights in f32, advanced indexing of the two rows (B)."""
    B, S = data.shape[0], data.shape[1]
    l, r, src = _bracket(src, tgt, S)
    bi = torch.arange(B, device=data.device).unsqueeze(1)
    w = ((tgt - src[bi, l]) / (src[bi, r] - src[bi, l])).clamp(0, 1).to(torch.float32).unsqueeze(-1)
    vl, vr = data[bi, l].float(), data[bi, r].float()
    return (vl + w * (vr - vl)).to(data.dtype)


RESAMPLE_FORMS = {"gather": eager_gather, "index": eager_index}


def eager_nearest(data, src, tgt, lengths=None):
    B, S, D = data.shape
    l, r, src = _bracket(src, tgt, S)
    bi = torch.arange(B, device=data.device).unsqueeze(1)
    pick = torch.where((tgt - src[bi, l]) <= (src[bi, r] - tgt), l, r)
    return data[bi, pick]


def eager_pose(data, src, tgt, lengths):
    """Position linear, quaternion slerp, gripper previous, per-row lengths (what a careful user
    writes: clamp the bracket into each row's valid samples, slerp along the shorter arc)."""
    B, S, D = data.shape
    L = lengths.unsqueeze(1)
    r = torch.searchsorted(src, tgt, right=True)
    r = torch.minimum(torch.maximum(r, torch.ones_like(r)), L - 1).clamp(min=1)
    l = r - 1
    bi = torch.arange(B, device=data.device).unsqueeze(1)
    tl, tr = src[bi, l], src[bi, r]
    w = ((tgt - tl) / (tr - tl)).clamp(0, 1).to(torch.float32).unsqueeze(-1)
    vl, vr = data[bi, l], data[bi, r]
    pos = vl[..., :3] + w * (vr[..., :3] - vl[..., :3])
    ql, qr = vl[..., 3:7], vr[..., 3:7]
    d = (ql * qr).sum(-1, keepdim=True)
    qr = torch.where(d < 0, -qr, qr)
    d = d.abs().clamp(max=1.0)
    th = torch.acos(d)
    s = torch.sin(th)
    small = th < 1e-6
    wl = torch.where(small, 1 - w, torch.sin((1 - w) * th) / torch.where(small, torch.ones_like(s), s))
    wr = torch.where(small, w, torch.sin(w * th) / torch.where(small, torch.ones_like(s), s))
    q = torch.nn.functional.normalize(wl * ql + wr * qr, dim=-1)
    grip = torch.where(w >= 1, vr[..., 7:8], vl[..., 7:8])
    return torch.cat([pos, q, grip], dim=-1)


def voxel_flat(points, grid_min, voxel, shape):
    X, Y, Z = shape
    lo = torch.tensor(grid_min, device=points.device, dtype=points.dtype)
    idx = torch.floor((points - lo) / voxel).long()
    ok = ((idx >= 0) & (idx < torch.tensor(shape, device=points.device))).all(dim=-1)
    flat = (idx[..., 0] * Y + idx[..., 1]) * Z + idx[..., 2]
    return torch.where(ok, flat, torch.full_like(flat, X * Y * Z)), ok  # dropped points -> a spare slot


def eager_voxel_fill(points, grid_min, voxel, shape, mode):
    """index_fill_ / index_add_ into zeros (formulation A)."""
    X, Y, Z = shape
    flat, _ = voxel_flat(points, grid_min, voxel, shape)
    if mode == "occupancy":
        grid = torch.zeros(X * Y * Z + 1, device=points.device, dtype=torch.float32)
        grid.index_fill_(0, flat, 1.0)
    else:
        grid = torch.zeros(X * Y * Z + 1, device=points.device, dtype=torch.int32)
        grid.index_add_(0, flat, torch.ones_like(flat, dtype=torch.int32))
    return grid[:-1].view(X, Y, Z)


def eager_voxel_bincount(points, grid_min, voxel, shape, mode):
    """bincount over the flat cell index (formulation B)."""
    X, Y, Z = shape
    flat, _ = voxel_flat(points, grid_min, voxel, shape)
    counts = torch.bincount(flat, minlength=X * Y * Z + 1)[: X * Y * Z]
    out = (counts > 0).float() if mode == "occupancy" else counts.int()
    return out.view(X, Y, Z)


def eager_voxel_reduce(points, features, grid_min, voxel, shape, mode):
    """Batched mean / max of features per cell with scatter_reduce (points [B,N,3], features [B,N,F])."""
    B, N, F = features.shape
    X, Y, Z = shape
    V = X * Y * Z
    flat, _ = voxel_flat(points, grid_min, voxel, shape)
    flat = flat + torch.arange(B, device=points.device).unsqueeze(1) * (V + 1)
    flat = flat.reshape(-1, 1).expand(-1, F)
    src = features.reshape(-1, F)
    red = "mean" if mode == "mean" else "amax"
    out = torch.zeros((B * (V + 1), F), device=points.device, dtype=features.dtype)
    out.scatter_reduce_(0, flat, src, reduce=red, include_self=False)
    return out.view(B, V + 1, F)[:, :V].reshape(B, X, Y, Z, F)


def fuse_gather(tgt, *flat):
    return torch.cat([eager_gather(flat[i], flat[i + 1], tgt) for i in range(0, len(flat), 2)], dim=-1)


def fuse_index(tgt, *flat):
    return torch.cat([eager_index(flat[i], flat[i + 1], tgt) for i in range(0, len(flat), 2)], dim=-1)


def _voxel_forms():
    """One function object per (formulation, mode, grid), so torch.compile compiles each once and
    every input set reuses it."""
    forms = {}
    for mode, G in (("occupancy", 128), ("count", 256)):
        shape = (G, G, G)
        forms[("fill", mode, G)] = (lambda p, m=mode, s=shape: eager_voxel_fill(p, (0.0, 0.0, 0.0), 0.05, s, m))
        forms[("bincount", mode, G)] = (lambda p, m=mode, s=shape: eager_voxel_bincount(p, (0.0, 0.0, 0.0), 0.05, s, m))
    for mode in ("mean", "max"):
        grid = (64, 64, 32)
        forms[("reduce", mode, grid)] = (
            lambda p, f, m=mode, g=grid: eager_voxel_reduce(p, f, (0.0, 0.0, 0.0), 0.1, g, m))
    return forms


VOXEL_FORMS = _voxel_forms()


# ---------------------------------------------------------------------------------------------
# The cases: each make(seed) builds one input set and returns what every implementation needs.


@dataclass
class Case:
    """One benchmark case: `make(seed)` -> dict(spec, rc, forms, bytes, shape)."""

    name: str
    title: str
    op: str  # resample, fuse or voxelize: which floor rule applies
    make: Callable[[int], dict]


def resample_case(B, S, T, D, dtype, time_dtype=torch.float32, interp="linear"):
    def make(seed):
        if time_dtype == torch.float32:  # targets.md's table: 10 s of samples, f32 times from 0
            src = clock(B, S, S / 10.0, seed, torch.float32)
            tgt = clock(B, T, T / 10.0, seed + 1, torch.float32, t0=0.05)
        else:
            src = clock(B, S, S / 10.0, seed, torch.float64, t0=EPOCH)
            tgt = clock(B, T, T / 10.0, seed + 1, torch.float64, t0=EPOCH + 0.05)
        data = values((B, S, D), dtype, seed + 2)
        per = {"linear": 2, "nearest": 1, "previous": 1, "cubic": 4}[interp]
        moved = B * (rows_read(S, T, per) + T) * D * data.element_size() + nbytes(src, tgt)  # rows read, output
        forms = RESAMPLE_FORMS if interp == "linear" else {"nearest": eager_nearest}
        spec = {"op": "resample", "dtype": DNAME[dtype], "time_dtype": DNAME[time_dtype], "dim": D, "interp": interp}
        return {"rc": lambda: robocache.resample_trajectories(data, src, tgt, interp=interp),
                "spec": spec, "kargs": (data, src, tgt),
                "forms": {k: (f, (data, src, tgt)) for k, f in forms.items()},
                "bytes": moved, "shape": {"B": B, "S": S, "T": T, "D": D}}
    return make


def fuse_case(B, mods, T, dtype, time_dtype=torch.float32, rates=None):
    """mods: [(S_i, D_i)], all streams over the same span of time; rates only set the labels."""
    def make(seed):
        span = 10.0
        t0 = EPOCH if time_dtype == torch.float64 else 0.0
        streams = []
        for i, (S, D) in enumerate(mods):
            t = clock(B, S, S / span, seed + 10 * i, time_dtype, t0=t0)
            streams.append((values((B, S, D), dtype, seed + 10 * i + 1), t))
        tgt = clock(B, T, T / span, seed + 99, time_dtype, t0=t0 + 0.05)
        esz = streams[0][0].element_size()
        moved = sum(B * rows_read(S, T, 2) * D * esz + nbytes(t) for (S, D), (_, t) in zip(mods, streams))
        moved += nbytes(tgt) + B * T * sum(D for _, D in mods) * esz
        flat = tuple(x for pair in streams for x in pair)
        forms = {"gather": (fuse_gather, (tgt,) + flat), "index": (fuse_index, (tgt,) + flat)}
        spec = {"op": "fuse", "dtype": DNAME[dtype], "time_dtype": DNAME[time_dtype],
                "modalities": [{"dim": D, "interp": "linear"} for _, D in mods]}
        return {"rc": lambda: robocache.fuse_multimodal(streams, tgt), "forms": forms, "bytes": moved,
                "spec": spec, "kargs": (streams, tgt),
                "shape": {"B": B, "S": [S for S, _ in mods], "D": [D for _, D in mods], "T": T}}
    return make


def pose_case(B, S, T):
    """x, y, z linear; quaternion slerp; gripper previous; per-row lengths; f64 epoch clocks."""
    def make(seed):
        src = clock(B, S, S / 10.0, seed, torch.float64, t0=EPOCH)
        tgt = clock(B, T, T / 10.0, seed + 1, torch.float64, t0=EPOCH + 0.05)
        data = torch.cat([values((B, S, 3), torch.float32, seed + 2), quaternions(B, S, seed + 3),
                          (values((B, S, 1), torch.float32, seed + 4) > 0).float()], dim=-1).contiguous()
        g = torch.Generator(device=DEV).manual_seed(seed + 5)
        lengths = torch.randint(S // 2, S + 1, (B,), generator=g, device=DEV, dtype=torch.int64)
        groups = [(0, 3, "linear"), (3, 4, "slerp"), (7, 1, "previous")]
        moved = B * rows_read(S, T, 2) * 8 * 4 + nbytes(src, tgt, lengths) + B * T * 8 * 4
        spec = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 8,
                "groups": [{"start": a, "size": n, "interp": m} for a, n, m in groups]}
        return {"rc": lambda: robocache.resample_trajectories(data, src, tgt, groups=groups, lengths=lengths),
                "spec": spec, "kargs": (data, src, tgt, lengths),
                "forms": {"pose": (eager_pose, (data, src, tgt, lengths))},
                "bytes": moved, "shape": {"B": B, "S": S, "T": T, "D": 8}}
    return make


def voxel_case(N, G, mode):
    def make(seed):
        g = torch.Generator(device=DEV).manual_seed(seed)
        voxel = 0.05
        points = (torch.rand((N, 3), generator=g, device=DEV) * (G * voxel * 0.999)).contiguous()
        grid_min, shape = (0.0, 0.0, 0.0), (G, G, G)
        moved = nbytes(points) + G ** 3 * 4
        return {"rc": lambda: robocache.voxelize_pointcloud(points, grid_min, voxel, shape, mode=mode),
                "spec": {"op": "voxelize", "mode": mode, "coord_dtype": "f32"}, "kargs": (points, grid_min, voxel, shape),
                "forms": {"fill": (VOXEL_FORMS[("fill", mode, G)], (points,)),
                          "bincount": (VOXEL_FORMS[("bincount", mode, G)], (points,))},
                "bytes": moved, "shape": {"B": 1, "N": N, "grid": G}}
    return make


def voxel_feature_case(B, N, grid, F, mode):
    def make(seed):
        g = torch.Generator(device=DEV).manual_seed(seed)
        voxel = 0.1
        X, Y, Z = grid
        scale = torch.tensor([X, Y, Z], device=DEV, dtype=torch.float32) * voxel * 1.05  # ~5% fall outside
        points = (torch.rand((B, N, 3), generator=g, device=DEV) * scale).contiguous()
        feats = torch.randn((B, N, F), generator=g, device=DEV).contiguous()
        moved = nbytes(points, feats) + B * X * Y * Z * F * 4
        return {"rc": lambda: robocache.voxelize_pointcloud(points, (0.0, 0.0, 0.0), voxel, grid, mode=mode,
                                                            features=feats),
                "forms": {"scatter_reduce": (VOXEL_FORMS[("reduce", mode, grid)], (points, feats))},
                "bytes": moved, "shape": {"B": B, "N": N, "grid": list(grid), "F": F}}
    return make


bf16, f32, f64 = torch.bfloat16, torch.float32, torch.float64
DNAME = {bf16: "bf16", f32: "f32", f64: "f64", torch.float16: "f16"}
CASES = [
    # targets.md's table (f32 clocks from 0, as there)
    Case("R1", "R1 resample bf16 B32 S500->T256 D256", "resample", resample_case(32, 500, 256, 256, bf16)),
    Case("R2f", "R2 resample f32 B64 S4096->T1024 D32", "resample", resample_case(64, 4096, 1024, 32, f32)),
    Case("R2b", "R2 resample bf16 B64 S4096->T1024 D32", "resample", resample_case(64, 4096, 1024, 32, bf16)),
    Case("R3", "R3 resample bf16 B256 S2000->T1000 D64", "resample", resample_case(256, 2000, 1000, 64, bf16)),
    Case("R4", "R4 resample f32 B1 S100->T50 D7", "resample", resample_case(1, 100, 50, 7, f32)),
    Case("F1", "F1 fuse bf16 B4 (30x512,100x64,200x12)->50", "fuse",
         fuse_case(4, [(30, 512), (100, 64), (200, 12)], 50, bf16)),
    Case("F2", "F2 fuse bf16 B256 (300x512,1000x64,2000x12)->500", "fuse",
         fuse_case(256, [(300, 512), (1000, 64), (2000, 12)], 500, bf16)),
    Case("V1", "V1 voxel occupancy 500k points 128^3", "voxelize", voxel_case(500_000, 128, "occupancy")),
    Case("V2", "V2 voxel count 4M points 256^3", "voxelize", voxel_case(4_000_000, 256, "count")),
    # Realistic cases (f64 epoch clocks): a multi-rate fleet log, a pose log, batched clouds.
    Case("X1", "X1 fuse f32 B64, 20 s: camera 30Hz x512, joints 500Hz x14, force 1kHz x6 -> 50Hz", "fuse",
         fuse_case(64, [(600, 512), (10000, 14), (20000, 6)], 1000, f32, f64)),
    Case("X2", "X2 pose f32 B256 S5000->T1500 D8 (linear 3, slerp 4, previous 1), lengths", "resample",
         pose_case(256, 5000, 1500)),
    Case("X3", "X3 resample bf16 B128 S3000->T1000 D128 f64 clocks", "resample",
         resample_case(128, 3000, 1000, 128, bf16, f64)),
    Case("X4", "X4 resample nearest f32 B64 S300->T1000 D256 f64 clocks (frames to 100 Hz)", "resample",
         resample_case(64, 300, 1000, 256, f32, f64, "nearest")),
    Case("X5", "X5 fuse f32 B16, 5 streams (1kHz x6, 500Hz x14, 200Hz x9, 100Hz x3, 30Hz x64) -> 50Hz", "fuse",
         fuse_case(16, [(10000, 6), (5000, 14), (2000, 9), (1000, 3), (300, 64)], 500, f32, f64)),
    Case("X6", "X6 voxel mean B16 x 100k points 64x64x32 F4", "voxelize",
         voxel_feature_case(16, 100_000, (64, 64, 32), 4, "mean")),
    Case("X7", "X7 voxel max B16 x 100k points 64x64x32 F4", "voxelize",
         voxel_feature_case(16, 100_000, (64, 64, 32), 4, "max")),
]

# Scaling sweep: linear f32 resample with f64 clocks, one dimension at a time over two decades.
SWEEP = ([Case(f"SB{B}", f"sweep B={B} (S2000 T1000 D32)", "resample", resample_case(B, 2000, 1000, 32, f32, f64))
          for B in (4, 32, 256)]
         + [Case(f"SS{S}", f"sweep S={S} (B64 T500 D32)", "resample", resample_case(64, S, 500, 32, f32, f64))
            for S in (200, 2000, 20000)]
         + [Case(f"ST{T}", f"sweep T={T} (B64 S4000 D32)", "resample", resample_case(64, 4000, T, 32, f32, f64))
            for T in (100, 1000, 10000)]
         + [Case(f"SD{D}", f"sweep D={D} (B64 S2000 T1000)", "resample", resample_case(64, 2000, 1000, D, f32, f64))
            for D in (4, 32, 512)])


# ---------------------------------------------------------------------------------------------
# Measurement


def bench_us(fn) -> float:
    return do_bench(fn, warmup=25, rep=100, return_mode="median") * 1e3


def graph_of(fns):
    """The calls fns[i]() captured one after another in one CUDA graph (after a warm-up on a side
    stream); returns its replay."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            for fn in fns:
                fn()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for fn in fns:
            fn()
    return graph


def gpu_only_us(fns) -> Optional[float]:
    """GPU time of one call: a graph of the 20 calls (distinct sets), replayed, / 20; None when a
    call cannot be captured."""
    try:
        graph = graph_of(fns)
        us = bench_us(graph.replay) / len(fns)
        del graph
        return us
    except Exception as e:  # noqa: BLE001 - a baseline that cannot be captured has no GPU-only figure
        print(f"    (not capturable: {type(e).__name__}: {str(e)[:120]})", flush=True)
        torch.cuda.synchronize()
        return None


def copy_bandwidth() -> float:
    """torch copy_ of 1 GiB, bytes read + written per second."""
    src = torch.empty(2**30, dtype=torch.uint8, device=DEV)
    dst = torch.empty_like(src)
    ms = do_bench(lambda: dst.copy_(src), warmup=10, rep=100, return_mode="median")
    del src, dst
    return 2 * 2**30 / (ms * 1e-3)


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    ok = torch.isfinite(b)
    if not bool(ok.any()):
        return 0.0
    return float((a[ok] - b[ok]).norm() / b[ok].norm().clamp_min(1e-30))


def git_commit() -> str:
    if os.environ.get("ROBOCACHE_COMMIT"):
        return os.environ["ROBOCACHE_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def target_us(op: str, floor: float) -> float:
    """targets.md: <= 1.3 x floor + 3 us (resample, fuse, window), <= 2 x floor + 3 us (voxels)."""
    return (2.0 if op == "voxelize" else 1.3) * floor + 3.0


def run_case(case: Case, bw: float, args, emit) -> None:
    sets = [case.make(1000 * i + 7) for i in range(SETS)]
    first = sets[0]
    floor = first["bytes"] / bw * 1e6
    common = {"case": case.name, "title": case.title, "op": case.op, "shape": first["shape"],
              "floor_us": round(floor, 3), "target_us": round(target_us(case.op, floor), 2), "bytes": first["bytes"]}

    rc_out = first["rc"]()
    torch.cuda.synchronize()
    robocache.synchronize()
    rc_us = bench_us(first["rc"])
    rc_gpu = gpu_only_us([s["rc"] for s in sets])
    robocache.synchronize()

    # Baselines: every formulation eager, then each under torch.compile (compiled once, called on
    # every set); 3 repeats, interleaved with each other.
    base = {}
    for form, (fn, fargs) in first["forms"].items():
        ref = fn(*fargs)
        err = rel_error(rc_out, ref)
        impls = [("eager", fn)]
        if not args.no_compile:
            try:
                cfn = torch.compile(fn, dynamic=False)
                t0 = time.perf_counter()
                cfn(*fargs)
                torch.cuda.synchronize()
                base[("torch.compile", form, "first_call_s")] = time.perf_counter() - t0
                impls.append(("torch.compile", cfn))
            except Exception as e:  # noqa: BLE001 - a baseline that fails to compile is reported
                emit({**common, "impl": "torch.compile", "form": form, "us": None,
                      "error": f"{type(e).__name__}: {e}"[:300]})
        runs = {impl: ([], []) for impl, _ in impls}
        for _ in range(3):
            for impl, f in impls:
                runs[impl][0].append(bench_us(lambda f=f: f(*fargs)))
                g = gpu_only_us([(lambda f=f, a=s_["forms"][form][1]: f(*a)) for s_ in sets])
                if g is not None:
                    runs[impl][1].append(g)
        for impl, (us_runs, gpu_runs) in runs.items():
            base[(impl, form)] = (statistics.median(us_runs), statistics.median(gpu_runs) if gpu_runs else None, err)
    for impl in ("eager", "torch.compile"):
        got = {form: v for (i, form, *rest), v in base.items() if i == impl and not rest}
        if not got:
            continue
        # The fastest formulation, by GPU-only time where it has one.
        form, (us, gpu, err) = min(got.items(), key=lambda kv: kv[1][1] if kv[1][1] is not None else kv[1][0])
        emit({**common, "impl": impl, "form": form, "us": round(us, 2), "gpu_us": gpu and round(gpu, 2),
              "all_forms": {f: {"us": round(v[0], 2), "gpu_us": v[1] and round(v[1], 2)} for f, v in got.items()},
              "rel_err_robocache_vs_this": err,
              **({"first_call_s": round(base[(impl, form, "first_call_s")], 1)}
                 if (impl, form, "first_call_s") in base else {})})
    compiled_gpu = min((v[1] for (i, *rest), v in base.items() if i == "torch.compile" and len(rest) == 1 and v[1]),
                       default=None)
    row = {**common, "impl": "robocache", "us": round(rc_us, 2), "gpu_us": rc_gpu and round(rc_gpu, 2),
           "compiled_gpu_us": compiled_gpu and round(compiled_gpu, 2),
           "meets_floor_target": rc_gpu is not None and rc_gpu <= common["target_us"]}
    if compiled_gpu:
        need = compiled_gpu / 1.5 if compiled_gpu > 2 * floor + 3 else compiled_gpu
        row["beats_compiled"] = rc_gpu is not None and rc_gpu < need
    emit(row)
    if args.tune:
        tune_case(case, sets, common, emit)
    del sets
    torch.cuda.empty_cache()


def tune_case(case, sets, common, emit):
    """Tunes the case's spec on set 0, then times the default config and the tuned one GPU-only
    (graphs of 20 calls on distinct sets), 3 interleaved repeats (acceptance: tuning gains <= 10%)."""
    first = sets[0]
    if first.get("kargs") is None:
        return
    t0 = time.perf_counter()
    res = robocache.tune(first["spec"], [first["kargs"]], target="cuda", save=False, progress=False)
    tune_s = time.perf_counter() - t0
    default_cfg = res.rows[0].config  # the config space starts with the default
    kernels = {"default": robocache.compile(first["spec"], "cuda", config=default_cfg),
               "tuned": robocache.compile(first["spec"], "cuda", config=res.best)}
    times = {"default": [], "tuned": []}
    for _ in range(3):
        for name, k in kernels.items():
            times[name].append(gpu_only_us([(lambda s=s, k=k: k(*s["kargs"])) for s in sets]))
    d = statistics.median([t for t in times["default"] if t is not None] or [math.nan])
    t = statistics.median([t for t in times["tuned"] if t is not None] or [math.nan])
    emit({**common, "impl": "robocache-tuned", "us": None, "gpu_us": round(t, 2), "default_gpu_us": round(d, 2),
          "tuning_gain": round(d / t - 1, 3) if t > 0 else None, "tuned_config": res.best,
          "default_config": default_cfg, "configs_tried": len(res.rows), "tune_seconds": round(tune_s, 1)})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all of CASES)")
    ap.add_argument("--sweep", action="store_true", help="also run the scaling sweep")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--tag", default="", help="extra text for the results file name")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile baselines")
    ap.add_argument("--tune", action="store_true", help="also tune each case and compare with the default config")
    args = ap.parse_args()

    wanted = [c for c in args.cases.split(",") if c]
    pool = CASES + SWEEP
    cases = [c for c in pool if c.name in wanted] if wanted else CASES + (SWEEP if args.sweep else [])
    props = torch.cuda.get_device_properties(0)
    device = props.name
    date = datetime.date.today().isoformat()
    slug = "h100" if "H100" in device else "h200" if "H200" in device else device.lower().replace(" ", "-")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"gpu-{slug}-{date}{('-' + args.tag) if args.tag else ''}.jsonl"
    bw = copy_bandwidth()
    meta = {"date": date, "device": device, "sms": props.multi_processor_count, "commit": git_commit(),
            "torch": torch.__version__, "copy_bandwidth_tb_s": round(bw / 1e12, 3),
            "method": "do_bench median (L2 flushed) of an allocating call; gpu_us: graph of 20 calls on 20 "
                      "distinct sets / 20"}

    def emit(row):
        row = {**meta, **row}
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        us, gpu = row.get("us"), row.get("gpu_us")
        text = f"{row['case']:<6} {row['impl']:<14} {us if us is not None else 'n/a':>9} us"
        text += f"  GPU {gpu:8.2f}" if gpu else "  GPU      n/a"
        if row["impl"] == "robocache":
            text += (f"  floor {row['floor_us']:.2f} target {row['target_us']:.2f}"
                     f" {'MET' if row['meets_floor_target'] else 'miss'}"
                     f"  vs compiled {row.get('compiled_gpu_us')} {'WIN' if row.get('beats_compiled') else ''}")
        elif "form" in row:
            text += f"  [{row['form']}] err {row.get('rel_err_robocache_vs_this', 0):.1e}"
        print(text, flush=True)

    print(f"device {device}, copy bandwidth {bw / 1e12:.2f} TB/s, results -> {path}", flush=True)
    # What one tiny kernel costs GPU-only here (the same graph method): the floor under R4 and F1.
    tiny = [torch.zeros(16, device=DEV) for _ in range(SETS)]
    emit({"case": "launch", "impl": "torch x.add_(1)", "us": round(bench_us(lambda: tiny[0].add_(1)), 2),
          "gpu_us": round(gpu_only_us([(lambda x=x: x.add_(1)) for x in tiny]), 2)})
    for case in cases:
        try:
            run_case(case, bw, args, emit)
        except Exception as e:  # noqa: BLE001 - one broken case must not hide the others
            emit({"case": case.name, "title": case.title, "impl": "robocache", "us": None, "meets_floor_target": False,
                  "floor_us": 0, "target_us": 0, "error": f"{type(e).__name__}: {e}"[:400]})
            torch.cuda.synchronize()
    return 0


if __name__ == "__main__":
    sys.exit(main())
