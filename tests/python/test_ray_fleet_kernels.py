"""robocache.ray.FleetKernels without Ray: the driver bundles exactly a job's kernels, a worker
installs them strict and never compiles; a missing spec, or one built for another compiler or GPU
arch, fails at the worker's start with an error naming it and both sides."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import robocache
from ray_helpers import MAP_ARGS, forge_entry, read_bundle, run_python, write_bundle, write_episodes

pytest.importorskip("mcap")
pytestmark = pytest.mark.cpu_backend

INSTALL = """
import json, sys, robocache
from robocache.ray import EpisodeMap, FleetKernels, run_local
kernels = FleetKernels.load(sys.argv[1])
m = EpisodeMap(**json.loads(sys.argv[2]), kernels=kernels, report_cache=True)
rows = run_local(sys.argv[3], m, batch_size=2)
print(json.dumps({"stats": robocache.cache_stats(), "rows": len(rows),
                  "compiles": sorted({int(r["cache_compiles"]) for r in rows}), "ray": "ray" in sys.modules,
                  "cpu_threads": robocache._native.sm_count("cpu")}))
"""


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_row
    from robocache.ray.rows import encode_episode

    root = tmp_path_factory.mktemp("fleet")
    write_episodes(root / "logs", 3)
    m = EpisodeMap(**MAP_ARGS)
    # a kernel this process used before, for something else: not the job's, not shipped
    robocache.resample_trajectories(np.zeros((1, 4, 2), np.float32), np.arange(4.0), np.arange(3.0))
    first = episode_rows(root / "logs")[0]
    sample = {"source": np.array([first["source"]]), "episode": np.array([0]),
              "data": np.array([encode_episode(read_row(first))], dtype=object)}
    kernels = FleetKernels.for_pipeline(m, sample)
    kernels.save(root / "fleet.rcb")
    return root, kernels


def test_the_bundle_holds_exactly_the_jobs_kernels_not_others_of_the_driver(job):
    _, kernels = job
    ops = sorted(json.loads(s)["op"] for s, _, _ in kernels.kernels)
    # align on the CPU resamples every stream natively (slerp too), so the CPU job's one kernel is
    # its voxelize; the resample_trajectories kernel the driver used before is not shipped
    assert ops == ["voxelize"]
    assert sorted(read_bundle(kernels.bundle)) == sorted(k for _, _, k in kernels.kernels)
    assert kernels.built_with["cpu"].startswith("llvm ")


def test_a_worker_runs_the_job_from_the_bundle_without_compiling(job):
    root, _ = job
    r = run_python(INSTALL, root / "fleet.rcb", json.dumps(MAP_ARGS), root / "logs")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rows"] == 3 and out["compiles"] == [0]
    assert out["stats"]["compiles"] == 0 and out["stats"]["bundle_hits"] == 1  # the voxelize kernel
    assert out["stats"]["cache_mode"] == "strict"
    assert out["cpu_threads"] == 1  # deterministic mode: voxel mean sums in input order
    assert out["ray"] is False  # the map and the kernels need no Ray: a GPU machine without it runs them


def test_a_spec_missing_from_the_bundle_is_named_at_the_workers_start(job, tmp_path):
    from robocache.ray import FleetKernels

    _, kernels = job
    fuse_only = [k for k in kernels.kernels if json.loads(k[0])["op"] == "fuse"]
    entries = read_bundle(kernels.bundle)
    FleetKernels(write_bundle({k: entries[k] for _, _, k in fuse_only}), tuple(kernels.kernels),
                 kernels.built_with).save(tmp_path / "partial.rcb")
    r = run_python(INSTALL, tmp_path / "partial.rcb", json.dumps(MAP_ARGS), job[0] / "logs")
    assert r.returncode != 0
    assert "CacheMissError: strict cache mode: no compiled kernel for spec" in r.stderr
    assert '"op":"voxelize"' in r.stderr.replace(" ", "")


def test_a_kernel_built_by_another_llvm_names_both_versions(job, tmp_path):
    from robocache.ray import FleetKernels

    _, kernels = job
    entries = read_bundle(kernels.bundle)
    forged = dict(forge_entry(raw, lambda h: h.update(toolchain="llvm 99.1.0")) for raw in entries.values())
    FleetKernels(write_bundle(forged), kernels.kernels, kernels.built_with).save(tmp_path / "other.rcb")
    r = run_python(INSTALL, tmp_path / "other.rcb", json.dumps(MAP_ARGS), job[0] / "logs")
    assert r.returncode != 0
    assert "it was built with 'llvm 99.1.0', this process has '" + kernels.built_with["cpu"] + "'" in r.stderr


def test_a_kernel_built_for_another_cpu_model_names_both(job, tmp_path):
    from robocache.ray import FleetKernels

    _, kernels = job
    entries = read_bundle(kernels.bundle)
    forged = dict(forge_entry(raw, lambda h: h["target"].update(arch="a64fx")) for raw in entries.values())
    FleetKernels(write_bundle(forged), kernels.kernels, kernels.built_with).save(tmp_path / "arm.rcb")
    r = run_python(INSTALL, tmp_path / "arm.rcb", json.dumps(MAP_ARGS), job[0] / "logs")
    assert r.returncode != 0
    assert "it was built for CPU 'a64fx', this process runs CPU '" in r.stderr


STRICT_SM90 = """
import json, sys, robocache
try:
    robocache.compile(json.loads(sys.argv[1]), "sm_90")
    print("loaded")
