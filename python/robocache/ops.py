"""The high-level API: build the spec from the arrays, compile through the cache, run where the
arrays live (numpy → CPU, torch CPU → CPU, torch/CuPy/DLPack CUDA → CUDA), return the caller's
array type. Array rules are _arrays.py's; `stream=` is Kernel.__call__'s."""

from __future__ import annotations

import contextlib
import json
from typing import Optional, Sequence, Union

import numpy as np

from . import _arrays
from ._kernel import compile
from ._native import _robocache as _native

# The native short paths (python/bind_launch.cpp): a kernel remembered for arrays that look like
# these (dtypes, ranks, channel counts, modes, device), run in one native call; None sends the call
# down the general path below, which compiles, raises the detailed errors and remembers the kernel.
_resample_fast = _native.resample_fast
_fuse_fast = _native.fuse_fast

_NUMPY_OF = {"f32": "float32", "f64": "float64", "u8": "uint8", "i32": "int32"}


def _dtype_name(arr, name: str) -> str:
    if arr is None:
        raise TypeError(f"argument '{name}': expected an array, got None")
    return _arrays.meta(arr, name)[0]


def _shape(arr, name: str) -> tuple:
    return _arrays.meta(arr, name)[1]


def _dtype_spelling(dtype) -> Optional[str]:
    """Accepts "f32", numpy dtypes and types (np.float32, "float32") and torch dtypes."""
    if dtype is None or (isinstance(dtype, str) and dtype in ("f16", "bf16", "f32", "f64", "i32", "i64", "u8")):
        return dtype
    if _arrays._torch() is not None and isinstance(dtype, _arrays._torch().dtype):
        return _arrays._torch_dtype_name(_arrays._torch().empty(0, dtype=dtype))
    try:
        return _arrays._numpy_dtype_name(dtype, "out_dtype")
    except TypeError:
        raise ValueError(f"argument 'out_dtype': unsupported dtype {dtype!r}") from None


def _where(arr, name: str) -> str:
    return _arrays.meta(arr, name)[2]


def _target(backend: str, arr, name: str) -> str:
    where = _where(arr, name)
    if backend == "auto":
        return where
    if backend not in ("cpu", "cuda"):
        raise ValueError(f"argument 'backend': expected 'auto', 'cpu' or 'cuda', got {backend!r}")
    if backend != where:
        raise ValueError(f"argument '{name}': is on {where} but backend={backend!r}; move the arrays to "
                         f"{backend} or use backend='auto' (RoboCache never copies between devices)")
    return backend


def _float_dtype(arr, name: str, allowed) -> str:
    got = _dtype_name(arr, name)
    if got not in allowed:
        raise ValueError(f"argument '{name}': expected dtype {' or '.join(allowed)}, got {got}")
    return got


_VALUE_DTYPES = ("f32", "f64", "f16", "bf16")
_TIME_DTYPES = ("f32", "f64")


def _same_dtype(arr, name: str, want: str, want_from: str) -> None:
    got = _dtype_name(arr, name)
    if got != want:
        raise ValueError(f"argument '{name}': expected dtype {want} (same as {want_from}), got {got}")


def _groups(groups) -> Optional[list]:
    if groups is None:
        return None
    out = []
    for i, g in enumerate(groups):
        if isinstance(g, dict):
            out.append(dict(g))
        elif isinstance(g, (tuple, list)) and len(g) == 3:
            out.append({"start": g[0], "size": g[1], "interp": g[2]})
        else:
            raise TypeError(f"argument 'groups[{i}]': expected {{'start', 'size', 'interp'}} or (start, size, interp)")
    return out


_KERNELS: dict = {}
_RECORDERS: list = []  # lists of record_kernels() blocks now open


def _kernel(spec: dict, target: str, key=None):
    """compile() through a per-process memo, so a hot loop of calls pays for one dictionary lookup
    instead of spec parsing and hashing. `key` (a tuple of the spec's parts) spares the JSON."""
    key = (key if key is not None else json.dumps(spec, sort_keys=True), target)
    k = _KERNELS.get(key)
    if k is None:
        k = _KERNELS.setdefault(key, compile(spec, target))
    if _RECORDERS:
        for used in _RECORDERS:
            used.append(k)
    return k


@contextlib.contextmanager
def record_kernels():
    """Within the block, every kernel the op functions use (resample_trajectories, fuse_multimodal,
    voxelize_pointcloud, and robocache.io's align above them), compiled there or found in memory,
    is appended to the list it yields: what a job needs shipped to workers that must not compile
    (robocache.ray.FleetKernels). Blocks may nest; threads of the process are recorded too."""
    used: list = []
    _RECORDERS.append(used)
    try:
        yield used
    finally:
        _RECORDERS.remove(used)


