"""check_installation() and cache_stats()."""

from __future__ import annotations

from ._native import _robocache as _native


def _nvrtc_wheel_version():
    """'nvidia-cuda-nvrtc 13.0.88': the installed NVRTC wheel's full version (nvrtcVersion has no patch)."""
    from importlib import metadata

    for name in ("nvidia-cuda-nvrtc", "nvidia-cuda-nvrtc-cu12"):
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            pass
    return None


def check_installation() -> dict:
    """Says which backends work here and, for each that does not, why.

    Returns ``{"cpu": {"available": bool, ...}, "cuda": {"available": bool, ...}, "cache_dir": str}``;
    an unavailable backend has a ``"reason"``. ``cuda`` also names the NVRTC in use:
    ``nvrtc_version`` ("13.0"), ``nvrtc_library`` (the file loaded) and ``nvrtc_origin`` ("NVIDIA's
    NVRTC wheel", "the system" or "ROBOCACHE_NVRTC_LIBRARY"), all None when none was found, and
    ``nvrtc_wheel`` ("nvidia-cuda-nvrtc 13.0.88") when it came from that wheel.
    """
    cpu = dict(_native.probe_cpu())
    cuda_raw = _native.probe_cuda()
    cuda = {
        "available": bool(cuda_raw["built"] and cuda_raw["driver_available"] and cuda_raw["devices"]),
        "compile_only": bool(cuda_raw["built"] and cuda_raw["nvrtc_available"]),
        "nvrtc": cuda_raw["nvrtc_detail"],
        "nvrtc_version": cuda_raw["nvrtc_version"] or None,
        "nvrtc_library": cuda_raw["nvrtc_library"] or None,
        "nvrtc_origin": cuda_raw["nvrtc_origin"] or None,
        "nvrtc_wheel": _nvrtc_wheel_version() if cuda_raw["nvrtc_origin"] == "NVIDIA's NVRTC wheel" else None,
        "driver": cuda_raw["driver_detail"],
        "devices": list(cuda_raw["devices"]),
    }
    if not cuda["available"]:
        if not cuda_raw["built"]:
            cuda["reason"] = cuda_raw["nvrtc_detail"] or "built without the CUDA backend"
        elif not cuda_raw["driver_available"]:
            cuda["reason"] = f"no usable CUDA driver: {cuda_raw['driver_detail']}"
        else:
            cuda["reason"] = "the CUDA driver loaded but reports no devices"
        if cuda_raw["built"] and not cuda_raw["nvrtc_available"]:
            cuda["reason"] += f"; {cuda_raw['nvrtc_detail']}"  # the detail starts "NVRTC unavailable: "
    return {"cpu": cpu, "cuda": cuda, "cache_dir": _native.cache_stats()["cache_dir"]}


def cache_stats() -> dict:
    """Kernel-cache counters of this process: memory_hits, disk_hits, compiles, bad_entries,
    store_failures, and time spent per stage in milliseconds (generate, compile, disk read/write, load)."""
    return dict(_native.cache_stats())


def synchronize(device=None) -> None:
    """Waits for the GPU's queued work, then raises the first bad argument RoboCache's kernels
    found on it since the last check (a ValueError naming the argument, e.g. 'lengths' or
    'src_times'), as docs/semantics.md describes. Without it, that error comes from the next
    RoboCache call on the device. device: an index or a torch.device (default: torch's current
    device, else 0). Does nothing where CUDA is unavailable."""
    if device is None:
        import sys

        torch = sys.modules.get("torch")
        device = torch.cuda.current_device() if torch is not None and torch.cuda.is_available() else 0
    index = getattr(device, "index", device)
    if not isinstance(index, int):
        raise TypeError(f"argument 'device': expected a device index or a torch.device, got {device!r}")
    status = _native.probe_cuda()
    if not (status["built"] and status["driver_available"] and status["devices"]):
        return
    _native.cuda_synchronize(index)
