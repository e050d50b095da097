"""The map of the job: a batch of episodes in, per episode its aligned and fused values, masks and
(optionally) a voxel grid out. A callable class for `ray.data.Dataset.map_batches`: Ray builds one
per actor (a fresh process), whose constructor installs the fleet's kernels; on a GPU actor
(`num_gpus=1`, device="cuda") the kernels run on torch tensors. Nothing here imports Ray.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .rows import decode_episode, encode_episode, read_row
from .fleet_kernels import FleetKernels

_VOXEL_MODES = ("occupancy", "count", "mean", "max")


@dataclass(frozen=True)
class VoxelGrid:
    """Voxelise each episode's aligned positions: `points` is an aligned stream of 3 channels (an
    end effector's position, a base's x y z), one point per target; a target whose points stream is
    masked (a gap, outside the stream's range, padding) is dropped. For "mean" and "max", `features`
    are aligned streams reduced per voxel (say the wrench felt there); ops.md §3 gives the rules.
    The grid is [X, Y, Z] (+F) per episode, x-major."""

    points: str
    grid_min: Tuple[float, float, float]
    voxel_size: Union[float, Tuple[float, float, float]]
    grid_shape: Tuple[int, int, int]
    mode: str = "occupancy"
    features: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.mode not in _VOXEL_MODES:
            raise ValueError(f"argument 'mode': expected one of {', '.join(_VOXEL_MODES)}, got {self.mode!r}")
        if (self.mode in ("mean", "max")) != bool(self.features):
            raise ValueError(f"argument 'features': mode {self.mode!r} "
                             + ("needs feature streams" if self.features else "takes no feature streams"))


class EpisodeMap:
    """`map_batches` callable: align (and fuse) every episode of a batch onto one timeline, then
    optionally voxelise it.

    reference, streams, modes, tolerance, max_gap, dtype: as robocache.io.align. voxel: a VoxelGrid
    (or its fields as a dict). device: "cpu" (numpy) or "cuda" (the kernels on the actor's GPU,
    through torch). kernels: the fleet's kernels (a FleetKernels, a path it was saved to, or a Ray
    ObjectRef of one): installed in strict mode by the constructor, so this process never
    compiles; None compiles as usual (one process, or a warm shared cache). deterministic: one
    RoboCache CPU thread per worker (voxel mean in input order). topics, clock: for rows still to be
    read (no "data" column). report_cache: add each row's worker pid and its process's
    cache_stats() counts (`cache_compiles`, `cache_bundle_hits`).

    Input batch: columns "source", "episode" and, after `read_episodes`, "data" (encoded
    episodes). Output: one row per episode: name, source, episode, values [T, D], mask [T, N],
    times [T] (seconds from the episode's start), start_ns, lengths (T) and voxels when asked;
    numpy arrays (variable T: Ray stores them as a variable-shaped tensor column).
    """

    def __init__(self, reference, *, streams: Optional[Sequence[str]] = None, modes: Optional[Dict[str, str]] = None,
                 tolerance=None, max_gap="auto", dtype: str = "f32", voxel: Union[VoxelGrid, dict, None] = None,
                 device: str = "cpu", kernels=None, deterministic: bool = True, topics=None, clock: str = "header",
                 report_cache: bool = False):
        if device != "cpu" and device != "cuda" and not str(device).startswith("cuda:"):
            raise ValueError(f"argument 'device': expected 'cpu' or 'cuda', got {device!r}")
        self._args = dict(reference=reference, streams=list(streams) if streams is not None else None,
                          modes=dict(modes or {}), tolerance=tolerance, max_gap=max_gap, dtype=dtype,
                          voxel=voxel, device=device, kernels=None, deterministic=deterministic,
                          topics=topics, clock=clock, report_cache=report_cache)
        self.reference, self.streams, self.modes = reference, self._args["streams"], self._args["modes"]
        self.tolerance, self.max_gap, self.dtype, self.device = tolerance, max_gap, dtype, device
        self.voxel = VoxelGrid(**voxel) if isinstance(voxel, dict) else voxel
        self.topics, self.clock, self.report_cache = topics, clock, report_cache
        self.kernel_stats: Optional[Dict[str, int]] = None
        self._kernels_as: Optional[str] = None  # on_cpu(): the device whose kernel calls to make
        if kernels is not None:
            self.kernel_stats = _resolve(kernels).install(deterministic)

    @property
    def target(self) -> str:
        """The kernel target this map runs on: "cpu", or "sm_90" (the fleet's GPUs) for CUDA."""
        return "cpu" if self.device == "cpu" else "sm_90"

    def on_cpu(self) -> "EpisodeMap":
        """The same map on the CPU, compiling as usual (the driver's sample run), making the kernel
        calls this map's device makes: on the CPU align resamples most streams natively, on a GPU
        every stream goes through the kernels, so a CUDA map's sample run must ask for those."""
        m = EpisodeMap(**dict(self._args, device="cpu", kernels=None))
        m._kernels_as = self.device
        return m

    def run(self, episodes):
        """Aligns a list of Episodes: (AlignedBatch, voxel grid [B, X, Y, Z(, F)] or None), as
        tensors on the device for device="cuda" (what a training step on the same GPU would use)."""
        from robocache.io import align

        batch = align(episodes, self.reference, streams=self.streams, modes=self.modes or None,
                      tolerance=self.tolerance, max_gap=self.max_gap, dtype=self.dtype, device=self.device,
                      _kernels_as=self._kernels_as)
        return batch, (self._voxelise(batch) if self.voxel is not None else None)

    def _voxelise(self, batch):
        import robocache

        v = self.voxel
        points = batch.stream(v.points)
        if points.shape[-1] != 3:
            raise ValueError(f"voxel points: stream '{v.points}' has {points.shape[-1]} channels, not x y z")
        keep = batch.stream_mask(v.points)[..., None]
        features = None
        if v.features:
            parts = [batch.stream(f) for f in v.features]
            if self.device == "cpu":
                features = np.ascontiguousarray(np.concatenate(parts, axis=-1))
            else:
                import torch

                features = torch.cat(parts, dim=-1).contiguous()
        if self.device == "cpu":
            points = np.where(keep, points, np.nan)  # a NaN coordinate is dropped (ops.md §3)
            lengths = batch.lengths
        else:
            import torch

            points = torch.where(keep, points, torch.full_like(points, float("nan")))
            lengths = torch.as_tensor(batch.lengths, device=points.device)
        return robocache.voxelize_pointcloud(points, v.grid_min, v.voxel_size, v.grid_shape, mode=v.mode,
                                             features=features, lengths=lengths)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        sources = [str(s) for s in batch["source"]]
        indices = [int(i) for i in batch["episode"]]
        if "data" in batch:
            episodes = [decode_episode(d) for d in batch["data"]]
        else:
            episodes = [read_row({"source": s, "episode": i}, self.topics, self.clock) for s, i in zip(sources, indices)]
        aligned, grid = self.run(episodes)
        values, mask = _host(aligned.values), _host(aligned.mask)
        n = aligned.lengths
        out: Dict[str, np.ndarray] = {
            "name": np.array([e.name for e in episodes]),
            "source": np.array(sources),
            "episode": np.array(indices, np.int64),
            "values": _ragged([values[b, :n[b]] for b in range(len(episodes))]),
            "mask": _ragged([mask[b, :n[b]] for b in range(len(episodes))]),
            "times": _ragged([aligned.times[b, :n[b]] for b in range(len(episodes))]),
            "start_ns": aligned.start_ns.copy(),
            "lengths": n.astype(np.int64),
        }
        if grid is not None:
            out["voxels"] = _host(grid)
        if self.report_cache:
            import robocache

            stats = robocache.cache_stats()
            out["worker_pid"] = np.full(len(episodes), os.getpid(), np.int64)
            out["cache_compiles"] = np.full(len(episodes), stats["compiles"], np.int64)
            out["cache_bundle_hits"] = np.full(len(episodes), stats["bundle_hits"], np.int64)
        return out


def _resolve(kernels) -> FleetKernels:
    if isinstance(kernels, FleetKernels):
        return kernels
    if isinstance(kernels, (str, os.PathLike)):
        return FleetKernels.load(kernels)
    if type(kernels).__module__.startswith("ray"):  # an ObjectRef: only then is Ray imported
        import ray

        return _resolve(ray.get(kernels))
    raise TypeError(f"argument 'kernels': expected a FleetKernels, a path or a Ray ObjectRef, got {type(kernels).__name__}")


def _host(x) -> np.ndarray:
    return x if isinstance(x, np.ndarray) else x.cpu().numpy()


def _ragged(arrays) -> np.ndarray:
    """One array per episode, shapes that may differ: an object column Ray turns into a
    variable-shaped tensor column (a 2-D numpy array when the shapes agree would also do)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = np.ascontiguousarray(a)
    return out


__all__ = ["EpisodeMap", "VoxelGrid", "encode_episode"]