def resample_trajectories(data, src_times, tgt_times, interp: str = "linear", groups=None, lengths=None,
                          backend: str = "auto", validate: bool = True, stream=None):
    """Resamples `data [B,S,D]` from `src_times` (`[B,S]` or `[S]`) onto `tgt_times` (`[B,T]` or `[T]`).

    interp: "linear", "nearest", "previous", "cubic" or "slerp" (4 channels) for every channel, or
    `groups` = [{"start", "size", "interp"}, ...] tiling the D channels, e.g. position linear,
    quaternion slerp, gripper previous. lengths: valid samples per row ([B], 1 <= L_b <= S) for
    padded batches. Returns `[B,T,D]` with data's dtype, as the caller's array type.
    stream: the CUDA stream to launch on (default: the caller's current stream).
    """
    if groups is None and stream is None and backend == "auto":
        out = _resample_fast(data, src_times, tgt_times, lengths, interp, validate)
        if out is not None:
            return out
    dtype = _float_dtype(data, "data", _VALUE_DTYPES)
    time_dtype = _float_dtype(src_times, "src_times", _TIME_DTYPES)
    _same_dtype(tgt_times, "tgt_times", time_dtype, "src_times")
    shape = _shape(data, "data")
    if len(shape) != 3:
        raise ValueError(f"argument 'data': expected a 3-D array [B, S, D], got shape {list(shape)}")
    target = _target(backend, data, "data")
    simple = groups is None and isinstance(interp, str)
    kernel = _KERNELS.get((("resample", dtype, time_dtype, shape[2], interp), target)) if simple else None
    if kernel is None:
        spec = {"op": "resample", "dtype": dtype, "time_dtype": time_dtype, "dim": int(shape[2]),
                "interp": interp}
        g = _groups(groups)
        if g is not None:
            spec["groups"] = g
        kernel = _kernel(spec, target, ("resample", dtype, time_dtype, spec["dim"], interp) if simple else None)
    if simple:
        _native.remember(kernel._k, data)
    return kernel(data, src_times, tgt_times, lengths, validate=validate, stream=stream)


def fuse_multimodal(streams, tgt_times, interp: Union[str, Sequence[str]] = "linear", backend: str = "auto",
                    validate: bool = True, stream=None):
    """Resamples every stream onto `tgt_times` and concatenates them over channels, in one kernel.

    streams: [(data_i [B,S_i,D_i], times_i [B,S_i] or [S_i]), ...], or (data_i, times_i, lengths_i).
    interp: one mode for all streams or one per stream. Returns `[B, T, sum D_i]`.
    stream: the CUDA stream to launch on (default: the caller's current stream).
    """
    if stream is None and backend == "auto":
        out = _fuse_fast(streams, tgt_times, interp, validate)
        if out is not None:
            return out
    if not isinstance(streams, (list, tuple)):
        raise TypeError("argument 'streams': expected a list of (data, times) or (data, times, lengths)")
    if not streams:
        raise ValueError("argument 'streams': needs at least one (data, times) stream")
    modes = [interp] * len(streams) if isinstance(interp, str) else list(interp)
    if len(modes) != len(streams):
        raise ValueError(f"argument 'interp': expected one mode or {len(streams)} (one per stream), got {len(modes)}")
    first = streams[0][0] if isinstance(streams[0], (list, tuple)) and streams[0] else None
    for i, s in enumerate(streams):
        if not isinstance(s, (list, tuple)) or len(s) not in (2, 3):
            raise TypeError(f"argument 'streams[{i}]': expected (data, times) or (data, times, lengths)")
    dtype = _float_dtype(first, "streams[0].data", _VALUE_DTYPES)
    time_dtype = _float_dtype(streams[0][1], "streams[0].times", _TIME_DTYPES)
    _same_dtype(tgt_times, "tgt_times", time_dtype, "streams[0].times")
    modalities = []
    for i, s in enumerate(streams):
        _same_dtype(s[0], f"streams[{i}].data", dtype, "streams[0].data")
        _same_dtype(s[1], f"streams[{i}].times", time_dtype, "streams[0].times")
        shape = _shape(s[0], f"streams[{i}].data")
        if len(shape) != 3:
            raise ValueError(f"argument 'streams[{i}].data': expected a 3-D array [B, S, D], got shape {list(shape)}")
        modalities.append({"dim": int(shape[2]), "interp": modes[i]})
    spec = {"op": "fuse", "dtype": dtype, "time_dtype": time_dtype, "modalities": modalities}
    kernel = _kernel(spec, _target(backend, first, "streams[0].data"))
    _native.remember(kernel._k, first)
    return kernel(streams, tgt_times, validate=validate, stream=stream)


def voxelize_pointcloud(points, grid_min, voxel_size, grid_shape, mode: str = "occupancy", features=None,
                        lengths=None, backend: str = "auto", out_dtype: Optional[str] = None, validate: bool = True,
                        stream=None):
    """Voxelises `points [N,3]` (or a batch `[B,N,3]` with optional `lengths [B]`) into a grid.

    grid_min: (x, y, z) of the grid's corner; voxel_size: a number or (dx, dy, dz); grid_shape:
    (X, Y, Z). mode: "occupancy" (1 where a point fell), "count" (int32), "mean" or "max" of
    `features [.., N, F]`. Points outside the grid or with NaN coordinates are dropped.
    Returns `[X,Y,Z]` or `[B,X,Y,Z]` (+F for mean/max), x-major, as the caller's array type.
    validate: kept for symmetry with the other calls (lengths are always range-checked: on the CPU
    before the call, on a GPU by the kernel); stream: the CUDA stream to launch on (default: the
    caller's current stream).
    """
    coord = _float_dtype(points, "points", _TIME_DTYPES)
    out_dtype = _dtype_spelling(out_dtype)
    needs_features = mode in ("mean", "max")
    if needs_features and features is None:
        raise ValueError(f"argument 'features': mode {mode!r} needs features [.., N, F]")
    if not needs_features and features is not None:
        raise ValueError(f"argument 'features': mode {mode!r} takes no features (use 'mean' or 'max')")
    spec = {"op": "voxelize", "mode": mode, "coord_dtype": coord}
    if needs_features:
        fshape = _shape(features, "features")
        if len(fshape) < 2:
            raise ValueError(f"argument 'features': expected [.., N, F], got shape {list(fshape)}")
        spec["features"] = int(fshape[-1])
        spec["out_dtype"] = out_dtype or _dtype_name(features, "features")
    elif out_dtype is not None:
        spec["out_dtype"] = out_dtype
    kernel = _kernel(spec, _target(backend, points, "points"))
    return kernel(points, grid_min, voxel_size, grid_shape, features=features, lengths=lengths, validate=validate,
                  stream=stream)
