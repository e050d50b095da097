"""Imports the compiled extension with an error that says how to build it, and tells it where
NVIDIA's NVRTC wheel (the ``robocache[cuda]`` extra) put its libraries."""

import os
import sys

try:
    from . import _robocache  # noqa: F401
except ImportError as e:  # pragma: no cover - only when the extension was never built
    raise ImportError(
        "robocache's native extension (_robocache) is not built or cannot be loaded: "
        f"{e}. Install the wheel with pip, or build it with `bash scripts/setup.sh` (see README.md)."
    ) from e

# Where the NVRTC wheels put libnvrtc.so.N and libnvrtc-builtins: nvidia-cuda-nvrtc (CUDA 13) in
# nvidia/cu13/lib, nvidia-cuda-nvrtc-cu12 in nvidia/cuda_nvrtc/lib. A few stat calls on sys.path,
# no import of the wheel's (namespace) package; NVRTC itself loads only on first use.
_NVRTC_WHEEL_SUBDIRS = (os.path.join("nvidia", "cu13", "lib"), os.path.join("nvidia", "cuda_nvrtc", "lib"))


def nvrtc_wheel_dirs() -> list:
    """Directories on sys.path holding an NVIDIA NVRTC wheel's libraries, in sys.path order."""
    found = []
    for entry in sys.path:
        for sub in _NVRTC_WHEEL_SUBDIRS:
            d = os.path.abspath(os.path.join(entry or os.curdir, sub))
            if d not in found and os.path.isdir(d):
                found.append(d)
    return found


_robocache.set_nvrtc_wheel_dirs(nvrtc_wheel_dirs())
