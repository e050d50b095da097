"""Episodes as rows of a table: what the source lists, what travels between Ray's workers.

A row before reading is `{"source": path, "episode": index}` (an MCAP file has episode 0; a
LeRobot folder one row per episode). After reading, `"data"` holds the episode as bytes (the
pickled robocache.io Episode, a few arrays per stream), so Ray's object store moves it as one
binary cell. Nothing here imports Ray.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np


def episode_rows(path) -> List[Dict[str, object]]:
    """The episodes at `path` as rows `{"source", "episode"}`, without reading their data.

    path: a directory of `.mcap` files (sorted by name; subdirectories too), one `.mcap` file, or a
    LeRobot v3 folder (one row per episode of its index)."""
    from robocache.io.lerobot_reader import lerobot_info  # noqa: F401 - the io extra, checked here
    from robocache.io.sources import kind_of
    from robocache.io.streams import LogReadError

    root = Path(path)
    if root.is_dir() and not (root / "meta" / "info.json").exists():
        files = sorted(p for p in root.rglob("*.mcap") if p.is_file())
        if not files:
            raise LogReadError(f"{root}: no .mcap file in this folder, and it is not a LeRobot dataset")
        return [{"source": str(p), "episode": 0} for p in files]
    if kind_of(root) == "mcap":
        return [{"source": str(root), "episode": 0}]
    return [{"source": str(root), "episode": int(i)} for i in _lerobot_indices(root)]


def _lerobot_indices(root: Path) -> List[int]:
    import pyarrow.parquet as pq

    from robocache.io.streams import LogReadError

    files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not files:
        raise LogReadError(f"{root}: no episode index (meta/episodes/chunk-*/file-*.parquet)")
    return sorted({int(i) for f in files for i in pq.read_table(f, columns=["episode_index"])["episode_index"]
                   .to_pylist()})


def read_row(row, topics: Optional[Iterable[str]] = None, clock: str = "header"):
    """The robocache.io Episode a row names (read_mcap or read_lerobot)."""
    from robocache.io import read_lerobot, read_mcap
    from robocache.io.sources import kind_of

    source = str(row["source"])
    if kind_of(source) == "mcap":
        return read_mcap(source, topics=list(topics) if topics is not None else None, clock=clock)
    (episode,) = read_lerobot(source, episodes=[int(row["episode"])],
                              features=list(topics) if topics is not None else None)
    return episode


def encode_episode(episode) -> bytes:
    """An Episode as one binary cell."""
    return pickle.dumps(episode, protocol=5)


def decode_episode(data):
    """The Episode of `encode_episode`; an Episode passes through."""
    from robocache.io.streams import Episode

    if isinstance(data, Episode):
        return data
    if isinstance(data, np.ndarray):  # a 0-d object or bytes array from a numpy batch
        data = data.item()
    episode = pickle.loads(bytes(data))
    if not isinstance(episode, Episode):
        raise TypeError(f"column 'data': expected an encoded robocache.io Episode, got {type(episode).__name__}")
    return episode


def run_local(path, episode_map, batch_size: int = 4, topics=None, clock: str = "header") -> List[Dict[str, object]]:
    """The same job in this process, without Ray: rows of `path` read, mapped `batch_size` at a time
    by `episode_map` (an EpisodeMap), one output row per episode in the source's order."""
    rows = episode_rows(path)
    out: List[Dict[str, object]] = []
    for lo in range(0, len(rows), batch_size):
        chunk = rows[lo:lo + batch_size]
        batch = {"source": np.array([r["source"] for r in chunk]),
                 "episode": np.array([r["episode"] for r in chunk], np.int64),
                 "data": np.array([encode_episode(read_row(r, topics, clock)) for r in chunk], dtype=object)}
        result = episode_map(batch)
        out.extend({k: v[i] for k, v in result.items()} for i in range(len(chunk)))
    return out
