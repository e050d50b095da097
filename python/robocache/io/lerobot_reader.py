"""LeRobot datasets (the v3 layout) read directly with pyarrow and PyAV, without `lerobot`:

    meta/info.json                             fps, features, path templates
    meta/episodes/chunk-XXX/file-XXX.parquet   per episode: length, data and video file, time span
    data/chunk-XXX/file-XXX.parquet            one row per frame: features, timestamp, indices
    videos/KEY/chunk-XXX/file-XXX.mp4          several episodes per file, one after another

Numeric features are stamped with the dataset's `timestamp` column (LeRobot's frame_index / fps).
Camera streams are stamped with the presentation times stored in the video container, relative to
the episode's `from_timestamp` in that file: the times the frames really have, not index / fps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import numpy as np

from ._deps import require
from .streams import Episode, LogReadError, Stream

# columns every LeRobot data file has that are bookkeeping, not signals
_INDEX_COLUMNS = {"timestamp", "frame_index", "episode_index", "index", "task_index"}
_NUMERIC = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}


def _channels(key: str, feature: dict) -> List[str]:
    names = feature.get("names")
    if isinstance(names, dict):  # {"motors": [...]} in some datasets
        names = next(iter(names.values()), None)
    width = int(np.prod(feature.get("shape", [1])))
    if isinstance(names, list) and len(names) == width and all(isinstance(n, str) for n in names):
        return list(names)
    return [f"{key}[{i}]" for i in range(width)]


def _column(table, key: str, width: int) -> np.ndarray:
    """A data column as float64 [rows, width]: list or fixed-size-list columns flattened by arrow."""
    pa = require("pyarrow", "reading LeRobot datasets")
    col = table.column(key).combine_chunks()
    if pa.types.is_list(col.type) or pa.types.is_fixed_size_list(col.type) or pa.types.is_large_list(col.type):
        flat = col.flatten().to_numpy(zero_copy_only=False)
        return flat.astype(np.float64).reshape(len(col), width)
    return col.to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(col), width)


def _frame_times_ns(path: Path) -> np.ndarray:
    """Presentation times (int64 ns) of every video frame of a container, in presentation order,
    read from the packets (no decoding)."""
    av = require("av", "reading LeRobot video timestamps")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            pts = [p.pts for p in container.demux(stream) if p.pts is not None]
    except Exception as e:  # PyAV's errors for missing, truncated or foreign files
        raise LogReadError(f"{path}: not a readable video file ({type(e).__name__}: {e})") from None
    pts.sort()
    return np.array([(p * tb.numerator * 1_000_000_000 + tb.denominator // 2) // tb.denominator for p in pts],
                    dtype=np.int64)


def _seconds_to_ns(s) -> int:
    return int(round(float(s) * 1e9))


def lerobot_info(root) -> dict:
    """meta/info.json of a LeRobot dataset, checked to be the v3 layout."""
    root = Path(root)
    info_path = root / "meta" / "info.json"
    if not root.exists():
        raise LogReadError(f"{root}: no such file or directory")
    if not info_path.is_file():
        raise LogReadError(f"{root}: not a LeRobot dataset (no meta/info.json)")
    try:
        info = json.loads(info_path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise LogReadError(f"{info_path}: not valid JSON ({e})") from None
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise LogReadError(f"{root}: LeRobot layout {version or '(no codebase_version)'} is not supported; "
                           f"robocache.io reads v3 datasets (lerobot converts older ones)")
    for key in ("fps", "features", "data_path"):
        if key not in info:
            raise LogReadError(f"{info_path}: no '{key}'")
    return info


def read_lerobot(root, episodes: Optional[Iterable[int]] = None, features: Optional[Iterable[str]] = None,
                 progress: Optional[Callable[[int, int], None]] = None) -> List[Episode]:
    """Reads episodes of a LeRobot v3 dataset folder into Episodes (one stream per feature).

    episodes: episode indices (default: all). features: the feature keys to read (default: every
    numeric feature and every video). progress: called as progress(episodes_done, total).
    Raises LogReadError for a missing folder, another layout, or unreadable files.
    """
    pq = require("pyarrow.parquet", "reading LeRobot datasets")
    root = Path(root)
    info = lerobot_info(root)
    feats = info["features"]
    wanted = list(features) if features is not None else [
        k for k, f in feats.items() if k not in _INDEX_COLUMNS and (f.get("dtype") == "video" or f.get("dtype") in _NUMERIC)]
    for k in wanted:
        if k not in feats:
            raise LogReadError(f"{root}: no feature '{k}'; it has: {', '.join(feats)}")
    meta_files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not meta_files:
        raise LogReadError(f"{root}: no episode index (meta/episodes/chunk-*/file-*.parquet)")
    try:
        meta = [row for f in meta_files for row in pq.read_table(f).to_pylist()]
        by_index = {int(r["episode_index"]): r for r in meta}
        chosen = sorted(by_index) if episodes is None else [int(e) for e in episodes]
        for e in chosen:
            if e not in by_index:
                raise LogReadError(f"{root}: no episode {e}; it has {len(by_index)} ({min(by_index)}..{max(by_index)})")
        tables: Dict[str, object] = {}
        videos: Dict[Path, np.ndarray] = {}
        out = []
        for n, e in enumerate(chosen):
            row = by_index[e]
            rel = info["data_path"].format(chunk_index=row["data/chunk_index"], file_index=row["data/file_index"])
            if rel not in tables:
                tables[rel] = pq.read_table(root / rel)
            table = tables[rel]
            ep_col = table.column("episode_index").to_numpy()
            rows = np.flatnonzero(ep_col == e)
            sub = table.take(rows)
            times = np.round(sub.column("timestamp").to_numpy().astype(np.float64) * 1e9).astype(np.int64)
            episode = Episode(f"episode_{e}", source=str(root))
            for key in wanted:
                f = feats[key]
                if f.get("dtype") == "video":
                    continue
                channels = _channels(key, f)
                episode.streams[key] = Stream(key, times, _column(sub, key, len(channels)), channels, "linear", key)
            for key in wanted:
                if feats[key].get("dtype") != "video":
                    continue
                vrel = info["video_path"].format(video_key=key, chunk_index=row[f"videos/{key}/chunk_index"],
                                                 file_index=row[f"videos/{key}/file_index"])
                vpath = root / vrel
                if vpath not in videos:
                    videos[vpath] = _frame_times_ns(vpath)
                t = videos[vpath]
                lo, hi = _seconds_to_ns(row[f"videos/{key}/from_timestamp"]), _seconds_to_ns(row[f"videos/{key}/to_timestamp"])
                mine = t[(t >= lo) & (t < hi)] - lo
                episode.streams[key] = Stream(key, mine, np.arange(len(mine), dtype=np.float64)[:, None], ["frame"],
                                              "nearest", key)
            out.append(episode)
            if progress is not None:
                progress(n + 1, len(chosen))
        return out
    except LogReadError:
        raise
    except Exception as e:  # arrow's errors for corrupt or foreign parquet, missing columns or files
        raise LogReadError(f"{root}: cannot read the dataset ({type(e).__name__}: {e})") from None
