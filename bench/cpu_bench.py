"""The CPU benchmark: targets.md's CPU cases (and fuse and voxel cases sized for this machine),
RoboCache's LLVM backend side by side with numpy and numba, in one run.

    bash bench/run_cpu.sh            # installs numba and matplotlib into .venv, then runs this

Writes bench/results/cpu-<date>.jsonl (one line per case and implementation: µs, floor, baseline)
and bench/results/cpu-<date>.png (time over the bandwidth floor per case). The copy bandwidth is
measured in the same run (a large numpy copy, bytes read + written), the floor of a case is the
bytes it must move over that bandwidth. Timing: median of repeats after a warm-up; every
implementation allocates its output on each call, as a user's code would.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import robocache

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cpu_baselines as base  # noqa: E402

# targets.md, CPU table (ms): numpy, numba, target
TARGETS_MD = {
    "C1": {"numpy": 9.4, "numba": 2.44, "target": 1.2},
    "C2": {"numpy": 2.46, "numba": 0.83, "target": 0.7},
    "C3": {"numpy": 0.019, "numba": 0.0016, "target": 0.003},
}


def copy_bandwidth() -> float:
    """Bytes per second of a 256 MiB copy on every core (numpy releases the GIL while copying),
    counting bytes read plus written."""
    from concurrent.futures import ThreadPoolExecutor

    n = os.cpu_count() or 1
    a = np.ones(32 << 20)
    b = np.empty_like(a)
    parts = [
        (b[k * len(a) // n:(k + 1) * len(a) // n], a[k * len(a) // n:(k + 1) * len(a) // n]) for k in range(n)]
    times = []
    with ThreadPoolExecutor(n) as pool:
        for _ in range(7):
            t0 = time.perf_counter()
            list(pool.map(lambda p: np.copyto(*p), parts))
            times.append(time.perf_counter() - t0)
    return 2 * a.nbytes / statistics.median(times)


def timed_us(fn, min_time=0.25, max_repeats=2000) -> float:
    fn()
    fn()
    times, spent = [], 0.0
    while (spent < min_time or len(times) < 7) and len(times) < max_repeats:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return statistics.median(times) * 1e6


def resample_case(B, S, T, D, seed=0):
    rng = np.random.default_rng(seed)
    src = np.sort(rng.uniform(0, 10, (B, S)), axis=1) + 1.7e9
    tgt = np.sort(rng.uniform(0, 10, (B, T)), axis=1) + 1.7e9
    data = rng.standard_normal((B, S, D)).astype(np.float32)
    # As targets.md counts: the source rows the targets can touch (at most 2 per target), the
    # times, and the output.
    moved = B * min(S, 2 * T) * D * 4 + src.nbytes + tgt.nbytes + B * T * D * 4
    return (data, src, tgt), moved


def cases():
    out = {}
    for name, (B, S, T, D) in {"C1": (64, 4096, 1024, 32), "C2": (32, 500, 256, 256), "C3": (1, 100, 50, 7)}.items():
        (data, src, tgt), moved = resample_case(B, S, T, D)
        out[name] = {
            "shape": f"B{B} S{S} -> T{T}, D{D} (f32 data, f64 times)",
            "bytes": moved,
            "robocache": lambda d=data, s=src, t=tgt: robocache.resample_trajectories(d, s, t, validate=False),
            "numpy": lambda d=data, s=src, t=tgt: base.resample_numpy(d, s, t),
            "numba": lambda d=data, s=src, t=tgt: base.resample_numba(d, s, t),
        }
    rng = np.random.default_rng(1)
    B, T = 8, 100
    tgt = np.sort(rng.uniform(0, 10, (B, T)), axis=1)
    streams = [(rng.standard_normal((B, S, D)).astype(np.float32), np.sort(rng.uniform(0, 10, (B, S)), axis=1))
               for S, D in ((60, 512), (200, 64), (400, 12))]
    moved = sum(d.nbytes + t.nbytes for d, t in streams) + tgt.nbytes + B * T * 588 * 4
    out["Fc"] = {
        "shape": "B8; 60x512, 200x64, 400x12 -> 100 (f32, f64 times)", "bytes": moved,
        "robocache": lambda: robocache.fuse_multimodal(streams, tgt),
        "numpy": lambda: base.fuse_numpy(streams, tgt),
        "numba": lambda: base.fuse_numba(streams, tgt),
    }
    pts = rng.uniform(-1, 1, (500_000, 3)).astype(np.float32)
    out["Vc"] = {
        "shape": "500k points, 128^3 occupancy (f32)", "bytes": pts.nbytes + 128 ** 3 * 4,
        "robocache": lambda: robocache.voxelize_pointcloud(pts, (-1, -1, -1), 2 / 128, (128, 128, 128)),
        "numpy": lambda: base.voxelize_numpy(pts, (-1, -1, -1), 2 / 128, (128, 128, 128)),
        "numba": lambda: base.voxelize_numba(pts, (-1, -1, -1), 2 / 128, (128, 128, 128)),
    }
    return out


def check_agreement(c):
    ours, ref = c["robocache"](), c["numpy"]()
    assert np.allclose(ours, ref, rtol=1e-4, atol=1e-4), "robocache and numpy disagree"


COLD_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
kind = sys.argv[1]
rng = np.random.default_rng(0)
data = rng.standard_normal((4, 100, 7)).astype(np.float32)
src = np.sort(rng.uniform(0, 10, (4, 100)), axis=1); tgt = np.sort(rng.uniform(0, 10, (4, 50)), axis=1)
t1 = time.perf_counter()
if kind == "robocache":
    import robocache
    robocache.resample_trajectories(data, src, tgt)
else:
    sys.path.insert(0, sys.argv[2])
    import cpu_baselines
    cpu_baselines.resample_numba(data, src, tgt)
t2 = time.perf_counter()
print(json.dumps({"import_to_first_result_ms": (t2 - t1) * 1e3}))
"""


