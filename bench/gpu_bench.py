"""The GPU cases of targets.md, side by side: RoboCache, eager PyTorch, torch.compile and the floor.

One command, one run, one GPU, so every column was measured under the same conditions:

    python bench/gpu_bench.py [--cases R1,R2f,...] [--tune] [--out bench/results]

Timing is Triton's `do_bench` (L2 flushed before every repetition, median). "floor" is the bytes
that must move (the source rows the targets can touch, the times, the output) over the copy
bandwidth measured in the same run (device-to-device copy, bytes read + written). Every
implementation allocates its output on each call, as a user's code does.

With --tune each RoboCache case is also tuned (`robocache.tune` on the case's shapes) and timed
twice more, with the heuristic config and with the tuned one, so the run checks that the tuned
config is never slower than the heuristic on the shapes it was tuned for.

Writes `gpu-<device>-<date>.jsonl` (one line per case and implementation) under --out, then the
launch-cost lines (host CPU time per call of many calls without a sync). The chart is drawn by
`bench/plot_gpu.py` from the JSON lines (matplotlib is not needed on the GPU machine).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from triton.testing import do_bench

import robocache

DEV = "cuda"


@dataclass
class Case:
    """One row of targets.md's H100 table."""

    name: str
    title: str
    make: Callable[[], dict]  # -> {"spec", "args", "eager", "bytes"}
    target_us: float
    compile_baseline: bool = True
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Inputs


