"""robocache.ray: the preprocessing job on Ray Data, compiled once for the whole fleet
(docs/scale-out.md).

    kernels = FleetKernels.for_pipeline(episode_map, sample_rows)      # the driver compiles once
    ds = read_episodes("logs/")                                         # a Dataset of episodes
    out = ds.map_batches(EpisodeMap, fn_constructor_kwargs={..., "kernels": kernels}, concurrency=2)

Needs the `robocache[ray]` extra (ray[data]) for `read_episodes` only: `EpisodeMap`,
`FleetKernels` and `episode_rows` import no Ray, so a GPU actor's code path can be run and tested
without it. Nothing here is imported by `import robocache`.
"""

from __future__ import annotations

from robocache._lazy import lazy_exports

_EXPORTS = {
    "EpisodeMap": "episode_map", "VoxelGrid": "episode_map",
    "FleetKernels": "fleet_kernels", "FleetKernelsError": "fleet_kernels",
    "episode_rows": "rows", "read_row": "rows", "encode_episode": "rows",
    "decode_episode": "rows", "run_local": "rows",
    "read_episodes": "source",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
