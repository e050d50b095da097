#!/usr/bin/env python3
"""robocache.ray's GPU path, called as a Ray GPU actor calls it, against its CPU path (issue 20,
acceptance 3). Ray is not needed (nor importable) on the GPU machine: EpisodeMap is a plain class.

Here (CPU backend, NVRTC):
    .venv/bin/python scripts/gpu_ray_check.py prepare gpu-ray
writes gpu-ray/batch.pkl (a batch of 6 encoded episodes, as `read_episodes` gives them),
gpu-ray/cpu_outputs.pkl (EpisodeMap(device="cpu") on it, one RoboCache thread) and
gpu-ray/fleet_sm90.rcb(.json) (the job's kernels for sm_90, built with this machine's NVRTC).
Prepare it from the commit the GPU machine will check (a bundle from older code misses the specs
newer code asks for) and carry it there: gpu-ray/ is ignored by git (the device tool's `carry`).

On the GPU machine (torch; no LLVM, no Ray, no mcap needed), from the repository root:
    source scripts/gpu_env.sh && python3 scripts/gpu_ray_check.py check gpu-ray
runs EpisodeMap(device="cuda", kernels=gpu-ray/fleet_sm90.rcb) in a fresh process (strict: the
bundle or an error naming both NVRTC versions / arches), then without the bundle if that failed,
and compares with the CPU outputs within docs/semantics.md's promises:
- bit for bit: masks, lengths, target times, start stamps, the values of linear / nearest /
  previous streams (semantics.md: one fma, same bits on both backends), and which voxels are empty;
- slerp streams and wrapped angles (no bit promise: slerp's trigonometry, the wrap's float64
  remainder in torch vs numpy): |gpu - cpu| <= 1e-6 (a few f32 ulp of 1 and of pi);
- voxel mean (atomic sums in another order on the GPU): |gpu - cpu| <= 1e-5 * (1 + |cpu|).
Prints one JSON summary line and exits 1 when anything is outside those bounds.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

VOXEL = dict(points="/ee_pose.position", grid_min=(0.3, -0.05, 0.25), voxel_size=0.02, grid_shape=(10, 10, 5),
             mode="mean", features=("/wrench.force",))
MAP_ARGS = dict(reference=50.0, voxel=VOXEL, modes={"/joint_states.position": "wrapped"})
ANGLE_TOL = 1e-6  # f32 unit quaternions, and angles in (-pi, pi]: a few ulp
MEAN_RTOL = 1e-5


def prepare(out: Path) -> None:
    from robocache.io.synthetic import Faults, write_ros2_mcap
    from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_row
    from robocache.ray.rows import encode_episode

    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    for i in range(6):
        write_ros2_mcap(logs / f"robot_{i}.mcap", seconds=1.0 + 0.4 * i, seed=20 + i,
                        faults=Faults(jitter=0.1, drop=0.02, gap_s=0.1, duplicate=0.02, out_of_order=0.02))
    rows = episode_rows(logs)
    batch = {"source": np.array([Path(r["source"]).name for r in rows]),
             "episode": np.array([r["episode"] for r in rows], np.int64),
             "data": np.array([encode_episode(read_row(r)) for r in rows], dtype=object)}
    for p in logs.iterdir():
        p.unlink()
    logs.rmdir()
    with open(out / "batch.pkl", "wb") as f:
        pickle.dump(batch, f)
    with open(out / "cpu_outputs.pkl", "wb") as f:
        pickle.dump(EpisodeMap(**MAP_ARGS)(batch), f)
    FleetKernels.for_pipeline(EpisodeMap(**MAP_ARGS, device="cuda"), batch, targets=["sm_90"]).save(out / "fleet_sm90.rcb")
    print(f"wrote {out}/batch.pkl, cpu_outputs.pkl, fleet_sm90.rcb (.json)")


GPU_ACTOR = """
import json, pickle, sys
sys.path.insert(0, sys.argv[4])
import robocache
from robocache.ray import EpisodeMap
args = json.loads(sys.argv[2])
kernels = sys.argv[3] or None
result = {"install": "not asked"}
try:
    m = EpisodeMap(**args, device="cuda", kernels=kernels)   # what Ray's GPU actor constructs
    result["install"] = "ok" if kernels else "not asked"
except Exception as e:
    result["install"] = f"{type(e).__name__}: {e}"
    print(json.dumps(result)); sys.exit(3)
with open(sys.argv[1] + "/batch.pkl", "rb") as f:
    batch = pickle.load(f)
try:
    out = m(batch)                                         # what map_batches calls
except Exception as e:                                     # e.g. a strict miss: a spec the bundle lacks
    result["install"] = f"{type(e).__name__}: {e}"
    print(json.dumps(result)); sys.exit(4)
