"""What the readers produce and `align` consumes: an episode of named streams, each a clock of
int64 nanoseconds (as recorded: possibly unsorted, with duplicates) and float values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

#: Interpolation modes a stream can have (see docs/robot-logs.md).
MODES = ("linear", "slerp", "previous", "nearest", "wrapped")


@dataclass
class Stream:
    """One stream of an episode: `values [S, D]` stamped by `times_ns [S]` (int64 nanoseconds,
    in the order they were recorded), channel names, and the interpolation mode it defaults to."""

    name: str
    times_ns: np.ndarray
    values: np.ndarray
    channels: List[str]
    mode: str = "linear"
    source: str = ""  # the topic or feature it came from

    def __post_init__(self):
        self.times_ns = np.ascontiguousarray(self.times_ns, dtype=np.int64)
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        self.values = values
        if self.times_ns.ndim != 1 or values.ndim != 2 or len(values) != len(self.times_ns):
            raise ValueError(f"stream '{self.name}': expected times [S] and values [S, D] with the same S, "
                             f"got {list(self.times_ns.shape)} and {list(values.shape)}")
        if len(self.channels) != values.shape[1]:
            raise ValueError(f"stream '{self.name}': {values.shape[1]} value channels but "
                             f"{len(self.channels)} channel names")
        if self.mode not in MODES:
            raise ValueError(f"stream '{self.name}': mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.mode == "slerp" and values.shape[1] != 4:
            raise ValueError(f"stream '{self.name}': slerp needs 4 channels (x, y, z, w), got {values.shape[1]}")

    def __len__(self) -> int:
        return len(self.times_ns)

    def __repr__(self) -> str:
        return (f"Stream({self.name!r}, {len(self)} samples, channels={self.channels}, mode={self.mode!r})")


@dataclass
class Episode:
    """A recording: streams by name (a bag, or one episode of a LeRobot dataset)."""

    name: str
    streams: Dict[str, Stream] = field(default_factory=dict)
    source: Optional[str] = None  # the file or folder it was read from

    def __getitem__(self, name: str) -> Stream:
        try:
            return self.streams[name]
        except KeyError:
            raise KeyError(f"episode '{self.name}' has no stream '{name}'; it has: "
                           f"{', '.join(self.streams)}") from None

    def __repr__(self) -> str:
        return f"Episode({self.name!r}, streams={list(self.streams)})"


class LogReadError(ValueError):
    """A log or dataset that cannot be read: missing, corrupt, or not of a supported layout.
    The message names the path and what was wrong."""
