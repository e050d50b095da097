"""robocache.io: real robot logs in, training batches out (docs/robot-logs.md).

    episode = robocache.io.read_mcap("run.mcap")                 # a ROS 2 bag
    episodes = robocache.io.read_lerobot("my_dataset")           # a LeRobot v3 dataset
    batch = robocache.io.align(episodes, reference=30.0)         # values [B,T,D], mask [B,T,N]
    batch.reports                                                # what was wrong with the clocks

Readers need the `robocache[io]` extra (mcap, mcap-ros2-support, pyarrow, av); the DataLoader
part needs torch. Nothing here is imported by `import robocache`, and importing this package
imports none of them: each is imported by the call that needs it.
"""

from __future__ import annotations

from robocache._lazy import lazy_exports

# public name -> the module defining it (imported on first use)
_EXPORTS = {
    "Stream": "streams", "Episode": "streams", "LogReadError": "streams", "MODES": "streams",
    "RepairedClock": "clocks", "repair": "clocks",
    "read_mcap": "mcap_reader", "mcap_topics": "mcap_reader",
    "read_lerobot": "lerobot_reader", "lerobot_info": "lerobot_reader",
    "read_log": "sources", "kind_of": "sources",
    "align": "alignment", "AlignedBatch": "alignment", "report": "alignment",
    "StreamReport": "report",
    "LogDataset": "dataset", "Collate": "dataset", "collate": "dataset",
    "MissingDependency": "_deps",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
