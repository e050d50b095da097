"""Host cost per call: what RoboCache's call paths cost the calling thread, beside the floor.

Per case: N calls in a loop, wall time / N, median of 5 repeats (after a warm-up that compiles).

CPU (numpy arrays, C3 = resample f32 B1 S100 -> T50 D7, f64 times, validate on): the high-level
`robocache.resample_trajectories`, a compiled `Kernel`, a bound call (`Kernel.bind`, with and
without validation), and one numpy ufunc on an array of the output's size for scale.
Target (targets.md): C3 <= 2 us per call.

GPU (torch CUDA tensors, `--gpu` or whenever torch sees a GPU): R4 = resample f32 B1 S100 -> T50
D7 and F1 = fuse bf16 B4 (30x512, 100x64, 200x12) -> T50, each through the high-level call
(allocating its output), a Kernel call and a bound call; torch's `x.add_(1)`; and the floor: one
`cuLaunchKernel` of an empty kernel from a native loop (`cuda_empty_launch_us`). The stream is held
by a spin kernel (torch.cuda._sleep) while the N < 1024 calls queue, so no launch waits for the GPU
and the figure is host time only. Targets (issue 15): resample <= floor + 2 us, 3-stream fuse <=
floor + 4 us, bound call <= floor + 0.5 us.

    python bench/host_cost.py [--calls 2000] [--gpu] [--out bench/results]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import robocache  # noqa: E402
from robocache._native import _robocache as _native  # noqa: E402

REPEATS = 5


def per_call_us(fn, calls: int, before=None, after=None) -> list[float]:
    """`REPEATS` figures of wall time / calls in microseconds; `before`/`after` bracket each repeat
    outside the clock (holding and draining the GPU stream)."""
    fn()
    out = []
    for _ in range(REPEATS):
        if before:
            before()
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        t1 = time.perf_counter()
        if after:
            after()
        out.append((t1 - t0) / calls * 1e6)
    return out


def c3_inputs(rng, lib=np, device=None):
    data = rng.standard_normal((1, 100, 7)).astype(np.float32)
    src = np.sort(rng.uniform(0, 10, (1, 100)))
    tgt = np.sort(rng.uniform(0, 10, (1, 50)))
    if lib is np:
        return data, src, tgt
    return tuple(lib.from_numpy(a).to(device) for a in (data, src, tgt))


def row(case, path, backend, device, runs, floor=None, target=None, **extra):
    med = statistics.median(runs)
    r = {"case": case, "path": path, "backend": backend, "device": device, "us": med, "runs_us": runs,
         "repeats": len(runs)}
    if floor is not None:
        r["floor_us"] = floor
        r["over_floor_us"] = med - floor
    if target is not None:
        r["target_us"] = target
        r["meets_target"] = med <= target
    r.update(extra)
    shown = f"{case:4s} {path:34s} {med:7.2f} us"
    if floor is not None:
        shown += f"  (floor + {med - floor:5.2f})"
    if target is not None:
        shown += f"  [target <= {target:.2f}: {'met' if med <= target else 'MISSED'}]"
    print(shown)
    return r


def cpu_rows(calls: int) -> list[dict]:
    device = f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
    rng = np.random.default_rng(0)
    data, src, tgt = c3_inputs(rng)
    kernel = robocache.compile({"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 7}, "cpu")
    bound = kernel.bind(data, src, tgt)
    bound_nocheck = kernel.bind(data, src, tgt, validate=False)
    x = np.zeros((1, 50, 7), np.float32)
    rows = [
        row("C3", "resample_trajectories", "cpu", device,
            per_call_us(lambda: robocache.resample_trajectories(data, src, tgt), calls), target=2.0),
        row("C3", "Kernel.__call__", "cpu", device, per_call_us(lambda: kernel(data, src, tgt), calls), target=2.0),
        row("C3", "Kernel.bind() call, validate=True", "cpu", device, per_call_us(bound, calls)),
        row("C3", "Kernel.bind() call, validate=False", "cpu", device, per_call_us(bound_nocheck, calls)),
        row("C3", "numpy np.add(x, 1, out=x) (scale)", "cpu", device,
            per_call_us(lambda: np.add(x, 1.0, out=x), calls)),
    ]
    return rows


def gpu_rows(calls: int) -> list[dict]:
    import torch

    dev = torch.device("cuda", 0)
    device = torch.cuda.get_device_name(0)
    rng = np.random.default_rng(0)
    stream = torch.cuda.current_stream(dev)
    calls = min(calls, 900)  # below the launch queue's depth (1024): no launch waits for the GPU

    def hold():
        torch.cuda.synchronize(dev)
        torch.cuda._sleep(int(3e8))  # a spin kernel of ~0.15 s: longer than the timed loop

    def drain():
        torch.cuda.synchronize(dev)

    floor_runs = []
    _native.cuda_empty_launch_us(0, stream.cuda_stream, 10)
    for _ in range(REPEATS):
        hold()
        floor_runs.append(_native.cuda_empty_launch_us(0, stream.cuda_stream, calls))
        drain()
    floor = statistics.median(floor_runs)
    rows = [row("-", "cuLaunchKernel, empty kernel (native)", "cuda", device, floor_runs)]
    x = torch.zeros(350, device=dev)
    rows.append(row("-", "torch x.add_(1)", "cuda", device, per_call_us(lambda: x.add_(1), calls, hold, drain),
                    floor=floor))

    data, src, tgt = c3_inputs(rng, torch, dev)
    k = robocache.compile({"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 7}, "cuda")
    bound = k.bind(data, src, tgt)
    rows += [
        row("R4", "resample_trajectories", "cuda", device,
            per_call_us(lambda: robocache.resample_trajectories(data, src, tgt), calls, hold, drain), floor=floor,
            target=floor + 2.0),
        row("R4", "Kernel.__call__", "cuda", device, per_call_us(lambda: k(data, src, tgt), calls, hold, drain),
            floor=floor, target=floor + 2.0),
        row("R4", "Kernel.bind() call", "cuda", device, per_call_us(bound, calls, hold, drain), floor=floor,
            target=floor + 0.5),
    ]

    B, T = 4, 50
    shapes = [(30, 512), (100, 64), (200, 12)]
    streams = []
    for S, D in shapes:
        d = torch.from_numpy(rng.standard_normal((B, S, D)).astype(np.float32)).to(dev, torch.bfloat16)
        t = torch.from_numpy(np.sort(rng.uniform(0, 10, (B, S)), axis=1)).to(dev)
        streams.append((d, t))
    ftgt = torch.from_numpy(np.sort(rng.uniform(0, 10, (B, T)), axis=1)).to(dev)
    fk = robocache.compile({"op": "fuse", "dtype": "bf16", "time_dtype": "f64",
                            "modalities": [{"dim": D, "interp": "linear"} for _, D in shapes]}, "cuda")
    fbound = fk.bind(streams, ftgt)
    rows += [
        row("F1", "fuse_multimodal", "cuda", device,
            per_call_us(lambda: robocache.fuse_multimodal(streams, ftgt), calls, hold, drain), floor=floor,
            target=floor + 4.0),
        row("F1", "Kernel.__call__", "cuda", device, per_call_us(lambda: fk(streams, ftgt), calls, hold, drain),
            floor=floor, target=floor + 4.0),
        row("F1", "Kernel.bind() call", "cuda", device, per_call_us(fbound, calls, hold, drain), floor=floor,
            target=floor + 0.5),
    ]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--gpu", action="store_true", help="also the GPU part (needs torch with CUDA)")
    ap.add_argument("--no-cpu", action="store_true", help="skip the CPU part")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()
    date = datetime.date.today().isoformat()
    os.makedirs(args.out, exist_ok=True)
    cpu = robocache.check_installation()["cpu"]
    if not args.no_cpu and not cpu["available"]:
        print(f"CPU part skipped: {cpu.get('reason', 'the CPU backend is unavailable')}")
    elif not args.no_cpu:
        rows = cpu_rows(args.calls)
        path = os.path.join(args.out, f"host_cost-cpu-{date}.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(dict(r, date=date)) + "\n" for r in rows)
        print(f"wrote {path}")
    if args.gpu or _torch_has_gpu():
        rows = gpu_rows(args.calls)
        import torch

        tag = torch.cuda.get_device_name(0).split()[-1].lower()
        path = os.path.join(args.out, f"host_cost-gpu-{tag}-{date}.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(dict(r, date=date)) + "\n" for r in rows)
        print(f"wrote {path}")


def _torch_has_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


if __name__ == "__main__":
    main()
