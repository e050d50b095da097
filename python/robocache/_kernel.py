"""compile() and the Kernel object users call."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence, Union

from . import _streams
from ._arrays import Batch
from ._native import _robocache as _native

_launch_fast = _native.launch_fast

SpecLike = Union[Mapping[str, Any], str]


def _utf8_text(text: str, name: str) -> str:
    """`text` if it can cross to the native layer (UTF-8); a lone surrogate (from undecodable bytes
    of a file name or command line) is a ValueError naming the argument, not a pybind11 signature dump."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{name}: not valid Unicode text (character {e.start} is {text[e.start]!r})") from None
    return text


def _spec_json(spec: SpecLike) -> str:
    if isinstance(spec, str):
        return _utf8_text(spec, "spec")
    if isinstance(spec, Mapping):
        try:
            return json.dumps(dict(spec))
        except TypeError as e:
            raise TypeError(f"spec: values must be JSON types (str, int, list, dict): {e}") from None
    raise TypeError(f"spec: expected a dict or a JSON string, got {type(spec).__name__}")


def _check_validate(validate) -> bool:
    """`validate=` as a bool: True, False or a numpy bool; anything else (a string such as "no", None,
    a number) is refused, since truthiness would silently turn "no" into True."""
    import numpy as np  # only on this rare path: the module itself imports nothing heavy

    if isinstance(validate, np.bool_):
        return bool(validate)
    shown = repr(validate)
    shown = shown if len(shown) <= 40 else shown[:40] + "..."
    raise TypeError(f"argument 'validate': expected True or False, got {type(validate).__name__} {shown}")


