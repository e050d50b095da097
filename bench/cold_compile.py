"""Cold compile cost: a fresh process, an empty cache, one spec.

For every spec of a manifest (default bench/compile_manifest.json: 20 specs, every op, mode and
dtype, and the cubic 3-stream fuse) and each target, `--runs` fresh processes (default 3), each
with its own empty cache directory, time `robocache.compile(spec, target)` after `import robocache`
(loading NVRTC, or the LLVM plugin, included; loading the kernel onto a GPU excluded). Each child
also reports the engine's split: generate_ms (code generation) and compile_ms (NVRTC or LLVM).
Then the wall time of `robocache warmup MANIFEST` (empty cache, all cores) per target.

Targets (issue 15): NVRTC median <= 60 ms and max <= 150 ms over the specs' medians; LLVM median
<= 30 ms; warmup of the manifest <= 1.5 s.

`--phases` adds NVRTC's own per-phase timing (front end, NVVM, ptxas: NVRTC's --time option) for
each spec, from the generated source compiled with the backend's flags.

    python bench/cold_compile.py [--targets sm_90 cpu] [--runs 3] [--phases] [--out bench/results]
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import datetime
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

CHILD = r"""
import json, sys, time
spec, target = json.loads(sys.argv[1]), sys.argv[2]
import robocache
t0 = time.perf_counter()
k = robocache.compile(spec, target)
t1 = time.perf_counter()
s = robocache.cache_stats()
print(json.dumps({"ms": (t1 - t0) * 1e3, "generate_ms": s["generate_ms"], "compile_ms": s["compile_ms"],
                  "compiles": s["compiles"]}))
"""

TARGETS = {"nvrtc": (60.0, 150.0), "llvm": (30.0, None)}
WARMUP_TARGET_S = 1.5


def label(spec: dict) -> str:
    if spec["op"] == "resample":
        modes = "+".join(g["interp"] for g in spec.get("groups", [])) or spec.get("interp", "linear")
        return f"resample {spec['dtype']}/{spec.get('time_dtype', 'f64')} D{spec['dim']} {modes}"
    if spec["op"] == "fuse":
        mods = ",".join(f"{m['dim']}{m.get('interp', 'linear')[0]}" for m in spec["modalities"])
        return f"fuse {spec['dtype']}/{spec.get('time_dtype', 'f64')} [{mods}]"
    return f"voxelize {spec.get('mode', 'occupancy')} {spec.get('coord_dtype', 'f32')}" + (
        f" F{spec['features']}" if spec.get("features") else "")


def child_env(cache_dir: str) -> dict:
    env = dict(os.environ, ROBOCACHE_CACHE_DIR=cache_dir)
    env.pop("ROBOCACHE_CACHE_BUNDLES", None)
    env.pop("ROBOCACHE_CACHE_MODE", None)
    return env


def cold_compile(spec: dict, target: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="rc-cold-") as cache_dir:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec), target], capture_output=True,
                             text=True, env=child_env(cache_dir), check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["compiles"] == 1, r
    return r


def warmup_wall_s(manifest: str, targets: list[str]) -> float:
    cmd = [sys.executable, "-m", "robocache", "warmup", manifest, "--quiet"]
    for t in targets:
        cmd += ["--target", t]
    with tempfile.TemporaryDirectory(prefix="rc-warmup-") as cache_dir:
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, env=child_env(cache_dir), check=True)
        return time.perf_counter() - t0


def nvrtc_phases(spec: dict, arch: str) -> dict:
    """NVRTC's own phase table (--time) for the source the backend generates, in ms per phase."""
    lib = _load_nvrtc()
    source, entry = robocache_source(spec, arch)
    flags = robocache_flags(arch)
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"robocache_kernel.cu", 0, None, None) == 0
    # Instantiate the kernel as the backend does (without it NVVM and ptxas would have nothing to do).
    assert lib.nvrtcAddNameExpression(prog, entry.encode()) == 0
    scratch = tempfile.mkdtemp(prefix="rc-nvrtc-time-")
    table = os.path.join(scratch, "phases.csv")  # NVRTC writes it (an existing file is left alone)
    opts = [o.encode() for o in flags + [f"--time={table}"]]
    argv = (ctypes.c_char_p * len(opts))(*opts)
    t0 = time.perf_counter()
    rc = lib.nvrtcCompileProgram(prog, len(opts), argv)
    total = (time.perf_counter() - t0) * 1e3
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    phases = {"total_ms": total, "rc": rc}
    try:
        with open(table) as f:
            rows = list(csv.reader(io.StringIO(f.read())))
        header = [h.strip() for h in rows[0]]
        for row in rows[1:]:
            cells = dict(zip(header, (c.strip() for c in row)))
            phase, ms = cells.get("phase name", row[1]), cells.get("metric", row[2])
            try:
                phases[phase] = phases.get(phase, 0.0) + float(ms)
            except ValueError:
                pass
    except (OSError, IndexError):
        pass  # this NVRTC has no --time: the total alone
    finally:
        if os.path.exists(table):
            os.unlink(table)
        os.rmdir(scratch)
    return phases


