"""The preprocessing job on Ray Data: robot logs in, aligned + fused + voxelised episodes out, on a
local cluster or a real one, with the kernels compiled once on the driver.

    python examples/ray/preprocess.py --logs LOGS --out OUT [--workers 2] [--address ray://HEAD:10001]
                                      [--gpus-per-worker 1] [--batch-size 8]

LOGS: a folder of .mcap bags, one .mcap, or a LeRobot v3 dataset (without --logs: --episodes
synthetic bags, 8 by default, are written first). OUT: a folder of Parquet files, one row per episode (values [T, D], mask
[T, streams], times, voxels [X, Y, Z, F]). Without --address, a local cluster on this machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import ray

from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_episodes, read_row
from robocache.ray.rows import encode_episode

MAP_ARGS = dict(
    reference=30.0,                                    # targets at 30 Hz (or a stream name: its clock)
    modes={"/joint_states.position": "wrapped"},       # continuous joints: the shorter arc
    tolerance=0.05,                                    # mask targets with no sample within 50 ms
    voxel=dict(points="/ee_pose.position",             # where the gripper went, and the force it felt
               grid_min=(0.3, -0.05, 0.25), voxel_size=0.02, grid_shape=(10, 10, 5),
               mode="mean", features=("/wrench.force",)),
)


def synthetic_logs(n: int) -> str:
    from robocache.io.synthetic import Faults, write_ros2_mcap

    folder = tempfile.mkdtemp(prefix="robocache-ray-example-")
    for i in range(n):
        write_ros2_mcap(os.path.join(folder, f"robot_{i:02d}.mcap"), seconds=1.0 + 0.25 * i, seed=i,
                        faults=Faults(jitter=0.1, drop=0.02, gap_s=0.2, duplicate=0.01))
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", help="MCAP folder or file, or LeRobot dataset (default: synthetic bags)")
    ap.add_argument("--out", required=True, help="output folder (Parquet)")
    ap.add_argument("--address", default=None, help="a running cluster (default: a local one)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gpus-per-worker", type=float, default=0, help="> 0: GPU actors (device='cuda')")
    ap.add_argument("--batch-size", type=int, default=8, help="episodes per map_batches call")
    ap.add_argument("--episodes", type=int, default=8, help="synthetic bags to write when --logs is not given")
    args = ap.parse_args()
    logs = args.logs or synthetic_logs(args.episodes)
    gpu = args.gpus_per_worker > 0

    # 1. The driver: run the map on one episode here, bundle exactly the kernels it used (for the
    #    workers' target: this CPU, or sm_90 compiled by NVRTC without a GPU).
    first = episode_rows(logs)[0]
    sample = {"source": np.array([first["source"]]), "episode": np.array([first["episode"]]),
              "data": np.array([encode_episode(read_row(first))], dtype=object)}
    episode_map = EpisodeMap(**MAP_ARGS, device="cuda" if gpu else "cpu")
    kernels = FleetKernels.for_pipeline(episode_map, sample)

    # 2. The cluster: a local one, or the one at --address (same code).
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False

    # 3. The job: read in Ray's workers, map on an actor pool whose actors install the kernels strict.
    ds = read_episodes(logs).map_batches(
        EpisodeMap, fn_constructor_kwargs=dict(MAP_ARGS, device="cuda" if gpu else "cpu",
                                               kernels=ray.put(kernels), report_cache=True),
        batch_size=args.batch_size, batch_format="numpy", num_gpus=args.gpus_per_worker or None,
        compute=ray.data.ActorPoolStrategy(size=args.workers))
    ds.write_parquet(args.out)

    done = ray.data.read_parquet(args.out).select_columns(["name", "lengths", "worker_pid", "cache_compiles"])
    rows = done.take_all()
    compiles = sum(int(r["cache_compiles"]) for r in rows)
    print(f"{len(rows)} episodes, {sum(int(r['lengths']) for r in rows)} targets, worker processes "
          f"{sorted({int(r['worker_pid']) for r in rows})}, {compiles} compiles on the workers -> {args.out}")
    assert compiles == 0
    ray.shutdown()


if __name__ == "__main__":
    main()
