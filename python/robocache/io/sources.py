"""One entry point for any supported log path: an MCAP file (one episode) or a LeRobot v3 folder
(its episodes)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional

from .streams import Episode, LogReadError


def kind_of(path) -> str:
    """"mcap" or "lerobot", from what is at `path`; LogReadError when it is neither."""
    path = Path(path)
    if not path.exists():
        raise LogReadError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "meta" / "info.json").exists():
            return "lerobot"
        raise LogReadError(f"{path}: a folder but not a LeRobot dataset (no meta/info.json)")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic == b"\x89MCAP0\r\n":
        return "mcap"
    raise LogReadError(f"{path}: not an MCAP file (it does not start with the MCAP magic bytes)")


def read_log(path, clock: str = "header", topics=None,
             progress: Optional[Callable[[int, int], None]] = None) -> List[Episode]:
    """The episodes at `path`: an MCAP file gives one (clock, topics as read_mcap), a LeRobot
    folder one per episode (topics: its feature keys)."""
    from .lerobot_reader import read_lerobot
    from .mcap_reader import read_mcap

    if kind_of(path) == "mcap":
        return [read_mcap(path, topics=topics, clock=clock, progress=progress)]
    return read_lerobot(path, features=topics, progress=progress)


