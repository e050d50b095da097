"""Cold compile time of resample specs with many channel groups, on both backends (issue 14, item 4).

Each case compiles one spec in a fresh child process with an empty cache directory, so the time
is a real cold compile (generation + optimisation + code generation), not a cache hit:
  - slerp-N: N quaternions side by side (dim 4N), each its own slerp group; N = 16384 is the
    documented maximum of 65536 channels;
  - mixed-N: N pairs (one `previous` channel, one slerp quaternion), so every group starts a new
    mode: the case whose generated code must grow linearly.
Targets: 16384 slerp groups compile in <= 5 s on the CPU backend ("cpu", LLVM) and through NVRTC
("sm_90", no GPU needed). Compile seconds are measured in the child around robocache.compile().

    python bench/compile_groups.py [--targets cpu sm_90] [--sizes 256 1024 4096 16384] [--out bench/results]

Writes JSON lines (case, backend, groups, dim, seconds, peak RSS, target) to
bench/results/compile_groups-<date>.jsonl and prints them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
import robocache
spec, target = json.loads(sys.stdin.read()), sys.argv[1]
t0 = time.perf_counter()
k = robocache.compile(spec, target)
seconds = time.perf_counter() - t0
s = robocache.cache_stats()
print(json.dumps({"seconds": seconds, "compiles": s["compiles"], "generate_ms": s["generate_ms"],
                  "compile_ms": s["compile_ms"], "source_bytes": len(k.source),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TARGET_SECONDS = 5.0  # issue 14: 16384 slerp groups, both backends


def slerp_spec(n: int) -> dict:
    return {"op": "resample", "dtype": "f32", "dim": 4 * n,
            "groups": [{"start": 4 * i, "size": 4, "interp": "slerp"} for i in range(n)]}


def mixed_spec(n: int) -> dict:
    groups = []
    for i in range(n):
        groups.append({"start": 5 * i, "size": 1, "interp": "previous"})
        groups.append({"start": 5 * i + 1, "size": 4, "interp": "slerp"})
    return {"op": "resample", "dtype": "f32", "dim": 5 * n, "groups": groups}


def run_case(case: str, spec: dict, target: str, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="rc-compile-groups-") as cache:
        env = dict(os.environ, ROBOCACHE_CACHE_DIR=cache)
        env.pop("ROBOCACHE_CACHE_BUNDLES", None)
        env.pop("ROBOCACHE_CACHE_MODE", None)
        row = {"case": case, "backend": target, "groups": len(spec["groups"]), "dim": spec["dim"],
               "device": f"{platform.machine()} ({os.cpu_count()} cores)",
               "date": datetime.date.today().isoformat()}
        try:
            # The spec goes through stdin: 16384 groups are too long for a command line.
            out = subprocess.run([sys.executable, "-c", CHILD, target], input=json.dumps(spec), capture_output=True,
                                 text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {**row, "seconds": None, "error": f"did not finish in {timeout:.0f} s"}
        if out.returncode != 0:
            return {**row, "seconds": None, "error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
        return {**row, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--targets", nargs="+", default=["cpu", "sm_90"])
    p.add_argument("--sizes", nargs="+", type=int, default=[256, 1024, 4096, 16384])
    p.add_argument("--mixed", nargs="*", type=int, default=[256, 1024, 4096, 13107],
                   help="sizes of the alternating previous/slerp case (pairs of groups)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before a compile is given up")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = p.parse_args()
    rows = []
    for target in args.targets:
        for n in args.sizes:
            row = run_case(f"slerp-{n}", slerp_spec(n), target, args.timeout)
            if n == 16384:
                row["target_s"] = TARGET_SECONDS
                row["meets_target"] = row["seconds"] is not None and row["seconds"] <= TARGET_SECONDS
            rows.append(row)
            print(json.dumps(row), flush=True)
        for n in args.mixed:
            row = run_case(f"mixed-{n}", mixed_spec(n), target, args.timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"compile_groups-{datetime.date.today().isoformat()}.jsonl")
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0 if all(r.get("meets_target", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