def sorted_times(B: int, S: int, t0: float = 0.0, t1: float = 10.0, seed: int = 0) -> torch.Tensor:
    """[B,S] strictly increasing f32 times on [t0, t1] with jitter (irregular sensor clocks)."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    base = torch.linspace(t0, t1, S, device=DEV, dtype=torch.float64)
    step = (t1 - t0) / max(S - 1, 1)
    jitter = (torch.rand((B, S), generator=g, device=DEV, dtype=torch.float64) - 0.5) * 0.4 * step
    return (base + jitter).to(torch.float32).contiguous()


def target_times(B: int, T: int, seed: int = 1) -> torch.Tensor:
    """[B,T] sorted target times inside the source range."""
    g = torch.Generator(device=DEV).manual_seed(seed)
    base = torch.linspace(0.05, 9.95, T, device=DEV, dtype=torch.float64)
    jitter = (torch.rand((B, T), generator=g, device=DEV, dtype=torch.float64) - 0.5) * (9.9 / T) * 0.4
    return (base + jitter).to(torch.float32).contiguous()


def values(B: int, S: int, D: int, dtype, seed: int = 2) -> torch.Tensor:
    g = torch.Generator(device=DEV).manual_seed(seed)
    return torch.randn((B, S, D), generator=g, device=DEV, dtype=torch.float32).to(dtype)


def nbytes(*tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def touched_rows(S: int, T: int) -> int:
    """Source rows a resample can read: two per target, at most all of them."""
    return min(S, 2 * T)


# ---------------------------------------------------------------------------------------------
# The eager PyTorch a user writes first (searchsorted, gather, lerp; index_fill / index_add)


def eager_resample(data: torch.Tensor, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    S, D = data.shape[1], data.shape[2]
    r = torch.searchsorted(src, tgt, right=True).clamp(1, S - 1)
    l = r - 1
    tl, tr = src.gather(1, l), src.gather(1, r)
    w = ((tgt - tl) / (tr - tl)).clamp(0, 1)
    vl = data.gather(1, l.unsqueeze(-1).expand(-1, -1, D)).float()
    vr = data.gather(1, r.unsqueeze(-1).expand(-1, -1, D)).float()
    return torch.lerp(vl, vr, w.unsqueeze(-1)).to(data.dtype)


def eager_fuse(streams, tgt: torch.Tensor) -> torch.Tensor:
    return torch.cat([eager_resample(d, t, tgt) for d, t in streams], dim=-1)


def eager_voxelize(points: torch.Tensor, grid_min, voxel: float, shape, mode: str) -> torch.Tensor:
    X, Y, Z = shape
    idx = torch.floor((points - torch.tensor(grid_min, device=points.device)) / voxel).long()
    ok = ((idx >= 0) & (idx < torch.tensor(shape, device=points.device))).all(dim=-1)
    flat = (idx[:, 0] * Y + idx[:, 1]) * Z + idx[:, 2]
    flat = torch.where(ok, flat, torch.full_like(flat, X * Y * Z))  # dropped points go to a spare slot
    if mode == "occupancy":
        grid = torch.zeros(X * Y * Z + 1, device=points.device, dtype=torch.float32)
        grid.index_fill_(0, flat, 1.0)
    else:
        grid = torch.zeros(X * Y * Z + 1, device=points.device, dtype=torch.int32)
        grid.index_add_(0, flat, torch.ones_like(flat, dtype=torch.int32))
    return grid[:-1].view(X, Y, Z)


# ---------------------------------------------------------------------------------------------
# The cases


def resample_case(B, S, T, D, dtype, dname):
    def make():
        data, src, tgt = values(B, S, D, dtype), sorted_times(B, S), target_times(B, T)
        spec = {"op": "resample", "dtype": dname, "time_dtype": "f32", "dim": D, "interp": "linear"}
        moved = B * touched_rows(S, T) * D * data.element_size() + nbytes(src, tgt) + B * T * D * data.element_size()
        return {"spec": spec, "args": (data, src, tgt), "eager": lambda: eager_resample(data, src, tgt),
                "eager_fn": eager_resample, "eager_args": (data, src, tgt), "bytes": moved,
                "shape": {"B": B, "S": S, "T": T}}
    return make


def fuse_case(B, mods, T, dtype, dname):
    def make():
        streams = [(values(B, S, D, dtype, seed=10 + i), sorted_times(B, S, seed=20 + i)) for i, (S, D) in enumerate(mods)]
        tgt = target_times(B, T)
        spec = {"op": "fuse", "dtype": dname, "time_dtype": "f32",
                "modalities": [{"dim": D, "interp": "linear"} for _, D in mods]}
        esz = streams[0][0].element_size()
        moved = sum(B * touched_rows(S, T) * D * esz + nbytes(t) for (S, D), (_, t) in zip(mods, streams))
        moved += nbytes(tgt) + B * T * sum(D for _, D in mods) * esz
        return {"spec": spec, "args": (streams, tgt), "eager": lambda: eager_fuse(streams, tgt),
                "eager_fn": eager_fuse, "eager_args": (streams, tgt), "bytes": moved,
                "shape": {"B": B, "S": [S for S, _ in mods], "T": T}}
    return make


def voxel_case(N, G, mode):
    def make():
        g = torch.Generator(device=DEV).manual_seed(5)
        voxel = 0.05
        points = (torch.rand((N, 3), generator=g, device=DEV) * (G * voxel * 0.999)).contiguous()
        grid_min, shape = (0.0, 0.0, 0.0), (G, G, G)
        spec = {"op": "voxelize", "mode": mode, "coord_dtype": "f32"}
        moved = nbytes(points) + G ** 3 * 4
        return {"spec": spec, "args": (points, grid_min, voxel, shape),
                "eager": lambda: eager_voxelize(points, grid_min, voxel, shape, mode),
                "eager_fn": lambda p: eager_voxelize(p, grid_min, voxel, shape, mode), "eager_args": (points,),
                "bytes": moved, "shape": {"B": 1, "N": N}}
    return make


CASES = [
    Case("R1", "R1 resample bf16 B32 S500->T256 D256", resample_case(32, 500, 256, 256, torch.bfloat16, "bf16"), 7),
    Case("R2f", "R2 resample f32 B64 S4096->T1024 D32", resample_case(64, 4096, 1024, 32, torch.float32, "f32"), 12),
    Case("R2b", "R2 resample bf16 B64 S4096->T1024 D32", resample_case(64, 4096, 1024, 32, torch.bfloat16, "bf16"), 8),
    Case("R3", "R3 resample bf16 B256 S2000->T1000 D64", resample_case(256, 2000, 1000, 64, torch.bfloat16, "bf16"), 38),
    Case("R4", "R4 resample f32 B1 S100->T50 D7", resample_case(1, 100, 50, 7, torch.float32, "f32"), 4),
    Case("F1", "F1 fuse bf16 B4 (30x512,100x64,200x12)->50", fuse_case(4, [(30, 512), (100, 64), (200, 12)], 50, torch.bfloat16, "bf16"), 6),
    Case("F2", "F2 fuse bf16 B256 (300x512,1000x64,2000x12)->500", fuse_case(256, [(300, 512), (1000, 64), (2000, 12)], 500, torch.bfloat16, "bf16"), 110),
    Case("V1", "V1 voxel occupancy 500k points 128^3", voxel_case(500_000, 128, "occupancy"), 15),
    Case("V2", "V2 voxel count 4M points 256^3", voxel_case(4_000_000, 256, "count"), 70),
]


# ---------------------------------------------------------------------------------------------
# Measurement


def bench_us(fn) -> float:
    return do_bench(fn, warmup=25, rep=200, return_mode="median") * 1e3


def graph_replay(fn):
    """fn captured in a CUDA graph (after a warm-up on a side stream); returns the replay function.
    Timing the replay measures the GPU work alone, without the Python call in front of it."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def gpu_us(fn) -> Optional[float]:
    """The GPU time of fn: do_bench of its CUDA-graph replay (None if fn cannot be captured)."""
    try:
        return bench_us(graph_replay(fn))
    except Exception:  # noqa: BLE001 - a baseline that cannot be captured just has no GPU-only figure
        torch.cuda.synchronize()
        return None


