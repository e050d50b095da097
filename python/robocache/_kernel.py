"""compile() and the Kernel object users call."""

from __future__ import annotations

import json

import numpy as np
from typing import Any, Mapping, Sequence, Union

from ._arrays import Batch
from ._native import _robocache as _native

SpecLike = Union[Mapping[str, Any], str]


def _spec_json(spec: SpecLike) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        try:
            return json.dumps(dict(spec))
        except TypeError as e:
            raise TypeError(f"spec: values must be JSON types (str, int, list, dict): {e}") from None
    raise TypeError(f"spec: expected a dict or a JSON string, got {type(spec).__name__}")


def _check_device_lengths(batch: Batch, index: int, name: str, lo: int, hi: int) -> None:
    """Lengths on a GPU are checked here (one small sync); host lengths are checked natively."""
    if not batch.on_cuda or batch.descs[index] is None:
        return
    lengths = batch.keep[sum(d is not None for d in batch.descs[:index])]
    if lengths.numel() and (int(lengths.min()) < lo or int(lengths.max()) > hi):
        raise ValueError(f"argument '{name}': every length must be in [{lo}, {hi}], "
                         f"got values in [{int(lengths.min())}, {int(lengths.max())}]")


class Kernel:
    """A spec compiled for one target. Call it with arrays to run it.

    Attributes:
        key: the cache key (hex SHA-256 of spec, config, target, toolchain and generator).
        target: "cpu" or the CUDA arch (e.g. "sm_90").
        spec: the canonical spec as a dict.
        source: the generated CUDA C++ or LLVM IR.

    Calling it, by op (numpy in → numpy out on the CPU; torch CUDA tensors in → torch out, on the
    current torch stream):
        resample:  kernel(data, src_times, tgt_times, lengths=None)
        fuse:      kernel(streams, tgt_times)  with streams = [(data, times) or (data, times, lengths)]
        voxelize:  kernel(points, grid_min, voxel_size, grid_shape, features=None, lengths=None)
    `validate=True` also checks that source times held in host memory are sorted and free of NaN.
    """

    def __init__(self, native):
        self._k = native
        self._spec = json.loads(native.spec_json)

    @property
    def key(self) -> str:
        return self._k.key

    @property
    def target(self) -> str:
        return self._k.target

    @property
    def spec(self) -> dict:
        return dict(self._spec)

    @property
    def source(self) -> str:
        return self._k.source

    @property
    def binary(self) -> bytes:
        """The compiled cubin or host object file."""
        return self._k.binary

    def __repr__(self) -> str:
        return f"<robocache.Kernel {self._k.spec_json} target={self.target} key={self.key[:12]}>"

    def __call__(self, *args, validate: bool = True, **kwargs):
        op = self._spec["op"]
        if op == "resample":
            return self._resample(*args, validate=validate, **kwargs)
        if op == "fuse":
            return self._fuse(*args, validate=validate, **kwargs)
        return self._voxelize(*args, **kwargs)

    def _fast(self, arrays, scalars, validate):
        """numpy arrays on a CPU kernel go straight to the native short path; None means: take the
        general path (torch tensors, strided or unsupported arrays)."""
        if self._k.target != "cpu":
            return None
        return self._k.call_numpy(arrays, scalars, validate)

    def _launch(self, batch: Batch, scalars: Sequence[float], validate: bool):
        shape, dtype, scratch_shape = self._k.plan(batch.descs, list(scalars))
        descs = batch.descs
        if scratch_shape:
            _, scratch = batch.empty(scratch_shape, "i32")
            descs = descs[:-1] + [scratch]
        out, out_desc = batch.empty(shape, dtype)
        self._k.run(descs, list(scalars), out_desc, batch.stream(), validate)
        return out

    def _resample(self, data, src_times, tgt_times, lengths=None, *, validate=True):
        if lengths is None or (isinstance(lengths, np.ndarray) and lengths.dtype == np.int64):
            out = self._fast([data, src_times, tgt_times, lengths], (), validate)
            if out is not None:
                return out
        batch = Batch([data, src_times, tgt_times, lengths], ["data", "src_times", "tgt_times", "lengths"],
                      index_arrays=("lengths",))
        if lengths is not None:
            _check_device_lengths(batch, 3, "lengths", 1, int(batch.keep[0].shape[1]))
        return self._launch(batch, (), validate)

    def _fuse(self, streams, tgt_times, *, validate=True):
        if not isinstance(streams, (list, tuple)) or not streams:
            raise TypeError("argument 'streams': expected a non-empty list of (data, times) or (data, times, lengths)")
        arrays, names, index = [tgt_times], ["tgt_times"], []
        for i, s in enumerate(streams):
            if not isinstance(s, (list, tuple)) or len(s) not in (2, 3):
                raise TypeError(f"argument 'streams[{i}]': expected (data, times) or (data, times, lengths)")
            data, times, lengths = (list(s) + [None])[:3]
            arrays += [data, times, lengths]
            names += [f"streams[{i}].data", f"streams[{i}].times", f"streams[{i}].lengths"]
            index.append(f"streams[{i}].lengths")
        batch = Batch(arrays, names, index_arrays=tuple(index))
        for i, s in enumerate(streams):
            if len(s) == 3 and s[2] is not None:
                _check_device_lengths(batch, 3 + 3 * i, f"streams[{i}].lengths", 1, int(s[0].shape[1]))
        return self._launch(batch, (), validate)

    def _voxelize(self, points, grid_min, voxel_size, grid_shape, features=None, lengths=None):
        batch = Batch([points, features, lengths, None], ["points", "features", "lengths", "counts"],
                      index_arrays=("lengths",))
        if lengths is not None:
            n = int(batch.keep[0].shape[-2]) if batch.keep[0].ndim == 3 else 0
            _check_device_lengths(batch, 2, "lengths", 0, n)
        scalars = _grid_scalars(grid_min, voxel_size, grid_shape)
        return self._launch(batch, scalars, True)


def _three(value, name: str, allow_scalar: bool):
    try:
        if allow_scalar and not hasattr(value, "__len__"):
            return [float(value)] * 3
        vals = [float(v) for v in value]
    except (TypeError, ValueError):
        raise TypeError(f"argument '{name}': expected {'a number or ' if allow_scalar else ''}3 numbers, "
                        f"got {value!r}") from None
    if len(vals) != 3:
        raise ValueError(f"argument '{name}': expected 3 values (x, y, z), got {len(vals)}")
    return vals


def _grid_scalars(grid_min, voxel_size, grid_shape):
    shape = _three(grid_shape, "grid_shape", False)
    return _three(grid_min, "grid_min", False) + _three(voxel_size, "voxel_size", True) + shape


def compile(spec: SpecLike, target: str = "auto") -> Kernel:  # noqa: A001 - the library's verb
    """Compiles `spec` (a dict or JSON text) for `target`, reusing the in-process and disk caches.

    target: "auto" (CUDA when a GPU is usable, else the CPU), "cpu", "cuda" (the GPU's arch), or a
    CUDA arch such as "sm_90" (compiles without a GPU; running needs a matching one).
    Raises ValueError for a bad spec (naming the field), robocache.BackendUnavailable when the
    target cannot be used here (saying why), robocache.CompileError when compilation fails.
    """
    if not isinstance(target, str):
        raise TypeError(f"target: expected a string, got {type(target).__name__}")
    return Kernel(_native.compile(_spec_json(spec), target))