except robocache.CacheMissError as e:
    print(e)
"""


@pytest.fixture(scope="module")
def sm90_entry():
    if not robocache.check_installation()["cuda"].get("compile_only") and \
            not robocache.check_installation()["cuda"].get("available"):
        pytest.skip("NVRTC is not available here")
    spec = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 5}
    k = robocache.compile(spec, "sm_90")
    entry = next(e for e in robocache._native.cache_entries(True) if e["key"] == k.key)
    with open(entry["path"], "rb") as f:
        return spec, f.read(), entry["toolchain"]


@pytest.mark.parametrize("change, theirs, ours", [
    (lambda h: h["target"].update(arch="sm_80"), "GPU arch 'sm_80'", "GPU arch 'sm_90'"),
    (lambda h: h.update(toolchain="nvrtc 12.4 -arch=sm_90"), "'nvrtc 12.4 -arch=sm_90'", None),
], ids=["gpu-arch", "nvrtc-version"])
def test_a_cuda_kernel_built_elsewhere_names_both_sides(sm90_entry, tmp_path, change, theirs, ours):
    spec, raw, toolchain = sm90_entry
    key, forged = forge_entry(raw, change)
    path = tmp_path / "gpu.rcb"
    path.write_bytes(write_bundle({key: forged}))
    os.chmod(path, 0o400)
    r = run_python(STRICT_SM90, json.dumps(spec), ROBOCACHE_CACHE_MODE="strict", ROBOCACHE_CACHE_BUNDLES=path,
                   ROBOCACHE_CACHE_DIR=tmp_path / "empty")
    assert r.returncode == 0, r.stderr
    assert f"bundle {path} holds this spec for target" in r.stdout
    assert theirs in r.stdout
    assert (ours or f"this process has '{toolchain}'") in r.stdout


def test_install_refuses_a_process_whose_robocache_already_started(job):
    code = ("import robocache, robocache.ray as rr\nrobocache.check_installation(); robocache.cache_stats()\n"
            "import sys\ntry:\n    rr.FleetKernels.load(sys.argv[1]).install()\nexcept rr.FleetKernelsError as e:\n"
            "    print('refused:', e)\n")
    r = run_python(code, job[0] / "fleet.rcb")
    assert r.returncode == 0, r.stderr
    assert "refused: robocache was started in this process" in r.stdout


def test_a_lerobot_dataset_gives_one_row_per_episode_and_runs_locally(tmp_path):
    from robocache.io.synthetic import write_lerobot
    from robocache.ray import EpisodeMap, episode_rows, run_local

    write_lerobot(tmp_path / "arm", episodes=3, seconds=1.0, fps=30)
    rows = episode_rows(tmp_path / "arm")
    assert rows == [{"source": str(tmp_path / "arm"), "episode": i} for i in range(3)]
    out = run_local(tmp_path / "arm", EpisodeMap("observation.state"), batch_size=2)
    assert [int(r["episode"]) for r in out] == [0, 1, 2]
    assert all(r["values"].shape[0] == r["lengths"] == r["mask"].shape[0] for r in out)


def test_a_folder_without_logs_is_an_error_naming_it(tmp_path):
    from robocache.io import LogReadError
    from robocache.ray import episode_rows

    with pytest.raises(LogReadError, match=f"{tmp_path}: no .mcap file in this folder"):
        episode_rows(tmp_path)


def test_a_cuda_maps_bundle_holds_the_kernel_calls_of_the_gpu_path(job, tmp_path):
    """On the CPU align resamples most streams natively; on a GPU every stream goes through the
    kernels. The driver's sample run for a device="cuda" map (on the CPU) must ask for the GPU
    path's kernels, or the GPU workers miss them (the fuse of every stream)."""
    from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_row
    from robocache.ray.rows import decode_episode, encode_episode

    root, cpu_kernels = job
    first = episode_rows(root / "logs")[0]
    sample = {"source": np.array([first["source"]]), "episode": np.array([0]),
              "data": np.array([encode_episode(read_row(first))], dtype=object)}
    gpu_map = EpisodeMap(**MAP_ARGS, device="cuda")
    kernels = FleetKernels.for_pipeline(gpu_map, sample, targets=["cpu"])
    aligned, _ = EpisodeMap(**MAP_ARGS).run([decode_episode(sample["data"][0])])
    def fused_modes(k):
        return [m["interp"] for spec in k.specs if spec["op"] == "fuse" for m in spec["modalities"]]

    # wrapped angles are unwrapped and resampled linearly by the kernels
    want = {"linear" if aligned.modes[s] == "wrapped" else aligned.modes[s] for s in aligned.streams}
    assert "linear" in want and want <= set(fused_modes(kernels)), (want, fused_modes(kernels))
    # the CPU map's own bundle lacks them: its linear streams are resampled natively
    assert "linear" not in fused_modes(cpu_kernels)