def first_result_ms(kind, env):
    out = subprocess.run([sys.executable, "-c", COLD_CHILD, kind, HERE], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["import_to_first_result_ms"]


def jit_costs():
    """Fresh processes: cold (empty caches) and warm (caches filled by the previous process)."""
    rows = {}
    with tempfile.TemporaryDirectory() as rc_dir, tempfile.TemporaryDirectory() as nb_dir:
        env = dict(os.environ, ROBOCACHE_CACHE_DIR=rc_dir, NUMBA_CACHE_DIR=nb_dir)
        for kind in ("robocache", "numba"):
            cold = first_result_ms(kind, env)
            warm = statistics.median(first_result_ms(kind, env) for _ in range(3))
            rows[kind] = {"cold_ms": cold, "warm_ms": warm}
    return rows


def chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["case"] for r in rows}, key=lambda n: [r["case"] for r in rows].index(n))
    impls = ["robocache", "numba", "numpy"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.27
    for k, impl in enumerate(impls):
        vals = [next(r["us"] / r["floor_us"] for r in rows if r["case"] == n and r["backend"] == impl) for n in names]
        ax.bar([i + (k - 1) * width for i in range(len(names))], vals, width, label=impl)
    ax.set_yscale("log")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylabel("time / bandwidth floor (log)")
    ax.set_title("CPU: time over the copy-bandwidth floor (lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    date = datetime.date.today().isoformat()
    bw = copy_bandwidth()
    device = f"{platform.machine()} {os.cpu_count()} cores (ROBOCACHE_NUM_THREADS={os.environ.get('ROBOCACHE_NUM_THREADS', 'all')})"
    print(f"copy bandwidth {bw / 1e9:.1f} GB/s (read + write); {device}")
    rows = []
    for name, c in cases().items():
        check_agreement(c)
        floor_us = c["bytes"] / bw * 1e6
        times = {impl: timed_us(c[impl]) for impl in ("robocache", "numpy", "numba")}
        tmd = TARGETS_MD.get(name, {})
        for impl, us in times.items():
            rows.append({"case": name, "shape": c["shape"], "backend": impl, "device": device, "date": date,
                         "us": us, "floor_us": floor_us, "baseline_us": {k: v for k, v in times.items() if k != impl},
                         "target_us": tmd.get("target", float("nan")) * 1e3 if tmd else None})
        tgt = f"target {tmd['target'] * 1e3:.1f} us" if tmd else "no target"
        print(f"{name}: robocache {times['robocache']:9.1f} us | numba {times['numba']:9.1f} | numpy {times['numpy']:9.1f} "
              f"| floor {floor_us:7.1f} | {tgt} | {c['shape']}")
    jit = jit_costs()
    for kind, r in jit.items():
        rows.append({"case": "jit_first_result", "backend": kind, "device": device, "date": date, **r})
        print(f"first result in a fresh process, {kind}: cold {r['cold_ms']:.0f} ms, warm cache {r['warm_ms']:.0f} ms")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"cpu-{date}.jsonl")
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    chart([r for r in rows if r["case"] != "jit_first_result"], os.path.join(args.out, f"cpu-{date}.png"))
    print(f"wrote {path} and the chart")


if __name__ == "__main__":
    main()
