"""The robot-log part of `python -m robocache.demo`: write a small multi-robot log set with the real
writers (three ROS 2 bags in MCAP with different clock faults, one LeRobot v3 dataset), audit it,
align it into padded training batches with masks, and time align against the pandas baseline."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np

NEEDS = ("mcap", "mcap_ros2", "pyarrow", "av", "pandas")
ROBOTS = {  # name -> faults of its clocks
    "arm_a": dict(jitter=0.05),
    "arm_b": dict(jitter=0.2, drop=0.05, gap_s=0.3),
    "arm_c": dict(jitter=0.1, duplicate=0.02, out_of_order=0.02),
}
MODES = {"/joint_states.position": "wrapped"}


def missing() -> str:
    """Why the robot-log part cannot run here ('' when it can)."""
    absent = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if absent:
        return f"{', '.join(absent)} not installed (pip install robocache[io])"
    import robocache

    cpu = robocache.check_installation()["cpu"]
    return "" if cpu["available"] else f"no CPU backend in this build ({cpu.get('reason', '')})"


def _ms(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def run(seconds: float = 3.0) -> bool:
    """Runs the walk-through, printing as it goes; True when align agreed with the baseline."""
    import robocache.io as rio
    from robocache.io.baseline import pandas_align
    from robocache.io.synthetic import Faults, write_lerobot, write_ros2_mcap

    with tempfile.TemporaryDirectory(prefix="robocache-logs-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        for seed, (name, faults) in enumerate(ROBOTS.items()):
            write_ros2_mcap(tmp / f"{name}.mcap", seconds=seconds + seed, seed=seed, faults=Faults(**faults))
        write_lerobot(tmp / "lerobot_arm", episodes=3, seconds=seconds, seed=9)
        print(f"  wrote {len(ROBOTS)} ROS 2 bags (6 topics each, MCAP) and a LeRobot v3 dataset "
              f"(3 episodes, parquet + mp4) in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        bags = [rio.read_mcap(tmp / f"{name}.mcap") for name in ROBOTS]
        lerobot = rio.read_lerobot(tmp / "lerobot_arm")
        read_ms = (time.perf_counter() - t0) * 1e3
        print(f"  read them back in {read_ms:.0f} ms: {sum(len(e.streams) for e in bags)} streams from the bags, "
              f"{len(lerobot)} LeRobot episodes (camera times from the video container)")

        print("  audit (per robot and topic; what `robocache audit FILE` prints as a table):")
        reports = rio.report(bags, 30.0)
        by_clock = {(r.episode, r.source): r for r in reports}  # a topic's streams share one clock
        flagged = set()
        for (episode, source), r in by_clock.items():
            if r.problems or r.masked > 0.05:
                flagged.add(episode)
                print(f"    {episode:6s} {source:26s} {r.rate_hz:6.1f} Hz  jitter {r.jitter_ms:5.2f} ms  "
                      f"gaps {r.gaps}  duplicates {r.duplicates}  out of order {r.out_of_order}  "
                      f"masked {100 * r.masked:4.1f}%")
        clean = [e.name for e in bags if e.name not in flagged]
        if clean:
            print(f"    {', '.join(clean)}: no problem found")

        batch = rio.align(bags, 30.0, modes=MODES)  # cold: compiles the fuse kernels once
        B, T, D = batch.values.shape
        print(f"  aligned the bags onto 30 Hz: values [{B}, {T}, {D}] float32, masks [{B}, {T}, "
              f"{len(batch.streams)}], targets per robot {batch.lengths.tolist()}, "
              f"{100 * (1 - batch.mask.sum() / (batch.lengths.sum() * len(batch.streams))):.1f}% masked")
        lr = rio.align(lerobot, "observation.state")
        print(f"  aligned the LeRobot episodes onto their rows: values {list(lr.values.shape)}, camera frames "
              f"matched by container time ({100 * (1 - lr.stream_mask('observation.images.front').sum() / lr.lengths.sum()):.1f}% masked)")

        values, mask, _ = pandas_align(bags, 30.0, batch.streams, batch.modes)
        agree = bool(np.array_equal(mask, batch.mask)) and all(
            np.allclose(batch.stream(n), values[..., batch.slices[n]], rtol=1e-5, atol=1e-5 * (np.abs(
                values[..., batch.slices[n]]).max() + 1e-30)) for n in batch.streams)
        ours = _ms(lambda: rio.align(bags, 30.0, modes=MODES))
        theirs = _ms(lambda: pandas_align(bags, 30.0, batch.streams, batch.modes), repeats=3)
        print(f"  align (warm, CPU) {ours:6.2f} ms | pandas baseline (merge_asof + np.interp) {theirs:7.2f} ms | "
              f"{theirs / ours:4.1f}x | outputs {'equal' if agree else 'DIFFER'}")
        try:
            import torch
        except ImportError:
            print("  (DataLoader part skipped: torch is not installed)")
            return agree
        ds = rio.LogDataset([tmp / f"{name}.mcap" for name in ROBOTS])
        loader = torch.utils.data.DataLoader(ds, batch_size=3, collate_fn=ds.collate_fn(30.0, modes=MODES))
        tb = next(iter(loader))
        print(f"  torch DataLoader batch: values {tuple(tb.values.shape)} {tb.values.dtype}, "
              f"mask {tuple(tb.mask.shape)}, kernel compiles in the collate: {tb.kernel_cache['compiles']}")
        return agree
