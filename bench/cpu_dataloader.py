"""Issue 19, acceptance 3: RoboCache inside PyTorch DataLoader workers.

One Fc-sized item per sample (three streams 60x512, 200x64, 400x12 f32 with f64 times fused onto
100 targets), batch 8, 200 batches timed after a warm-up, for num_workers = 0 (the main process,
every thread) and num_workers = 2 and = the CPU count (each worker one thread, by the thread
policy). Writes bench/results/cpu-dataloader-<N>core-<date>.jsonl. Needs torch (not a CI
dependency): `pip install torch` into the bench environment first; without it this says so and
exits 0.

    .venv/bin/python bench/cpu_dataloader.py
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BATCHES, WARMUP, BATCH = 200, 10, 8
SHAPES = ((60, 512), (200, 64), (400, 12))
T = 100


class FcSamples:
    """Samples drawn from a pool of pre-generated inputs (a stand-in for decoded episodes)."""

    def __init__(self, pool=256, seed=0):
        rng = np.random.default_rng(seed)
        self.tgt = [np.sort(rng.uniform(0, 10, T)) for _ in range(pool)]
        self.streams = [[(rng.standard_normal((1, S, D)).astype(np.float32), np.sort(rng.uniform(0, 10, (1, S)), axis=1))
                         for S, D in SHAPES] for _ in range(pool)]

    def __len__(self):
        return (BATCHES + WARMUP) * BATCH

    def __getitem__(self, i):
        import robocache
        import torch

        k = i % len(self.tgt)
        out = robocache.fuse_multimodal(self.streams[k], self.tgt[k])
        return torch.from_numpy(out[0]), robocache.get_num_threads()


def run(workers):
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(FcSamples(), batch_size=BATCH, num_workers=workers, shuffle=False,
                        persistent_workers=False)
    threads = set()
    it = iter(loader)
    for _ in range(WARMUP):
        _, n = next(it)
        threads.update(int(x) for x in n)
    t0 = time.perf_counter()
    for _ in range(BATCHES):
        x, n = next(it)
        threads.update(int(x) for x in n)
    dt = time.perf_counter() - t0
    del it
    return {"num_workers": workers, "samples_per_s": BATCHES * BATCH / dt, "robocache_threads_seen": sorted(threads),
            "torch_threads_main": torch.get_num_threads()}


def main():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: the DataLoader benchmark needs it (pip install torch); skipped")
        return
    import robocache

    ncpu = len(os.sched_getaffinity(0))
    rows = []
    for workers in sorted({0, 2, ncpu}):
        r = run(workers)
        rows.append({"kind": "dataloader", "cpus": ncpu, "robocache_default_threads": robocache.get_num_threads(), **r})
        print(f"num_workers={workers}: {r['samples_per_s']:8.0f} samples/s; RoboCache threads in the loading "
              f"processes {r['robocache_threads_seen']}")
    base = rows[0]["samples_per_s"]
    for r in rows[1:]:
        print(f"  num_workers={r['num_workers']} / num_workers=0: {r['samples_per_s'] / base:.2f}x")
    date = datetime.date.today().isoformat()
    path = os.path.join(HERE, "results", f"cpu-dataloader-{ncpu}core-{date}.jsonl")
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
