"""RoboCache's operations as torch custom ops: ``import robocache.torch`` registers them.

``torch.ops.robocache.resample``, ``.fuse`` and ``.voxelize`` carry fake-tensor implementations
(output shape and dtype from the inputs' shapes and the op's arguments only), so they trace into
``torch.compile`` graphs (``fullgraph=True``) and replay under CUDA graph capture. They launch on
torch's current stream. The wrappers below take the arguments of robocache's high-level calls.

The ops never synchronise with the GPU: on CUDA the kernels check lengths and source times
themselves and report a bad row through ``robocache.synchronize()`` or the next call
(docs/semantics.md). ``validate=None`` (the default) validates, as ``True`` does;
``validate=False`` skips the source-time check.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Union

import torch

from . import _arrays, ops
from ._kernel import _three

__all__ = ["fuse", "resample", "voxelize"]

_Tensor = torch.Tensor


def _validate(flag: Optional[bool], t: _Tensor) -> bool:
    # Kept for the op schema's signature: validation costs no synchronisation on any device now.
    return True if flag is None else bool(flag)


@torch.library.custom_op("robocache::resample", mutates_args=())
def _resample_op(data: _Tensor, src_times: _Tensor, tgt_times: _Tensor, lengths: Optional[_Tensor], interp: str,
                 groups: str, validate: bool) -> _Tensor:
    """groups: "" or "start:size:interp;..." (see _groups_text)."""
    return ops.resample_trajectories(data, src_times, tgt_times, interp=interp, groups=_parse_groups(groups),
                                     lengths=lengths, validate=validate)


def _groups_text(groups) -> str:
    """Channel groups as the op's str argument; plain string formatting, which torch.compile traces
    (json.dumps it does not)."""
    if groups is None:
        return ""
    return ";".join(f"{int(g['start'])}:{int(g['size'])}:{g['interp']}" for g in ops._groups(groups))


def _parse_groups(text: str):
    if not text:
        return None
    out = []
    for part in text.split(";"):
        start, size, interp = part.split(":")
        out.append({"start": int(start), "size": int(size), "interp": interp})
    return out


@_resample_op.register_fake
def _(data, src_times, tgt_times, lengths, interp, groups, validate):
    return data.new_empty((data.shape[0], tgt_times.shape[-1], data.shape[2]))


@torch.library.custom_op("robocache::fuse", mutates_args=())
def _fuse_op(data: List[_Tensor], times: List[_Tensor], lengths: List[Optional[_Tensor]], tgt_times: _Tensor,
             interp: str, validate: bool) -> _Tensor:
    """interp: one mode per modality, comma-separated (custom ops take no str[] arguments)."""
    streams = [(d, t) if n is None else (d, t, n) for d, t, n in zip(data, times, lengths)]
    return ops.fuse_multimodal(streams, tgt_times, interp=interp.split(","), validate=validate)


@_fuse_op.register_fake
def _(data, times, lengths, tgt_times, interp, validate):
    channels = sum(d.shape[2] for d in data)
    return data[0].new_empty((data[0].shape[0], tgt_times.shape[-1], channels))


@torch.library.custom_op("robocache::voxelize", mutates_args=())
def _voxelize_op(points: _Tensor, features: Optional[_Tensor], lengths: Optional[_Tensor], grid_min: List[float],
                 voxel_size: List[float], grid_shape: List[int], mode: str, out_dtype: str,
                 validate: bool) -> _Tensor:
    """out_dtype: "" for the mode's default."""
    return ops.voxelize_pointcloud(points, grid_min, voxel_size, grid_shape, mode=mode, features=features,
                                   lengths=lengths, out_dtype=out_dtype or None, validate=validate)


def _voxel_dtype(mode: str, out_dtype: str, features: Optional[_Tensor]):
    """The output dtype voxelize_pointcloud picks (docs/semantics.md): the spec's defaults."""
    if out_dtype:
        return _arrays.torch_dtype(out_dtype)
    if mode in ("mean", "max") and features is not None:
        return features.dtype
    return torch.int32 if mode == "count" else torch.float32


@_voxelize_op.register_fake
def _(points, features, lengths, grid_min, voxel_size, grid_shape, mode, out_dtype, validate):
    shape = list(grid_shape)
    if points.dim() == 3:
        shape = [points.shape[0]] + shape
    if mode in ("mean", "max") and features is not None:
        shape.append(features.shape[-1])
    return points.new_empty(shape, dtype=_voxel_dtype(mode, out_dtype, features))


def resample(data: _Tensor, src_times: _Tensor, tgt_times: _Tensor, interp: str = "linear", groups=None,
             lengths: Optional[_Tensor] = None, validate: Optional[bool] = None) -> _Tensor:
    """robocache.resample_trajectories as the custom op ``torch.ops.robocache.resample``."""
    return _resample_op(data, src_times, tgt_times, lengths, interp, _groups_text(groups), _validate(validate, data))


def fuse(streams: Sequence, tgt_times: _Tensor, interp: Union[str, Sequence[str]] = "linear",
         validate: Optional[bool] = None) -> _Tensor:
    """robocache.fuse_multimodal as the custom op ``torch.ops.robocache.fuse``;
    streams: [(data, times) or (data, times, lengths), ...]."""
    if not isinstance(streams, (list, tuple)) or not streams:
        raise TypeError("argument 'streams': expected a non-empty list of (data, times) or (data, times, lengths)")
    for i, s in enumerate(streams):
        if not isinstance(s, (list, tuple)) or len(s) not in (2, 3):
            raise TypeError(f"argument 'streams[{i}]': expected (data, times) or (data, times, lengths)")
    modes = [interp] * len(streams) if isinstance(interp, str) else list(interp)
    return _fuse_op([s[0] for s in streams], [s[1] for s in streams],
                    [s[2] if len(s) == 3 else None for s in streams], tgt_times, ",".join(modes),
                    _validate(validate, tgt_times))


def voxelize(points: _Tensor, grid_min, voxel_size, grid_shape, mode: str = "occupancy",
             features: Optional[_Tensor] = None, lengths: Optional[_Tensor] = None, out_dtype=None,
             validate: Optional[bool] = None) -> _Tensor:
    """robocache.voxelize_pointcloud as the custom op ``torch.ops.robocache.voxelize``."""
    out = ops._dtype_spelling(out_dtype) or ""
    return _voxelize_op(points, features, lengths, _three(grid_min, "grid_min", False),
                        _three(voxel_size, "voxel_size", True),
                        [int(v) for v in _three(grid_shape, "grid_shape", False)], mode, out,
                        _validate(validate, points))
