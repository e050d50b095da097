"""The CPU benchmark (issue 19, targets.md "CPU"): every op and mode of RoboCache's LLVM backend
beside numba and numpy, in a single-thread and an all-thread column, over the copy-bandwidth floor.

    bash bench/run_cpu.sh            # the build, numba and matplotlib, then this script

Method (targets.md):
- Each case's inputs are rotated over copies totalling at least twice the last-level cache the OS
  reports (sysfs), one cursor shared by every implementation, so no call finds its inputs in cache.
- Copy bandwidth: the best of several copies of 1 GiB in the same run (numpy on one thread, numpy
  over all cores, non-temporal stores on one thread and over all cores), counting bytes read +
  written. A case's floor = the bytes it must move / that bandwidth (what the bytes are: floor_bytes).
- Each implementation allocates its output on every call, as a user's code does. Medians of 5
  interleaved runs (run k of every implementation before run k+1 of any), each run the mean of
  enough calls to last ~25 ms.
- Columns: "1 thread" = RoboCache with set_num_threads(1), numba without parallel, numpy;
  "all threads" = RoboCache with the default policy (every CPU), numba parallel=True.
- RoboCache runs with its default validate=True (source times checked on every call).

Writes bench/results/cpu-<N>core-<date>.jsonl and .png; prints the table with the acceptance checks.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import glob
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import robocache

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cpu_baselines as base  # noqa: E402

NCPU = len(os.sched_getaffinity(0))
RUNS = 5
RUN_SECONDS = 0.025


# ---------------------------------------------------------------- the machine
def last_level_cache_bytes() -> int:
    """The highest-level cache sysfs reports, summed over its instances (distinct CPU sets)."""
    best_level, sizes = -1, {}
    for d in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*"):
        try:
            level = int(open(os.path.join(d, "level")).read())
            size = open(os.path.join(d, "size")).read().strip()
            shared = open(os.path.join(d, "shared_cpu_list")).read().strip()
            kind = open(os.path.join(d, "type")).read().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1], 1)
        nbytes = int(size.rstrip("KMG")) * mult
        if level > best_level:
            best_level, sizes = level, {}
        if level == best_level:
            sizes[shared] = nbytes
    return sum(sizes.values()) or 64 << 20


def _nt_copy_function():
    """A copy loop with non-temporal stores (no read for ownership of the destination), JIT-compiled
    by llvmlite (numba's own LLVM binding). None where it cannot be built."""
    try:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        ir = r"""
define void @nt_copy(ptr noalias %dst, ptr noalias %src, i64 %n) {
entry:
  %empty = icmp eq i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %ps = getelementptr float, ptr %src, i64 %i
  %pd = getelementptr float, ptr %dst, i64 %i
  %v = load <16 x float>, ptr %ps, align 4
  store <16 x float> %v, ptr %pd, align 64, !nontemporal !0
  %next = add i64 %i, 16
  %done = icmp uge i64 %next, %n
  br i1 %done, label %exit, label %loop
exit:
  fence seq_cst
  ret void
}
!0 = !{i32 1}
"""
        mod = llvm.parse_assembly(ir)
        mod.verify()
        tm = llvm.Target.from_default_triple().create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)
        ee = llvm.create_mcjit_compiler(mod, tm)
        ee.finalize_object()
        fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(ee.get_function_address("nt_copy"))
        fn._keep = (ee, mod, tm)
        return fn
    except Exception as e:  # pragma: no cover - an llvmlite without these entry points
        print(f"(non-temporal copy unavailable: {e})")
        return None


def _aligned(n, dtype=np.float32):
    raw = np.empty(n + 64, dtype)
    off = (-raw.ctypes.data % 64) // raw.itemsize
    return raw[off:off + n]