def copy_bandwidth() -> float:
    """Device-to-device copy, bytes read + written per second."""
    src = torch.empty(256 * 2**20, dtype=torch.uint8, device=DEV)
    dst = torch.empty_like(src)
    ms = do_bench(lambda: dst.copy_(src), warmup=10, rep=100, return_mode="median")
    return 2 * src.numel() / (ms * 1e-3)


def max_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def robocache_call(kernel, args):
    if kernel.spec["op"] == "fuse":
        streams, tgt = args
        return lambda: kernel(streams, tgt)
    return lambda: kernel(*args)


def host_launch_cost(kernel, args, calls: int = 2000) -> dict:
    """CPU time per call over many calls without a sync (the GPU queue absorbs them): allocating
    the output each call, writing into a preallocated `out=`, and torch's own x.add_(1)."""

    def per_call(fn) -> float:
        for _ in range(50):
            fn()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        t1 = time.perf_counter()
        torch.cuda.synchronize()
        return (t1 - t0) / calls * 1e6

    fn = robocache_call(kernel, args)
    alloc_us = per_call(fn)
    out = fn()
    if kernel.spec["op"] == "fuse":
        streams, tgt = args
        out_us = per_call(lambda: kernel(streams, tgt, out=out))
    else:
        out_us = per_call(lambda: kernel(*args, out=out))
    x = torch.zeros(16, device=DEV)
    return {"robocache_us_per_call": alloc_us, "robocache_out_us_per_call": out_us,
            "torch_add_us_per_call": per_call(lambda: x.add_(1))}


