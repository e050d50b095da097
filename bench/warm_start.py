"""Time from a fresh process's `import robocache` to its first result, cold and with a warm cache.

For each backend usable here (cpu; cuda with torch) it starts child processes that share one
cache directory: the first finds it empty (cold: compiles), the next ones find the kernel on disk
(warm). Each child reports, from just before `import robocache`:
  import_ms       importing the package and the native module
  ready_ms        compile() returning a kernel (cache lookup, or generation + compilation)
  first_call_ms   the first call: module load / JIT link, argument checks, launch, sync
  total_ms        import to first result
Inputs are created (and CUDA initialised by torch) before the clock starts.
Targets (targets.md): CUDA ready-to-launch <= 2 ms; CPU first result <= 50 ms after import.

    python bench/warm_start.py [--repeats 5] [--out bench/results]
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

CHILD = r"""
import json, sys, time
import numpy as np
target = sys.argv[1]
B, S, T, D = 8, 256, 128, 7
rng = np.random.default_rng(0)
data = rng.standard_normal((B, S, D)).astype(np.float32)
src = np.sort(rng.uniform(0, 10, (B, S)), axis=1)
tgt = rng.uniform(0, 10, (B, T))
if target == "cuda":
    import torch
    args = [torch.from_numpy(a).cuda() for a in (data, src, tgt)]
    torch.cuda.synchronize()
    sync = torch.cuda.synchronize
else:
    args = [data, src, tgt]
    sync = lambda: None
t0 = time.perf_counter()
import robocache
t1 = time.perf_counter()
k = robocache.compile({"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": D}, target)
t2 = time.perf_counter()
out = k(*args)
sync()
t3 = time.perf_counter()
s = robocache.cache_stats()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "ready_ms": (t2 - t1) * 1e3,
                  "first_call_ms": (t3 - t2) * 1e3, "total_ms": (t3 - t0) * 1e3,
                  "compiles": s["compiles"], "disk_hits": s["disk_hits"],
                  "load_ms": s["load_ms"], "disk_read_ms": s["disk_read_ms"]}))
"""

TARGETS_MS = {"cpu": ("total_ms", 50.0), "cuda": ("ready_ms", 2.0)}


def run_child(target, cache_dir):
    env = dict(os.environ, ROBOCACHE_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD, target], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def device_name(target):
    if target == "cuda":
        import torch

        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()
    import robocache

    status = robocache.check_installation()
    targets = [t for t in ("cpu", "cuda") if status[t]["available"]]
    date = datetime.date.today().isoformat()
    rows = []
    for target in targets:
        with tempfile.TemporaryDirectory(prefix="rc-warm-") as cache_dir:
            cold = run_child(target, cache_dir)
            warm = [run_child(target, cache_dir) for _ in range(args.repeats)]
        assert cold["compiles"] == 1 and all(w["compiles"] == 0 for w in warm)
        med = {k: statistics.median(w[k] for w in warm) for k in ("import_ms", "ready_ms", "first_call_ms", "total_ms")}
        metric, goal = TARGETS_MS[target]
        row = {"case": "warm_start", "backend": target, "device": device_name(target), "date": date,
               "cold": cold, "warm_median": med, "warm_runs": len(warm),
               "target_metric": metric, "target_ms": goal, "meets_target": med[metric] <= goal}
        rows.append(row)
        print(f"{target:5s} cold: import {cold['import_ms']:.1f} ms, ready {cold['ready_ms']:.1f} ms, "
              f"first call {cold['first_call_ms']:.1f} ms, total {cold['total_ms']:.1f} ms")
        print(f"{target:5s} warm (median of {len(warm)}): import {med['import_ms']:.1f} ms, ready "
              f"{med['ready_ms']:.2f} ms, first call {med['first_call_ms']:.2f} ms, total {med['total_ms']:.1f} ms"
              f"  [target {metric} <= {goal} ms: {'met' if row['meets_target'] else 'MISSED'}]")
    os.makedirs(args.out, exist_ok=True)
    tag = "gpu" if "cuda" in targets else "cpu"
    path = os.path.join(args.out, f"warm_start-{tag}-{date}.jsonl")
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
