"""RoboCache: JIT-compiled kernels for robot-learning data (resampling trajectories).

Quick start::

    import numpy as np, robocache
    k = robocache.compile({"op": "resample", "dtype": "f32", "dim": 7})
    out = k(data, src_times, tgt_times)      # numpy in -> numpy out on the CPU

See docs/quickstart.md.
"""

from ._native import _robocache as _native
from ._kernel import Kernel, compile
from ._status import cache_stats, check_installation, synchronize
from .ops import fuse_multimodal, resample_trajectories, voxelize_pointcloud
from .tuning import TuneResult, tune

CompileError = _native.CompileError
BackendUnavailable = _native.BackendUnavailable
CacheMissError = _native.CacheMissError

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "CacheMissError",
    "CompileError",
    "Kernel",
    "TuneResult",
    "cache_stats",
    "check_installation",
    "compile",
    "fuse_multimodal",
    "resample_trajectories",
    "synchronize",
    "tune",
    "voxelize_pointcloud",
]