def _load_nvrtc():
    for name in ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise OSError("libnvrtc not found")


def robocache_source(spec: dict, arch: str) -> tuple[str, str]:
    """The generated source and its entry as a name expression (the demangled kernel symbol)."""
    import robocache

    k = robocache.compile(spec, arch)
    demangled = subprocess.run(["c++filt", k._k.symbol], capture_output=True, text=True, check=True).stdout.strip()
    entry = demangled[len("void "):] if demangled.startswith("void ") else demangled
    return k.source, entry[:entry.rfind("(")]


def robocache_flags(arch: str) -> list[str]:
    # The backend's toolchain string is "nvrtc <version> <flags...>" (NvrtcOptions::identity()).
    from robocache._native import _robocache as native

    return native.backend_toolchain(arch).split()[2:]


def summarise(rows: list[dict], backend: str) -> dict:
    medians = [r["median_ms"] for r in rows]
    med, worst = statistics.median(medians), max(medians)
    goal_med, goal_max = TARGETS[backend]
    ok = med <= goal_med and (goal_max is None or worst <= goal_max)
    return {"case": "cold_compile_summary", "backend": backend, "specs": len(rows), "median_ms": med,
            "max_ms": worst, "max_single_run_ms": max(max(r["runs_ms"]) for r in rows),
            "target_median_ms": goal_med, "target_max_ms": goal_max, "meets_target": ok}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", default=os.path.join(HERE, "compile_manifest.json"))
    ap.add_argument("--targets", nargs="+", default=["sm_90", "cpu"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--phases", action="store_true", help="NVRTC per-phase times (--time) per spec")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--tag", default="", help="appended to the result file name")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    from robocache.manifest import load_manifest

    specs = load_manifest(args.manifest)
    date = datetime.date.today().isoformat()
    device = f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
    out_rows = []
    for target in args.targets:
        backend = "llvm" if target == "cpu" else "nvrtc"
        rows = []
        for spec in specs:
            runs = [cold_compile(spec, target) for _ in range(args.runs)]
            ms = [r["ms"] for r in runs]
            row = {"case": "cold_compile", "backend": backend, "target": target, "device": device, "date": date,
                   "spec": spec, "label": label(spec), "runs_ms": ms, "median_ms": statistics.median(ms),
                   "generate_ms": statistics.median(r["generate_ms"] for r in runs),
                   "compile_ms": statistics.median(r["compile_ms"] for r in runs)}
            if args.phases and backend == "nvrtc":
                row["nvrtc_phases_ms"] = nvrtc_phases(spec, target)
            rows.append(row)
            extra = ""
            if "nvrtc_phases_ms" in row:
                extra = "  phases: " + ", ".join(f"{k} {v:.1f}" for k, v in row["nvrtc_phases_ms"].items()
                                                 if k not in ("rc",))
            print(f"{target:6s} {row['label']:44s} median {row['median_ms']:7.1f} ms (max {max(ms):7.1f}; "
                  f"generate {row['generate_ms']:5.1f}, compile {row['compile_ms']:6.1f}){extra}", flush=True)
        s = summarise(rows, backend)
        s.update(target=target, device=device, date=date)
        print(f"{target:6s} SUMMARY over {s['specs']} specs: median {s['median_ms']:.1f} ms, max {s['max_ms']:.1f} ms "
              f"(single runs up to {s['max_single_run_ms']:.1f})  [target median <= {s['target_median_ms']}"
              + (f", max <= {s['target_max_ms']}" if s["target_max_ms"] else "")
              + f": {'met' if s['meets_target'] else 'MISSED'}]", flush=True)
        out_rows += rows + [s]
    if not args.no_warmup:
        for targets in [[t] for t in args.targets] + ([args.targets] if len(args.targets) > 1 else []):
            wall = warmup_wall_s(args.manifest, targets)
            row = {"case": "warmup", "targets": targets, "specs": len(specs), "wall_s": wall, "jobs": os.cpu_count(),
                   "device": device, "date": date, "target_s": WARMUP_TARGET_S, "meets_target": wall <= WARMUP_TARGET_S}
            out_rows.append(row)
            print(f"warmup {'+'.join(targets)}: {len(specs)} specs in {wall:.2f} s on {os.cpu_count()} cores  "
                  f"[target <= {WARMUP_TARGET_S} s: {'met' if row['meets_target'] else 'MISSED'}]", flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"cold_compile-cpu-{date}{'-' + args.tag if args.tag else ''}.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in out_rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
