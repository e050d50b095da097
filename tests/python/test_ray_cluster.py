"""Acceptance of robocache.ray on a local Ray cluster (issue 20): two worker processes run the job
over episode files; the output equals the one-process result bit for bit (voxel mean in its
deterministic mode: one RoboCache CPU thread per process), no worker compiles, and a worker that
SIGKILLs itself on a chosen batch's first attempt is replaced and the batch retried, with nothing
lost or duplicated."""

from __future__ import annotations

import json
import os
import pickle
import signal

import numpy as np
import pytest

from ray_helpers import MAP_ARGS, run_python, write_episodes

ray = pytest.importorskip("ray")
pytest.importorskip("mcap")
pytestmark = pytest.mark.cpu_backend

N_EPISODES = 8
COLUMNS = ("values", "mask", "times", "start_ns", "lengths", "voxels")

REFERENCE = """
import json, pickle, sys
from robocache.ray import EpisodeMap, run_local
rows = run_local(sys.argv[1], EpisodeMap(**json.loads(sys.argv[2])), batch_size=3)
with open(sys.argv[3], "wb") as f:
    pickle.dump(rows, f)
"""


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    write_episodes(root / "logs", N_EPISODES)
    # the one-process result, in a process of its own with one RoboCache thread (deterministic mode)
    r = run_python(REFERENCE, root / "logs", json.dumps(MAP_ARGS), root / "reference.pkl", ROBOCACHE_NUM_THREADS=1)
    assert r.returncode == 0, r.stderr
    with open(root / "reference.pkl", "rb") as f:
        return root, pickle.load(f)


def test_two_workers_match_one_process_bit_for_bit_without_compiling_and_survive_a_sigkill(cluster, logs):
    from robocache.ray import EpisodeMap, FleetKernels, episode_rows, read_episodes, read_row
    from robocache.ray.rows import encode_episode

    root, reference = logs
    first = episode_rows(root / "logs")[0]
    sample = {"source": np.array([first["source"]]), "episode": np.array([0]),
              "data": np.array([encode_episode(read_row(first))], dtype=object)}
    kernels = FleetKernels.for_pipeline(EpisodeMap(**MAP_ARGS), sample)
    marker = root / "killed"
    victim = str(root / "logs" / "episode_005.mcap")

    class KillsItselfOnce(EpisodeMap):
        """The job's map, except that the worker holding the victim's batch dies the first time."""

        def __call__(self, batch):
            if victim in [str(s) for s in batch["source"]] and not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__call__(batch)

    ds = read_episodes(root / "logs").map_batches(
        KillsItselfOnce, fn_constructor_kwargs=dict(MAP_ARGS, kernels=ray.put(kernels), report_cache=True),
        batch_size=2, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=2))
    rows = ds.take_all()

    assert marker.exists(), "no worker was killed: the test proves nothing about retries"
    sources = sorted(str(r["source"]) for r in rows)
    assert sources == sorted(str(r["source"]) for r in reference)  # nothing lost, nothing duplicated
    assert len(sources) == N_EPISODES
    killed = int(marker.read_text())
    got = {str(r["source"]): r for r in rows}
    assert int(got[victim]["worker_pid"]) != killed  # retried by another (restarted) worker
    for ref in reference:
        row = got[str(ref["source"])]
        assert str(row["name"]) == str(ref["name"])
        for c in COLUMNS:
            a, b = np.asarray(row[c]), np.asarray(ref[c])
            assert a.dtype == b.dtype and a.shape == b.shape, (ref["source"], c)
            assert a.tobytes() == b.tobytes(), (ref["source"], c)
    assert any(np.asarray(ref["voxels"]).any() for ref in reference)  # the grids are not all empty
    workers = {int(r["worker_pid"]) for r in rows}
    assert all(int(r["cache_compiles"]) == 0 for r in rows), "a worker compiled"
    assert all(int(r["cache_bundle_hits"]) == len(kernels.kernels) for r in rows)
    print(f"{len(rows)} episodes from workers {sorted(workers)}; worker {killed} was killed")
