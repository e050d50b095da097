"""CUDA streams as integer handles: the `stream=` argument and each framework's current stream."""

from __future__ import annotations

import contextlib
import sys


def stream_handle(stream) -> int:
    """The CUstream handle of a `stream=` argument.

    Accepts an int (0 the legacy default stream, 1 legacy, 2 per-thread), anything with
    `__cuda_stream__` (the CUDA stream protocol: returns (version, handle)), `.cuda_stream`
    (torch.cuda.Stream) or `.ptr` (CuPy streams). Raises TypeError naming 'stream' otherwise.
    """
    if isinstance(stream, bool):
        raise TypeError("argument 'stream': expected a CUDA stream or an integer handle, got bool")
    if isinstance(stream, int):
        handle = stream
    elif hasattr(stream, "__cuda_stream__"):
        proto = stream.__cuda_stream__()
        if not (isinstance(proto, tuple) and len(proto) == 2):
            raise TypeError(f"argument 'stream': __cuda_stream__() must return (version, handle), got {proto!r}")
        handle = proto[1]
    elif hasattr(stream, "cuda_stream"):
        handle = stream.cuda_stream
    elif hasattr(stream, "ptr"):
        handle = stream.ptr
    else:
        raise TypeError("argument 'stream': expected an integer handle, a torch.cuda.Stream, a CuPy stream or an "
                        f"object with __cuda_stream__, .cuda_stream or .ptr; got {type(stream).__name__}")
    if isinstance(handle, bool) or not isinstance(handle, int):
        raise TypeError(f"argument 'stream': the stream handle must be an int, got {type(handle).__name__}")
    if handle < 0:
        raise ValueError(f"argument 'stream': a stream handle is a pointer (>= 0), got {handle}")
    return handle


def torch_current(device) -> int:
    """torch's current stream on `device` (the capture stream under CUDA graph capture)."""
    return sys.modules["torch"].cuda.current_stream(device).cuda_stream


def cupy_current(device_index: int) -> int:
    """CuPy's current stream on device `device_index`."""
    cupy = sys.modules["cupy"]
    with cupy.cuda.Device(device_index):
        return cupy.cuda.get_current_stream().ptr


class _Handle:
    """A raw handle spoken through the CUDA stream protocol (what CuPy's Stream.from_external reads)."""

    def __init__(self, handle: int):
        self.handle = handle

    def __cuda_stream__(self):
        return (0, self.handle)


def _cupy_external(handle: int):
    cupy = sys.modules["cupy"]
    from_external = getattr(cupy.cuda.Stream, "from_external", None)
    return from_external(_Handle(handle)) if from_external else cupy.cuda.ExternalStream(handle)


def framework_stream(kind: str, handle: int, device):
    """A context making `handle` the framework's current stream, so that contiguous copies and
    outputs it allocates are ordered with (and owned by) the launch stream."""
    if kind == "torch":
        torch = sys.modules["torch"]
        return torch.cuda.stream(torch.cuda.ExternalStream(handle, device=device))
    if kind == "cupy":
        return _cupy_external(handle)
    return contextlib.nullcontext()


def synchronize_foreign(handle: int, device_index: int, name: str) -> None:
    """Waits on the host for a producer's stream (the CUDA array interface's rule when the consumer
    launches on another stream), through whichever of torch or CuPy is loaded."""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.cuda.ExternalStream(handle, device=torch.device("cuda", device_index)).synchronize()
    elif "cupy" in sys.modules:
        cupy = sys.modules["cupy"]
        with cupy.cuda.Device(device_index):
            _cupy_external(handle).synchronize()
    else:
        raise ValueError(f"argument '{name}': its producer names CUDA stream {handle:#x}, which differs from the "
                         "launch stream; import torch or cupy so RoboCache can synchronise it, or pass "
                         f"stream={handle}")