def git_commit() -> str:
    if os.environ.get("ROBOCACHE_COMMIT"):
        return os.environ["ROBOCACHE_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_case(case: Case, bw: float, args, emit) -> None:
    c = case.make()
    floor_us = c["bytes"] / bw * 1e6
    common = {"case": case.name, "title": case.title, "shape": c["shape"], "floor_us": round(floor_us, 2),
              "target_us": case.target_us, "bytes": c["bytes"]}
    ref = c["eager"]()
    torch.cuda.synchronize()
    eager_us = bench_us(c["eager"])
    eager_gpu = gpu_us(c["eager"])
    emit({**common, "impl": "eager", "us": round(eager_us, 2), "gpu_us": eager_gpu and round(eager_gpu, 2)})

    compiled_us = None
    if not args.no_compile:
        try:
            cfn = torch.compile(c["eager_fn"])
            t0 = time.perf_counter()
            cfn(*c["eager_args"])
            torch.cuda.synchronize()
            first_s = time.perf_counter() - t0
            compiled_us = bench_us(lambda: cfn(*c["eager_args"]))
            compiled_gpu = gpu_us(lambda: cfn(*c["eager_args"]))
            emit({**common, "impl": "torch.compile", "us": round(compiled_us, 2), "first_call_s": round(first_s, 2),
                  "gpu_us": compiled_gpu and round(compiled_gpu, 2)})
        except Exception as e:  # a baseline that fails to compile is reported, not fatal
            emit({**common, "impl": "torch.compile", "us": None, "error": f"{type(e).__name__}: {e}"[:300]})

    kernel = robocache.compile(c["spec"], "cuda")
    out = robocache_call(kernel, c["args"])()
    torch.cuda.synchronize()
    err = max_error(out, ref)
    us = bench_us(robocache_call(kernel, c["args"]))
    rc_gpu = gpu_us(robocache_call(kernel, c["args"]))
    row = {**common, "impl": "robocache", "us": round(us, 2), "gpu_us": rc_gpu and round(rc_gpu, 2),
           "eager_us": round(eager_us, 2),
           "compiled_us": None if compiled_us is None else round(compiled_us, 2),
           "max_abs_err_vs_eager": err, "config": getattr(kernel, "config", None), "key": kernel.key[:16]}
    emit(row)

    if args.tune and hasattr(robocache, "tune"):
        t0 = time.perf_counter()
        res = robocache.tune(c["spec"], [c["args"]], target="cuda", progress=False)
        tune_s = time.perf_counter() - t0
        heuristic_cfg = res.rows[0].config  # the config space starts with the heuristic
        heur = robocache.compile(c["spec"], "cuda", config=heuristic_cfg)
        tuned = robocache.compile(c["spec"], "cuda", config=res.best)
        # Interleave the two so drift in clocks hits both alike.
        h_us, t_us = [], []
        for _ in range(3):
            h_us.append(bench_us(robocache_call(heur, c["args"])))
            t_us.append(bench_us(robocache_call(tuned, c["args"])))
        h, t = statistics.median(h_us), statistics.median(t_us)
        emit({**common, "impl": "robocache-tuned", "us": round(t, 2), "heuristic_us": round(h, 2),
              "tuned_config": res.best, "heuristic_config": heuristic_cfg, "tune_seconds": round(tune_s, 2),
              "configs_tried": len(res.rows), "tuned_not_slower": t <= h * 1.03})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--tag", default="", help="extra text for the results file name")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    ap.add_argument("--tune", action="store_true", help="also tune each case and compare with the heuristic")
    args = ap.parse_args()

    wanted = [c for c in args.cases.split(",") if c]
    cases = [c for c in CASES if not wanted or c.name in wanted]
    props = torch.cuda.get_device_properties(0)
    device = props.name
    date = datetime.date.today().isoformat()
    slug = "h100" if "H100" in device else "h200" if "H200" in device else device.lower().replace(" ", "-")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"gpu-{slug}-{date}{('-' + args.tag) if args.tag else ''}.jsonl"
    meta = {"date": date, "device": device, "sms": props.multi_processor_count, "commit": git_commit(),
            "torch": torch.__version__, "method": "triton.testing.do_bench median, L2 flushed"}

    bw = copy_bandwidth()
    rows = []

    def emit(row):
        row = {**meta, **row}
        rows.append(row)
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        us = row.get("us")
        extra = ""
        if row["impl"] == "robocache":
            extra = f"  floor {row['floor_us']:.1f}  target {row['target_us']}  err {row['max_abs_err_vs_eager']:.2g}"
        if row["impl"] == "host-launch":
            extra = f"  with out= {row['out_us']}  torch x.add_(1) {row['torch_add_us']}"
        if row["impl"] == "robocache-tuned":
            extra = f"  heuristic {row['heuristic_us']:.1f}  tune {row['tune_seconds']:.1f}s  {row['tuned_config']}"
        gpu = row.get("gpu_us")
        gpu_text = f"  (GPU only {gpu:.2f})" if gpu else ""
        print(f"{row['case']:<4} {row['impl']:<16} {us if us is not None else 'n/a':>9} us{gpu_text}{extra}", flush=True)

    emit({"case": "bandwidth", "impl": "copy", "us": None, "bytes_per_s": bw})
    print(f"device {device}, copy bandwidth {bw / 1e12:.2f} TB/s, results -> {path}", flush=True)
    for case in cases:
        run_case(case, bw, args, emit)

    # Host-side launch cost: many calls without a sync, CPU time per call.
    for name in ("R4", "F1"):
        case = next(c for c in CASES if c.name == name)
        c = case.make()
        kernel = robocache.compile(c["spec"], "cuda")
        cost = host_launch_cost(kernel, c["args"])
        emit({"case": name, "impl": "host-launch", "us": round(cost["robocache_us_per_call"], 2),
              "out_us": round(cost["robocache_out_us_per_call"], 2),
              "torch_add_us": round(cost["torch_add_us_per_call"], 2), "calls": 2000,
              "what": "CPU time per Python call, no sync: us allocating the output, out_us writing into "
                      "out=; torch_add_us: x.add_(1) on 16 floats, on the same host"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
