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
from ._threads import get_num_threads, set_num_threads
from .ops import fuse_multimodal, resample_trajectories, voxelize_pointcloud

CompileError = _native.CompileError
BackendUnavailable = _native.BackendUnavailable
CacheMissError = _native.CacheMissError

__version__ = "0.1.0"


def __getattr__(name):
    # The tuner (and the statistics and thread-pool modules it needs) loads on first use, keeping
    # `import robocache` fast for programs that only run kernels.
    if name in ("tune", "TuneResult"):
        from . import tuning

        return getattr(tuning, name)
    raise AttributeError(f"module 'robocache' has no attribute {name!r}")

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
    "get_num_threads",
    "resample_trajectories",
    "set_num_threads",
    "synchronize",
    "tune",
    "voxelize_pointcloud",
]
