"""Cases on which the CPU and CUDA backends must agree bit for bit (ops.md: f32 linear, nearest,
previous; count and occupancy; RoboCache also keeps every value dtype of those modes identical).

The GPU machine has no LLVM, so `python tests/python/agreement_cases.py OUT.npz` records the CPU
backend's outputs here, and tests/python/test_cpu_gpu_agreement.py replays the same inputs on CUDA.
"""

from __future__ import annotations

import sys

import ml_dtypes
import numpy as np

VALUE = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16}


def resample_case(rng, dtype, interp, lengths):
    B, S, T, D = 4, 300, 500, 9
    src = 1.7e9 + np.sort(rng.uniform(0, 10, (B, S)), axis=1)
    src[:, 40:45] = src[:, 40:41]  # repeated timestamps
    tgt = 1.7e9 + rng.uniform(-1, 11, (B, T))
    tgt[:, ::50] = src[:, :10]  # exact hits
    tgt[0, 7] = np.nan
    data = rng.standard_normal((B, S, D)).astype(VALUE[dtype])
    lens = rng.integers(1, S + 1, B).astype(np.int64) if lengths else None
    return {"op": "resample", "interp": interp, "data": data, "src": src, "tgt": tgt, "lengths": lens}


def fuse_case(rng):
    B, T = 3, 400
    tgt = np.sort(rng.uniform(-1, 11, (B, T)), axis=1)
    streams = []
    for S, D in ((30, 16), (100, 5), (250, 3)):
        streams.append((rng.standard_normal((B, S, D)).astype(np.float32),
                        np.sort(rng.uniform(0, 10, (B, S)), axis=1)))
    return {"op": "fuse", "interp": ["linear", "nearest", "previous"], "streams": streams, "tgt": tgt}


def voxel_case(rng, mode):
    pts = rng.uniform(-1.2, 1.2, (2, 100_000, 3)).astype(np.float32)
    pts[0, :100, 1] = np.nan
    return {"op": "voxelize", "mode": mode, "points": pts, "lengths": np.array([100_000, 60_000]),
            "grid_min": (-1.0, -1.0, -1.0), "voxel_size": 2.0 / 64, "grid_shape": (64, 64, 64)}


def cases():
    rng = np.random.default_rng(2026)
    out = {}
    for interp in ("linear", "nearest", "previous"):
        out[f"resample-f32-{interp}"] = resample_case(rng, "f32", interp, lengths=True)
    for dtype in ("f64", "f16", "bf16"):
        out[f"resample-{dtype}-linear"] = resample_case(rng, dtype, "linear", lengths=False)
    out["fuse-f32-3"] = fuse_case(rng)
    for mode in ("count", "occupancy"):
        out[f"voxelize-{mode}"] = voxel_case(rng, mode)
    return out


def run(case, convert=lambda a: a, backend="auto"):
    """Runs one case through the high-level API; `convert` moves numpy inputs to another framework."""
    import robocache

    c = lambda a: None if a is None else convert(a)  # noqa: E731
    if case["op"] == "resample":
        return robocache.resample_trajectories(c(case["data"]), c(case["src"]), c(case["tgt"]),
                                               interp=case["interp"], lengths=c(case["lengths"]), backend=backend)
    if case["op"] == "fuse":
        return robocache.fuse_multimodal([(c(d), c(t)) for d, t in case["streams"]], c(case["tgt"]),
                                         interp=case["interp"], backend=backend)
    return robocache.voxelize_pointcloud(c(case["points"]), case["grid_min"], case["voxel_size"],
                                         case["grid_shape"], mode=case["mode"], lengths=c(case["lengths"]),
                                         backend=backend)


def bits(a: np.ndarray) -> np.ndarray:
    """The raw bytes of an array, with every NaN replaced by one pattern (NaN payloads may differ)."""
    a = np.ascontiguousarray(a)
    if a.dtype.kind == "f" or a.dtype == ml_dtypes.bfloat16:
        wide = a.astype(np.float64)
        a = a.copy()
        a[np.isnan(wide)] = np.nan
        a = np.where(np.isnan(wide), np.array(np.nan, a.dtype), a)
    return a.view(np.uint8)


def main(path):
    outputs = {name: run(case) for name, case in cases().items()}
    np.savez_compressed(path, **{n: o.view(np.uint16) if o.dtype == ml_dtypes.bfloat16 else o
                                 for n, o in outputs.items()})
    print(f"recorded {len(outputs)} CPU outputs in {path}")


if __name__ == "__main__":
    main(sys.argv[1])
