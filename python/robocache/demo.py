"""The RoboCache demo: real robot logs in, training batches out, then the kernels per backend.

Run with ``python -m robocache.demo`` (README's first command does it for you). First the job
robocache.io does (robocache/io/demo.py): write a small multi-robot log set with the real writers
(ROS 2 bags in MCAP, a LeRobot dataset), audit it, align it into padded batches with masks, and
time that against the pandas baseline; without the io extra this part is skipped in one line.
Then, for each backend, the cold compile time (empty cache), the warm-cache time (a fresh process
that finds the kernel on disk), the run time, and the error against a float64 reference of ops.md §1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# The demo uses its own empty cache so the cold compile really is cold.
_CACHE_DIR = tempfile.mkdtemp(prefix="robocache-demo-")
os.environ["ROBOCACHE_CACHE_DIR"] = _CACHE_DIR

import robocache  # noqa: E402  (after the cache directory is chosen)

B, S, D = 64, 2000, 14  # 64 robots, 4 s of 7-DoF joint position+velocity at ~500 Hz
T = 120  # resampled onto a 30 Hz camera timeline
EPOCH = 1.7e9  # robot logs carry epoch seconds: f64 times are required


def make_fleet(rng):
    """Jittered 500 Hz joint logs with epoch-second timestamps, and a 30 Hz target timeline."""
    dt = 1.0 / 500
    jitter = rng.uniform(-0.2, 0.2, size=(B, S)) * dt
    src = EPOCH + np.arange(S) * dt + jitter
    src.sort(axis=1)
    phase = rng.uniform(0, 2 * np.pi, size=(B, 1, D))
    freq = rng.uniform(0.2, 2.0, size=(B, 1, D))
    data = np.sin(2 * np.pi * freq * (src[:, :, None] - EPOCH) + phase).astype(np.float32)
    tgt = EPOCH + 0.01 + np.arange(T) / 30.0
    return data, src, tgt


def reference(data, src, tgt):
    """float64 linear interpolation with holds at both ends (ops.md §1, no repeated stamps here)."""
    out = np.empty((B, T, D))
    for b in range(B):
        for c in range(D):
            out[b, :, c] = np.interp(tgt, src[b], data[b, :, c].astype(np.float64))
    return out


WARM_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import robocache
t1 = time.perf_counter()
k = robocache.compile(json.loads(sys.argv[1]), sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "compile_ms": (t2 - t1) * 1e3,
                  "stats": robocache.cache_stats()}))
"""


def warm_start(spec, target):
    """Compiles the spec in a fresh process that shares this process's disk cache."""
    out = subprocess.run(
        [sys.executable, "-c", WARM_CHILD, json.dumps(spec), target],
        check=True, capture_output=True, text=True, env=dict(os.environ),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_ms(fn, sync, repeats=30):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def run_backend(name, target, data, src, tgt, ref):
    spec = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": D, "interp": "linear"}
    t0 = time.perf_counter()
    kernel = robocache.compile(spec, target)
    cold_ms = (time.perf_counter() - t0) * 1e3
    warm = warm_start(spec, target)
    if name == "cuda":
        import torch

        args = [torch.from_numpy(a).cuda() for a in (data, src, tgt)]
        sync = torch.cuda.synchronize
    else:
        args = [data, src, tgt]
        sync = lambda: None  # noqa: E731
    out = kernel(*args)
    sync()
    run_ms = median_ms(lambda: kernel(*args), sync)
    out = out.cpu().numpy() if name == "cuda" else out
    err = float(np.max(np.abs(out - ref) / (np.abs(ref) + 1e-5)))
    ok = np.allclose(out, ref, rtol=1e-5, atol=1e-5)
    print(
        f"  {name:5s} target={kernel.target:14s} cold compile {cold_ms:8.1f} ms | "
        f"warm cache (new process: {warm['stats']['compiles']} compiles, "
        f"{warm['stats']['disk_hits']} disk hit) {warm['compile_ms']:6.2f} ms | "
        f"run {run_ms:7.3f} ms | max rel err {err:.1e} {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def main() -> int:
    status = robocache.check_installation()
    print(f"RoboCache {robocache.__version__} demo: resample B={B} S={S} D={D} -> T={T} "
          f"(f32 values, f64 epoch times); cache {_CACHE_DIR}")
    from .io import demo as logs

    why_not = logs.missing()
    if why_not:
        print(f"robot logs: skipped: {why_not}")
        logs_ok = True
    else:
        print("robot logs: ROS 2 bags and a LeRobot dataset to aligned, masked training batches")
        logs_ok = logs.run()
    print(f"kernels: resample B={B} S={S} D={D} -> T={T} per backend")
    data, src, tgt = make_fleet(np.random.default_rng(0))
    ref = reference(data, src, tgt)
    results = []
    if status["cpu"]["available"]:
        results.append(run_backend("cpu", "cpu", data, src, tgt, ref))
    else:
        print(f"  cpu   unavailable: {status['cpu']['reason']}")
    if status["cuda"]["available"]:
        try:
            import torch  # noqa: F401

            results.append(run_backend("cuda", "cuda", data, src, tgt, ref))
        except ImportError:
            print("  cuda  skipped: torch is not installed (the demo passes CUDA data as torch tensors)")
    else:
        print(f"  cuda  unavailable: {status['cuda']['reason']}")
        if status["cuda"]["compile_only"]:
            t0 = time.perf_counter()
            k = robocache.compile({"op": "resample", "dtype": "f32", "dim": D}, "sm_90")
            print(f"        (NVRTC works: compiled an sm_90 cubin of {len(k.binary)} bytes "
                  f"in {(time.perf_counter() - t0) * 1e3:.1f} ms without a GPU)")
    if not results:
        print("no backend could run the demo")
        return 1
    if not logs_ok:
        print("demo FAILED: align differs from the pandas baseline")
        return 1
    print("demo passed" if all(results) else "demo FAILED: results differ from the reference")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
