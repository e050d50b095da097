"""The source: a directory of MCAP files, one MCAP file or a LeRobot dataset as a Ray Dataset of
episodes (one row each), read in Ray's workers by robocache.io's readers."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from .rows import encode_episode, episode_rows, read_row


def _read_batch(batch: Dict[str, np.ndarray], topics=None, clock: str = "header") -> Dict[str, np.ndarray]:
    """map_batches function: rows {"source", "episode"} -> the same rows with "data"."""
    data = np.empty(len(batch["source"]), dtype=object)
    for i, (s, e) in enumerate(zip(batch["source"], batch["episode"])):
        data[i] = encode_episode(read_row({"source": str(s), "episode": int(e)}, topics, clock))
    return {"source": batch["source"], "episode": batch["episode"], "data": data}


def read_episodes(path, *, topics=None, clock: str = "header", episodes_per_read_task: int = 1,
                  override_num_blocks: Optional[int] = None):
    """A ray.data.Dataset of the episodes at `path` (see episode_rows): columns "source",
    "episode" and "data" (an encoded robocache.io Episode; EpisodeMap decodes it).

    The listing runs here (no episode is read); the reading runs in Ray's workers, each read task
    taking `episodes_per_read_task` episodes. topics, clock: as robocache.io.read_mcap (for a
    LeRobot dataset, topics are its feature keys)."""
    import ray

    rows = episode_rows(path)
    ds = ray.data.from_items(rows, override_num_blocks=override_num_blocks or len(rows))
    return ds.map_batches(_read_batch, fn_kwargs={"topics": topics, "clock": clock},
                          batch_size=episodes_per_read_task, batch_format="numpy")
