"""robocache.ray throughput: episodes per second of the whole job (read the MCAP bags, align, fuse,
voxelise) with 1 and 2 Ray workers against the same job in one process, on this machine.

    .venv/bin/python bench/ray_bench.py [--episodes 24] [--seconds 2] [--repeats 3]

One process: robocache.ray.run_local (read + EpisodeMap, batches of --batch-size, kernels warm).
Ray: a local cluster (num_cpus = the machine's CPUs), read_episodes -> map_batches(EpisodeMap,
ActorPoolStrategy(size=k)) with the fleet's kernels installed strict; timed from the start of
execution to the last row in the driver, so it includes starting the k workers (processes) and
installing the bundle in each, which a long job pays once. The Ray cluster's own start
(ray.init, ~4 s here) is reported apart. Best of --repeats, interleaved. Writes
bench/results/ray-<machine>-<date>.jsonl (one line per configuration).
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
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

VOXEL = dict(points="/ee_pose.position", grid_min=(0.3, -0.05, 0.25), voxel_size=0.02, grid_shape=(10, 10, 5),
             mode="mean", features=("/wrench.force",))
MAP_ARGS = dict(reference=50.0, voxel=VOXEL, modes={"/joint_states.position": "wrapped"})


def machine() -> str:
    return f"{platform.machine()}-{os.cpu_count()}cores"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=HERE, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=24)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each episode")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out_path = args.out or os.path.join(HERE, "results", f"ray-cpu-{machine()}-{datetime.date.today()}.jsonl")

    import ray

    from robocache.io.synthetic import Faults, write_ros2_mcap
    from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_episodes, read_row, run_local
    from robocache.ray.rows import encode_episode

    logs = tempfile.mkdtemp(prefix="robocache-ray-bench-")
    for i in range(args.episodes):
        write_ros2_mcap(os.path.join(logs, f"ep{i:04d}.mcap"), seconds=args.seconds, seed=i,
                        faults=Faults(jitter=0.1, drop=0.02, duplicate=0.01))
    n_msgs = None
    first = episode_rows(logs)[0]
    sample = {"source": np.array([first["source"]]), "episode": np.array([0]),
              "data": np.array([encode_episode(read_row(first))], dtype=object)}
    episode_map = EpisodeMap(**MAP_ARGS)
    kernels = FleetKernels.for_pipeline(episode_map, sample)  # also warms this process

    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray_init_s = time.perf_counter() - t0
    ray.data.DataContext.get_current().enable_progress_bars = False
    kernels_ref = ray.put(kernels)

    def one_process() -> float:
        t = time.perf_counter()
        rows = run_local(logs, episode_map, batch_size=args.batch_size)
        assert len(rows) == args.episodes
        return time.perf_counter() - t

    def on_ray(workers: int) -> float:
        t = time.perf_counter()
        ds = read_episodes(logs).map_batches(
            EpisodeMap, fn_constructor_kwargs=dict(MAP_ARGS, kernels=kernels_ref, report_cache=True),
            batch_size=args.batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers))
        rows = ds.take_all()
        assert len(rows) == args.episodes and all(int(r["cache_compiles"]) == 0 for r in rows)
        return time.perf_counter() - t

    configs = {"one process": one_process, "ray 1 worker": lambda: on_ray(1), "ray 2 workers": lambda: on_ray(2)}
    times = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, fn in configs.items():
            times[name].append(fn())
    ray.shutdown()

    date, sha, load = str(datetime.date.today()), commit(), os.getloadavg()[0]
    base = min(times["one process"])
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "a") as f:
        for name, ts in times.items():
            best = min(ts)
            rec = {"case": "ray-job", "config": name, "episodes": args.episodes, "episode_s": args.seconds,
                   "batch_size": args.batch_size, "machine": machine(), "date": date, "commit": sha,
                   "load_avg": load, "ray_version": ray.__version__, "ray_init_s": round(ray_init_s, 2),
                   "times_s": [round(t, 3) for t in ts], "best_s": round(best, 3),
                   "episodes_per_s": round(args.episodes / best, 2), "vs_one_process": round(base / best, 3)}
            f.write(json.dumps(rec) + "\n")
            print(f"{name:14s} {args.episodes / best:7.2f} episodes/s  (best of {ts!r} s; "
                  f"{base / best:.2f}x one process)")
    print(f"ray.init {ray_init_s:.1f} s (not in the times); load average {load:.1f}; wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
