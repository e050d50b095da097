"""A torch Dataset of recorded episodes and the collate that aligns them into training batches.

Each item is one episode, read in the DataLoader's worker (an MCAP file, or one episode of a
LeRobot dataset); the collate aligns the batch's episodes on the CPU backend, in the worker too,
and hands back an AlignedBatch of torch tensors. Workers find the kernel in the disk cache (or,
forked, in the parent's memory): with a warm cache no worker compiles (batch.kernel_cache says).
For the GPU, align in the main process instead: `align(episodes, ..., device="cuda")`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Union

from ._deps import require
from .alignment import AlignedBatch, align
from .streams import Episode

try:  # a real torch Dataset when torch is here; the class works with any DataLoader-like loop without it
    from torch.utils.data import Dataset as _Base
except ImportError:  # pragma: no cover - torch is optional
    _Base = object


class Collate:
    """A picklable collate_fn: aligns a list of Episodes with fixed align() arguments and returns
    the AlignedBatch with torch tensors (values, mask, lengths, times)."""

    def __init__(self, reference, **align_kwargs):
        if align_kwargs.get("device", "cpu") != "cpu":
            raise ValueError("argument 'device': a collate runs in DataLoader workers, on the CPU; align on the GPU "
                             "in the main process (align(episodes, ..., device='cuda'))")
        self.reference, self.align_kwargs = reference, align_kwargs

    def __call__(self, episodes: List[Episode]) -> AlignedBatch:
        import robocache

        torch = require("torch", "the DataLoader collate")
        before = robocache.cache_stats()
        batch = align(episodes, self.reference, **self.align_kwargs)
        after = robocache.cache_stats()
        batch.kernel_cache = {k: after[k] - before[k] for k in ("compiles", "disk_hits", "memory_hits")}
        batch.values = torch.from_numpy(batch.values)
        batch.mask = torch.from_numpy(batch.mask)
        batch.lengths = torch.from_numpy(batch.lengths)
        batch.times = torch.from_numpy(batch.times)
        return batch


def collate(episodes: List[Episode], reference, **align_kwargs) -> AlignedBatch:
    """Collate(reference, **align_kwargs)(episodes): align a list of episodes into torch tensors."""
    return Collate(reference, **align_kwargs)(episodes)


class LogDataset(_Base):
    """Episodes from MCAP files and LeRobot v3 folders (and Episodes already read), one item each.

    sources: paths and/or Episode objects. clock, topics: as read_mcap (topics also picks LeRobot
    features). `dataset.collate_fn(reference, **align_kwargs)` gives the matching collate."""

    def __init__(self, sources: Sequence[Union[str, Path, Episode]], clock: str = "header",
                 topics: Optional[Sequence[str]] = None):
        from .sources import kind_of

        self.clock, self.topics = clock, list(topics) if topics is not None else None
        self.items: list = []
        for src in sources:
            if isinstance(src, Episode):
                self.items.append(("episode", src, None))
            elif kind_of(src) == "mcap":
                self.items.append(("mcap", str(src), None))
            else:
                pq = require("pyarrow.parquet", "reading LeRobot datasets")
                metas = sorted((Path(src) / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
                for f in metas:
                    for e in pq.read_table(f, columns=["episode_index"]).column(0).to_pylist():
                        self.items.append(("lerobot", str(src), int(e)))
        if not self.items:
            raise ValueError("argument 'sources': no episode found")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Episode:
        from .lerobot_reader import read_lerobot
        from .mcap_reader import read_mcap

        kind, src, index = self.items[i]
        if kind == "episode":
            return src
        if kind == "mcap":
            return read_mcap(src, topics=self.topics, clock=self.clock)
        return read_lerobot(src, episodes=[index], features=self.topics)[0]

    @staticmethod
    def collate_fn(reference, **align_kwargs) -> Collate:
        """The collate_fn for a DataLoader over this dataset: Collate(reference, **align_kwargs)."""
        return Collate(reference, **align_kwargs)
