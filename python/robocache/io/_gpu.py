"""The GPU path of align: host arrays staged through pinned memory and copied without blocking on
the current torch stream, so the copies of one group of episodes overlap with the host packing the
next; the kernels run on that stream after their copies."""

from __future__ import annotations

import numpy as np

from ._deps import require


def _torch():
    torch = require("torch", "align(device='cuda')")
    if not torch.cuda.is_available():
        raise ValueError("argument 'device': torch sees no CUDA device (use device='cpu')")
    return torch


def to_device(arr: np.ndarray, device: str):
    """A numpy array on the device, through a pinned host buffer (an asynchronous copy)."""
    torch = _torch()
    pinned = torch.empty(arr.shape, dtype=torch.from_numpy(arr[:0]).dtype, pin_memory=True)
    pinned.numpy()[...] = arr
    return pinned.to(device, non_blocking=True)


def empty_on(device: str, shape, dtype):
    """A zeroed tensor of a numpy dtype on the device."""
    torch = _torch()
    return torch.zeros(shape, dtype=torch.from_numpy(np.zeros(0, dtype)).dtype, device=device)


def fuse_on_gpu(packed, tgt: np.ndarray, modes, device: str):
    """fuse_multimodal of host-packed streams, run on the device."""
    import robocache

    streams = [(to_device(d, device), to_device(t, device), to_device(n, device)) for d, t, n in packed]
    return robocache.fuse_multimodal(streams, to_device(tgt, device), interp=modes, backend="cuda")