def copy_bandwidths(nbytes=1 << 30):
    """Bytes (read + written) per second of several 1 GiB copies; the median of 5 each."""
    n = nbytes // 4
    n -= n % (16 * NCPU)
    src = _aligned(n)
    src[:] = 1.0
    dst = _aligned(n)
    dst[:] = 0.0
    nt = _nt_copy_function()
    parts = [(k * n // NCPU, (k + 1) * n // NCPU) for k in range(NCPU)]

    def threaded(fn):
        ts = [threading.Thread(target=fn, args=p) for p in parts]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    methods = {
        "numpy copy, 1 thread": lambda: np.copyto(dst, src),
        f"numpy copy, {NCPU} threads": lambda: threaded(lambda a, b: np.copyto(dst[a:b], src[a:b])),
    }
    if nt is not None:
        methods["non-temporal stores, 1 thread"] = lambda: nt(dst.ctypes.data, src.ctypes.data, n)
        methods[f"non-temporal stores, {NCPU} threads"] = lambda: threaded(
            lambda a, b: nt(dst.ctypes.data + 4 * a, src.ctypes.data + 4 * a, b - a))
    out = {}
    for _ in range(RUNS):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            out.setdefault(name, []).append(time.perf_counter() - t0)
    assert np.array_equal(dst[:: n // 1000], src[:: n // 1000])
    return {k: 2 * n * 4 / statistics.median(v) for k, v in out.items()}


# ---------------------------------------------------------------- cases
class Case:
    """One benchmark case: a generator of one input set, the bytes its floor counts, and the calls."""

    def __init__(self, name, op, desc, make, floor_bytes, impls, tol=1e-5):
        self.name, self.op, self.desc, self.make, self.floor_bytes = name, op, desc, make, floor_bytes
        self.impls = impls  # name -> (column, fn(inputs))
        self.tol = tol


def _times(rng, B, S, T):
    src = np.sort(rng.uniform(0, 10, (B, S)), axis=1) + 1.7e9
    tgt = np.sort(rng.uniform(0, 10, (B, T)), axis=1) + 1.7e9
    return src, tgt


def _unit_quats(rng, shape):
    q = rng.standard_normal(shape + (4,))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    # a smooth-ish trajectory: neighbours close, so slerp takes its interesting branch
    return q


ROWS_PER_TARGET = {"linear": 2, "nearest": 1, "previous": 1, "cubic": 4, "pose": 2, "slerp": 2}


def resample_bytes(B, S, T, D, mode, itemsize=4, time_itemsize=8):
    """targets.md: the distinct source rows the mode reads (at most the row's length), every time
    array at its dtype, and the output."""
    rows = min(S, ROWS_PER_TARGET[mode] * T)
    return B * rows * D * itemsize + B * (S + T) * time_itemsize + B * T * D * itemsize


def resample_case(name, B, S, T, D, mode="linear", lengths=False, dtype="f32"):
    np_dtype = {"f32": np.float32, "f16": np.float16, "bf16": None}[dtype]
    if dtype == "bf16":
        import ml_dtypes

        np_dtype = ml_dtypes.bfloat16

    def make(rng):
        src, tgt = _times(rng, B, S, T)
        if mode == "pose":
            data = np.concatenate([rng.standard_normal((B, S, 3)), _unit_quats(rng, (B, S)),
                                   rng.integers(0, 2, (B, S, 1))], axis=-1).astype(np_dtype)
        else:
            data = rng.standard_normal((B, S, D)).astype(np_dtype)
        lens = rng.integers(S // 2, S + 1, B).astype(np.int64) if lengths else None
        return {"data": data, "src": src, "tgt": tgt, "lengths": lens}

    rc_kw = {}
    if mode == "pose":
        rc_kw["groups"] = [(0, 3, "linear"), (3, 4, "slerp"), (7, 1, "previous")]
    else:
        rc_kw["interp"] = mode

    def rc(x):
        return robocache.resample_trajectories(x["data"], x["src"], x["tgt"], lengths=x["lengths"], **rc_kw)

    impls = {"robocache": ("both", rc)}
    if dtype == "f32":
        impls["numba"] = ("both", lambda x, par: base.resample_numba(x["data"], x["src"], x["tgt"], mode, x["lengths"], par))
    if dtype != "bf16":
        impls["numpy"] = ("1t", lambda x: base.resample_numpy(x["data"], x["src"], x["tgt"], mode, x["lengths"]))
    else:
        impls["numpy"] = ("1t", lambda x: base.resample_numpy(x["data"].astype(np.float32), x["src"], x["tgt"], mode,
                                                              x["lengths"]).astype(np_dtype))
    itemsize = np.dtype(np_dtype).itemsize
    desc = f"{mode}{' +lengths' if lengths else ''}, B{B} S{S} -> T{T}, D{D} ({dtype} data, f64 times)"
    tol = {"cubic": 1e-4, "pose": 1e-4}.get(mode, 1e-5) if dtype == "f32" else 1e-2
    return Case(name, "resample", desc, make, resample_bytes(B, S, T, D, mode, itemsize), impls, tol)


def fuse_case():
    B, T, shapes = 8, 100, ((60, 512), (200, 64), (400, 12))

    def make(rng):
        tgt = np.sort(rng.uniform(0, 10, (B, T)), axis=1)
        streams = [(rng.standard_normal((B, S, D)).astype(np.float32), np.sort(rng.uniform(0, 10, (B, S)), axis=1))
                   for S, D in shapes]
        return {"streams": streams, "tgt": tgt}

    floor = sum(B * min(S, 2 * T) * D * 4 + B * S * 8 for S, D in shapes) + B * T * 8 + B * T * sum(d for _, d in shapes) * 4
    return Case("Fc", "fuse", "linear, B8; 60x512, 200x64, 400x12 -> T100 (f32, f64 times)", make, floor, {
        "robocache": ("both", lambda x: robocache.fuse_multimodal(x["streams"], x["tgt"])),
        "numba": ("both", lambda x, par: base.fuse_numba(x["streams"], x["tgt"], par)),
        "numpy": ("1t", lambda x: base.fuse_numpy(x["streams"], x["tgt"])),
    })


def voxel_case(name, mode, N, G, F=0, B=0):
    shape = (G, G, G)
    gmin, vs = (-1.0, -1.0, -1.0), 2.0 / G

    def make(rng):
        pts = rng.uniform(-1.05, 1.05, ((B, N, 3) if B else (N, 3))).astype(np.float32)
        feats = rng.standard_normal((N, F)).astype(np.float32) if F else None
        return {"points": pts, "features": feats}

    out_item = {"occupancy": 4, "count": 4, "mean": 4 * F, "max": 4 * F}[mode]
    floor = (B or 1) * N * 12 + (N * F * 4) + (B or 1) * G ** 3 * out_item
    desc = f"{mode}, {'B%d ' % B if B else ''}{N // 1000}k points{', F%d' % F if F else ''}, {G}^3 (f32)"
    return Case(name, "voxelize", desc, make, floor, {
        "robocache": ("both", lambda x: robocache.voxelize_pointcloud(x["points"], gmin, vs, shape, mode=mode,
                                                                       features=x["features"])),
        "numba": ("both", lambda x, par: base.voxelize_numba(x["points"], gmin, vs, shape, mode, x["features"], par)),
        "numpy": ("1t", lambda x: base.voxelize_numpy(x["points"], gmin, vs, shape, mode, x["features"])),
    }, tol=1e-5)


def all_cases():
    return [
        resample_case("C1", 64, 4096, 1024, 32),
        resample_case("C2", 32, 500, 256, 256),
        resample_case("C3", 1, 100, 50, 7),
        resample_case("C1-nearest", 64, 4096, 1024, 32, "nearest"),
        resample_case("C1-previous", 64, 4096, 1024, 32, "previous"),
        resample_case("C1-cubic", 64, 4096, 1024, 32, "cubic"),
        resample_case("C1-lengths", 64, 4096, 1024, 32, "linear", lengths=True),
        resample_case("Cp-pose", 64, 4096, 1024, 8, "pose"),
        resample_case("C2-f16", 32, 500, 256, 256, dtype="f16"),
        resample_case("C2-bf16", 32, 500, 256, 256, dtype="bf16"),
        fuse_case(),
        voxel_case("Vc", "occupancy", 500_000, 128),
        voxel_case("Vc-count", "count", 500_000, 128),
        voxel_case("Vc-mean", "mean", 500_000, 64, F=4),
        voxel_case("Vc-max", "max", 500_000, 64, F=4),
        voxel_case("Vb-count", "count", 100_000, 64, B=8),
    ]


# ---------------------------------------------------------------- rotation and timing
def _nbytes(x):
    if isinstance(x, np.ndarray):
        return x.nbytes
    if isinstance(x, (list, tuple)):
        return sum(_nbytes(v) for v in x)
    if isinstance(x, dict):
        return sum(_nbytes(v) for v in x.values())
    return 0


def _stack(x, n):
    """n copies of the input set x, in distinct memory (one block per array), as views."""
    if isinstance(x, np.ndarray):
        block = np.empty((n,) + x.shape, x.dtype)
        block[...] = x
        return [block[i] for i in range(n)]
    if isinstance(x, (list, tuple)):
        cols = [_stack(v, n) for v in x]
        return [type(x)(c[i] for c in cols) for i in range(n)]
    if isinstance(x, dict):
        cols = {k: _stack(v, n) for k, v in x.items()}
        return [{k: c[i] for k, c in cols.items()} for i in range(n)]
    return [x] * n


class Rotation:
    def __init__(self, sets):
        self.sets, self.i = sets, 0

    def next(self):
        x = self.sets[self.i]
        self.i = (self.i + 1) % len(self.sets)
        return x


def _calls(case):
    """(label, column, threads setter, fn(inputs)) for every implementation of the case."""
    out = []
    for impl, (column, fn) in case.impls.items():
        if impl == "robocache":
            out.append(("robocache", "1t", 1, fn))
            out.append(("robocache", "all", 0, fn))
        elif impl == "numba":
            out.append(("numba", "1t", None, lambda x, f=fn: f(x, False)))
            out.append(("numba parallel", "all", None, lambda x, f=fn: f(x, True)))
        else:
            out.append((impl, column, None, fn))
    return out


def _set_threads(n):
    robocache.set_num_threads(n)


def time_case(case, rot):
    calls = _calls(case)
    per_run = {}
    # calibration (also the warm-up: JIT compiles, first-touch of allocator pools)
    for label, col, threads, fn in calls:
        if threads is not None:
            _set_threads(threads)
        fn(rot.next())
        t0 = time.perf_counter()
        fn(rot.next())
        fn(rot.next())
        dt = (time.perf_counter() - t0) / 2
        per_run[(label, col)] = max(3, min(2000, int(RUN_SECONDS / max(dt, 1e-7))))
    samples = {}
    for _ in range(RUNS):
        for label, col, threads, fn in calls:
            if threads is not None:
                _set_threads(threads)
            k = per_run[(label, col)]
            inputs = [rot.next() for _ in range(k)]
            t0 = time.perf_counter()
            for x in inputs:
                fn(x)
            samples.setdefault((label, col), []).append((time.perf_counter() - t0) / k * 1e6)
    _set_threads(0)
    return {key: (statistics.median(v), v) for key, v in samples.items()}


def check_agreement(case, x):
    ref = case.impls["numpy"][1](x)
    for label, col, threads, fn in _calls(case):
        if threads is not None:
            _set_threads(threads)
        got = fn(x)
        if not np.allclose(np.asarray(got, np.float64), np.asarray(ref, np.float64), rtol=case.tol, atol=case.tol):
            err = np.max(np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64)))
            raise AssertionError(f"{case.name}: {label} ({col}) disagrees with numpy (max abs error {err:g})")
    _set_threads(0)


# ---------------------------------------------------------------- scaling sweep
def scaling_sweep(cases, llc, bw):
    rows = []
    counts = sorted({1, 2, 4, 8, 16, 32, 64, NCPU} & set(range(1, NCPU + 1)))
    import numba

    for case in cases:
        x0 = case.make(np.random.default_rng(0))
        rot = Rotation(_stack(x0, max(2, math.ceil(2 * llc / _nbytes(x0)))))
        fns = {"robocache": lambda x: case.impls["robocache"][1](x),
               "numba parallel": lambda x: case.impls["numba"][1](x, True)}
        for n in counts:
            numba.set_num_threads(n)
            _set_threads(n)
            for label, fn in fns.items():
                fn(rot.next())
            res = {}
            for _ in range(RUNS):
                for label, fn in fns.items():
                    fn(rot.next())
                    t0 = time.perf_counter()
                    k = 0
                    while time.perf_counter() - t0 < RUN_SECONDS or k < 3:
                        fn(rot.next())
                        k += 1
                    res.setdefault(label, []).append((time.perf_counter() - t0) / k * 1e6)
            for label, v in res.items():
                rows.append({"kind": "sweep", "case": case.name, "backend": label, "threads": n,
                             "us": statistics.median(v), "floor_us": case.floor_bytes / bw * 1e6})
        numba.set_num_threads(NCPU)
        _set_threads(0)
        del rot
    return rows


# ---------------------------------------------------------------- a fresh process
COLD_CHILD = r"""
import json, sys, time
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
    """Fresh processes with numpy imported: cold (empty caches) and warm (caches filled before)."""
    rows = {}
    with tempfile.TemporaryDirectory() as rc_dir, tempfile.TemporaryDirectory() as nb_dir:
        env = dict(os.environ, ROBOCACHE_CACHE_DIR=rc_dir, NUMBA_CACHE_DIR=nb_dir)
        for kind in ("robocache", "numba"):
            cold = first_result_ms(kind, env)
            warm = statistics.median(first_result_ms(kind, env) for _ in range(3))
            rows[kind] = {"cold_ms": cold, "warm_ms": warm}
    return rows


# ---------------------------------------------------------------- report
def chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["case"] for r in rows))
    series = [("robocache", "all"), ("numba parallel", "all"), ("robocache", "1t"), ("numba", "1t")]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.2
    for k, (impl, col) in enumerate(series):
        vals = []
        for n in names:
            r = next((r for r in rows if r["case"] == n and r["backend"] == impl and r["column"] == col), None)
            vals.append(r["us"] / r["floor_us"] if r else float("nan"))
        ax.bar([i + (k - 1.5) * width for i in range(len(names))], vals, width,
               label=f"{impl} ({'1 thread' if col == '1t' else 'all threads'})")
    ax.set_yscale("log")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("time / copy-bandwidth floor (log)")
    ax.set_title("CPU: time over the floor, inputs from DRAM (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--only", nargs="*", help="case names to run (default: all)")
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--tag", default="", help="added to the result file name")
    args = ap.parse_args()
    date = datetime.date.today().isoformat()
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    llc = last_level_cache_bytes()
    bws = copy_bandwidths()
    bw = max(bws.values())
    device = f"{platform.machine()} {platform.processor() or ''} {NCPU} CPUs, LLC {llc >> 20} MiB".replace("  ", " ")
    print(f"{device}; commit {commit}; rotating inputs over >= {2 * llc >> 20} MiB per case")
    for k, v in bws.items():
        print(f"  copy bandwidth {v / 1e9:6.1f} GB/s  {k}")
    print(f"  floor bandwidth {bw / 1e9:.1f} GB/s (the best)")
    meta = {"kind": "machine", "device": device, "cpus": NCPU, "llc_bytes": llc, "date": date, "commit": commit,
            "copy_bandwidths": bws, "floor_bandwidth": bw, "runs": RUNS,
            "robocache_threads_default": robocache.get_num_threads(), "loadavg_start": os.getloadavg()}
    rows = [meta]
    cases = [c for c in all_cases() if not args.only or c.name in args.only]
    hdr = (f"{'case':12} {'floor':>8} | {'RC 1t':>8} {'numba':>8} {'numpy':>9} | {'RC all':>8} {'nb par':>8} |"
           f" {'RC/floor':>8} {'ok':>5}")
    print(hdr)
    summary = []
    for case in cases:
        x0 = case.make(np.random.default_rng(0))
        check_agreement(case, x0)
        nsets = max(2, math.ceil(2 * llc / _nbytes(x0)))
        rot = Rotation(_stack(x0, nsets))
        res = time_case(case, rot)
        del rot
        floor_us = case.floor_bytes / bw * 1e6
        for (label, col), (us, runs) in res.items():
            rows.append({"kind": "case", "case": case.name, "op": case.op, "shape": case.desc, "backend": label,
                         "column": col, "us": us, "runs_us": runs, "floor_us": floor_us,
                         "floor_bytes": case.floor_bytes, "input_sets": nsets, "set_bytes": _nbytes(x0),
                         "device": device, "date": date, "commit": commit})
        g = lambda label, col: res.get((label, col), (float("nan"),))[0]  # noqa: E731
        rc1, rca = g("robocache", "1t"), g("robocache", "all")
        nb1, nbp, npy = g("numba", "1t"), g("numba parallel", "all"), g("numpy", "1t")
        bound = (2.0 if case.op == "voxelize" else 1.3) * floor_us + 2.0
        ahead = (math.isnan(nb1) or rc1 < nb1) and (math.isnan(nbp) or rca < nbp)
        near = rca <= bound
        summary.append({"case": case.name, "ahead_of_numba": ahead, "within_floor_bound": near,
                        "floor_bound_us": bound, "robocache_all_us": rca, "robocache_1t_us": rc1,
                        "numba_parallel_us": nbp, "numba_us": nb1})
        print(f"{case.name:12} {floor_us:8.1f} | {rc1:8.1f} {nb1:8.1f} {npy:9.1f} | {rca:8.1f} {nbp:8.1f} |"
              f" {rca / floor_us:8.2f} {('A' if ahead else '-') + ('F' if near else '-'):>5}  {case.desc}",
              flush=True)
    for s in summary:
        rows.append({"kind": "acceptance", **s})
    print("ok: A = ahead of numba in both columns, F = all-thread time <= 1.3 x floor + 2 us (voxels 2 x)")
    if not args.no_sweep:
        sweep = scaling_sweep([c for c in all_cases() if c.name in ("C1", "Fc", "Vc-count")], llc, bw)
        for r in sweep:
            print(f"  sweep {r['case']:9} {r['backend']:15} {r['threads']:3} threads {r['us']:9.1f} us")
        rows += sweep
    meta["loadavg_end"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) at the start {meta['loadavg_start']}, at the end {meta['loadavg_end']}")
    jit = jit_costs()
    for kind, r in jit.items():
        rows.append({"kind": "jit_first_result", "backend": kind, "device": device, "date": date, **r})
        print(f"first result in a fresh process, {kind}: cold {r['cold_ms']:.0f} ms, warm cache {r['warm_ms']:.0f} ms")
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"cpu-{NCPU}core-{date}{('-' + args.tag) if args.tag else ''}")
    with open(stem + ".jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    chart([r for r in rows if r.get("kind") == "case"], stem + ".png")
    print(f"wrote {stem}.jsonl and .png")


if __name__ == "__main__":
    main()