class Kernel:
    """A spec compiled for one target. Call it with arrays to run it.

    Attributes:
        key: the cache key (hex SHA-256 of spec, config, target, toolchain and generator).
        target: "cpu" or the CUDA arch (e.g. "sm_90").
        spec: the canonical spec as a dict.
        source: the generated CUDA C++ or LLVM IR.

    Calling it, by op (numpy in → numpy out on the CPU; torch CUDA tensors in → torch out, on the
    current torch stream), each also taking `validate=` and `stream=`:
        resample:  kernel(data, src_times, tgt_times, lengths=None)
        fuse:      kernel(streams, tgt_times)  with streams = [(data, times) or (data, times, lengths)]
        voxelize:  kernel(points, grid_min, voxel_size, grid_shape, features=None, lengths=None)
    `validate=True` also checks that source times are sorted and free of NaN and that lengths are in
    range: on the CPU before the call, on a GPU by the kernel itself, without a host
    synchronisation (a bad row is written as NaN and the ValueError comes from the next RoboCache
    call on that device, or from robocache.synchronize(); docs/semantics.md). Every call can be
    captured in a CUDA graph.
    Arrays: numpy, torch, CuPy, or anything with `__dlpack__` or `__cuda_array_interface__`; the
    result is the caller's framework (see docs/torch.md). On CUDA the launch goes on the caller's
    current stream (torch's or CuPy's) unless `stream=` names one (an int handle, a
    torch.cuda.Stream, a CuPy stream, or anything with `__cuda_stream__`).
    `out=` (plain numpy arrays or torch tensors, of the inputs' framework): write into this contiguous
    array of the output's shape and dtype instead of allocating one. Plain numpy arrays and
    contiguous torch tensors on the current stream take a short native path (docs/performance.md,
    "Host path and JIT cost"); everything else takes the general path. `bind()` fixes the arrays of
    a call that runs again and again.
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

    @property
    def config(self) -> dict:
        """How this kernel runs (block size, vector width, CPU grain, ...): the config given to
        compile(), else the tuning database's best, else the heuristic's (docs/tuning.md)."""
        return json.loads(self._k.config_json)

    def __repr__(self) -> str:
        return f"<robocache.Kernel {self._k.spec_json} target={self.target} key={self.key[:12]}>"

    def __call__(self, *args, validate: bool = True, stream=None, out=None, **kwargs):
        if validate is not True and validate is not False:
            validate = _check_validate(validate)
        if stream is None and not kwargs:
            result = _launch_fast(self._k, args, validate, out)
            if result is not None:
                return result
        if out is not None:
            raise TypeError("argument 'out': only plain numpy arrays and contiguous torch tensors, with inputs "
                            "of the same framework, on the current stream and with no other keyword arguments, "
                            "can be written in place")
        op = self._spec["op"]
        call = {"resample": self._resample, "fuse": self._fuse, "voxelize": self._voxelize}.get(op)
        if call is None:  # an op the native module knows and this package does not yet
            raise NotImplementedError(f"robocache.Kernel: no Python call for op '{op}'")
        return call(*args, validate=validate, stream=stream, **kwargs)

    def bind(self, *args, out=None, validate: bool = True, stream=None) -> "_native.BoundCall":
        """The call `self(*args)` with its arrays and output fixed, for loops that run the same shapes
        again and again: shapes, dtypes and devices are checked once, here, and calling the result
        (`bound()`, or `bound(stream)` with a CUDA stream handle) only launches, returning the output.

        Arrays: plain numpy arrays (CPU) or contiguous torch tensors, as Kernel.__call__'s short path
        takes them. out: the array to write (default: one allocated now, `bound.out`). stream: the
        CUDA stream to launch on (default: torch's current stream now). The bound call keeps the
        arrays alive; refill them in place (never resize them or swap their storage) between calls.
        validate: on the CPU, every call re-checks that the source times are sorted and free of NaN
        (their values may have changed); `validate=False` skips that too.
        """
        handle = None if stream is None else _streams.stream_handle(stream)
        return _native.bind(self._k, args, bool(validate), out, handle)

    def _launch(self, batch: Batch, scalars: Sequence[float], validate: bool):
        shape, dtype, scratch_shape = self._k.plan(batch.descs, list(scalars))
        descs = batch.descs
        if scratch_shape:
            _, scratch = batch.empty(scratch_shape, "i32")
            descs = descs[:-1] + [scratch]
        out, out_desc = batch.empty(shape, dtype)
        self._k.run(descs, list(scalars), out_desc, batch.stream(), validate)
        return batch.result(out)

    def _resample(self, data, src_times, tgt_times, lengths=None, *, validate=True, stream=None):
        batch = Batch([data, src_times, tgt_times, lengths], ["data", "src_times", "tgt_times", "lengths"],
                      index_arrays=("lengths",), stream=stream)
        return self._launch(batch, (), validate)

    def _fuse(self, streams, tgt_times, *, validate=True, stream=None):
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
        batch = Batch(arrays, names, index_arrays=tuple(index), stream=stream)
        return self._launch(batch, (), validate)

    def _voxelize(self, points, grid_min, voxel_size, grid_shape, features=None, lengths=None, *,
                  validate=True, stream=None):
        batch = Batch([points, features, lengths, None], ["points", "features", "lengths", "counts"],
                      index_arrays=("lengths",), stream=stream)
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


def compile(spec: SpecLike, target: str = "auto",  # noqa: A001 - the library's verb
            config: Mapping[str, Any] | None = None) -> Kernel:
    """Compiles `spec` (a dict or JSON text) for `target`, reusing the in-process and disk caches.

    target: "auto" (CUDA when a GPU is usable, else the CPU), "cpu", "cuda" (the GPU's arch), or a
    CUDA arch such as "sm_90" (compiles without a GPU; running needs a matching one).
    config: how the kernel runs, e.g. {"block_threads": 128, "vector_width": 4}; absent fields take
    their defaults. None: the tuning database's best for this spec and device (robocache.tune),
    else the backend's heuristic. Kernel.config says which was used.
    Raises ValueError for a bad spec or config (naming the field), robocache.BackendUnavailable when
    the target cannot be used here (saying why), robocache.CompileError when compilation fails.
    """
    if not isinstance(target, str):
        raise TypeError(f"target: expected a string, got {type(target).__name__}")
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    config_json = None if config is None else json.dumps(dict(config))
    return Kernel(_native.compile(_spec_json(spec), _utf8_text(target, "target"), config_json))