aligned, _ = m.run([__import__("robocache.ray.rows", fromlist=["x"]).decode_episode(d) for d in batch["data"][:1]])
result["layout"] = [[s, aligned.slices[s].start, aligned.slices[s].stop, aligned.modes[s]] for s in aligned.streams]
result["stats"] = {k: v for k, v in robocache.cache_stats().items() if isinstance(v, int)}
result["ray_imported"] = "ray" in sys.modules
with open(sys.argv[1] + "/gpu_outputs.pkl", "wb") as f:
    pickle.dump(out, f)
print(json.dumps(result))
"""


def _actor(folder: Path, kernels: str) -> dict:
    r = subprocess.run([sys.executable, "-c", GPU_ACTOR, str(folder), json.dumps(MAP_ARGS), kernels,
                        str(ROOT / "python")], capture_output=True, text=True)
    lines = r.stdout.strip().splitlines()
    if not lines:
        raise SystemExit(f"GPU actor failed:\n{r.stderr[-3000:]}")
    res = json.loads(lines[-1])
    res["returncode"] = r.returncode
    return res


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint8) if a.dtype != object else a


def compare(cpu: dict, gpu: dict, layout) -> dict:
    problems, worst = [], {"slerp": 0.0, "wrapped": 0.0, "voxel_mean": 0.0}
    for c in ("name", "source", "episode", "start_ns", "lengths"):
        if not np.array_equal(cpu[c], gpu[c]):
            problems.append(f"column {c} differs")
    for b in range(len(cpu["name"])):
        for c in ("mask", "times"):
            if cpu[c][b].shape != gpu[c][b].shape or cpu[c][b].tobytes() != gpu[c][b].tobytes():
                problems.append(f"episode {b}: {c} differs")
        cv, gv = cpu["values"][b], gpu["values"][b]
        if cv.shape != gv.shape or cv.dtype != gv.dtype:
            problems.append(f"episode {b}: values {cv.shape} {cv.dtype} vs {gv.shape} {gv.dtype}")
            continue
        for stream, lo, hi, mode in layout:
            a, g = cv[:, lo:hi], gv[:, lo:hi]
            if mode in ("slerp", "wrapped"):
                d = float(np.max(np.abs(a.astype(np.float64) - g))) if a.size else 0.0
                worst[mode] = max(worst[mode], d)
                if not d <= ANGLE_TOL:
                    problems.append(f"episode {b}: {stream} ({mode}) differs by {d:.3g}")
            elif a.tobytes() != g.tobytes():
                n = int(np.sum(_bits(a) != _bits(g)))
                problems.append(f"episode {b}: {stream} ({mode}) not bit for bit ({n} bytes differ)")
        cg, gg = cpu["voxels"][b].astype(np.float64), gpu["voxels"][b].astype(np.float64)
        if not np.array_equal(cg != 0, gg != 0):
            problems.append(f"episode {b}: the occupied voxels differ")
        d = np.abs(cg - gg) / (1 + np.abs(cg))
        worst["voxel_mean"] = max(worst["voxel_mean"], float(d.max()))
        if not d.max() <= MEAN_RTOL:
            problems.append(f"episode {b}: voxel mean differs by {d.max():.3g} (relative)")
    return {"problems": problems, "worst": worst}


def check(folder: Path) -> int:
    import torch

    assert torch.cuda.is_available(), "torch sees no CUDA device"
    strict = _actor(folder, str(folder / "fleet_sm90.rcb"))
    # A strict failure (a bundle from other code, another NVRTC or arch) is reported, and the
    # comparison still runs on kernels compiled in the actor.
    summary = {"gpu": torch.cuda.get_device_name(0), "strict_bundle": strict["install"]}
    run = strict if strict["returncode"] == 0 else _actor(folder, "")
    if run["returncode"] != 0:
        raise SystemExit(f"GPU actor failed without the bundle too: {run['install']}")
    summary["compiles_in_actor"] = run["stats"]["compiles"]
    summary["bundle_hits"] = run["stats"]["bundle_hits"]
    summary["ray_imported"] = run["ray_imported"]
    with open(folder / "cpu_outputs.pkl", "rb") as f:
        cpu = pickle.load(f)
    with open(folder / "gpu_outputs.pkl", "rb") as f:
        gpu = pickle.load(f)
    summary.update(compare(cpu, gpu, run["layout"]))
    summary["episodes"] = len(cpu["name"])
    ok = not summary["problems"] and not run["ray_imported"] and strict["returncode"] == 0
    summary["result"] = "PASS" if ok else "FAIL"
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("prepare", "check"):
        raise SystemExit(__doc__)
    what, folder = sys.argv[1], Path(sys.argv[2])
    sys.exit(prepare(folder) if what == "prepare" else check(folder))
