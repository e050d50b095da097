"""compile() and the Kernel object users call."""

from __future__ import annotations

import json
from typing import Any, Mapping, Union

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


class Kernel:
    """A spec compiled for one target. Call it with arrays to run it.

    Attributes:
        key: the cache key (hex SHA-256 of spec, config, target, toolchain and generator).
        target: "cpu" or the CUDA arch (e.g. "sm_90").
        spec: the canonical spec as a dict.
        source: the generated CUDA C++ or LLVM IR.
    """

    def __init__(self, native):
        self._k = native

    @property
    def key(self) -> str:
        return self._k.key

    @property
    def target(self) -> str:
        return self._k.target

    @property
    def spec(self) -> dict:
        return json.loads(self._k.spec_json)

    @property
    def source(self) -> str:
        return self._k.source

    @property
    def binary(self) -> bytes:
        """The compiled cubin or host object file."""
        return self._k.binary

    def __repr__(self) -> str:
        return f"<robocache.Kernel {self._k.spec_json} target={self.target} key={self.key[:12]}>"

    def __call__(self, data, src_times, tgt_times, *, validate: bool = True):
        """Resamples `data [B,S,D]` from `src_times` (`[B,S]` or `[S]`) to `tgt_times` (`[B,T]` or `[T]`).

        numpy arrays run on the CPU and return numpy; torch CUDA tensors run on their GPU, on the
        current torch stream, and return a torch tensor. `validate` checks that source times held
        in host memory are non-decreasing and free of NaN.
        """
        batch = Batch([data, src_times, tgt_times], ["data", "src_times", "tgt_times"])
        shape = self._k.output_shape(batch.descs)
        out, out_desc = batch.empty(shape, self.spec["dtype"])
        self._k.run(batch.descs, out_desc, batch.stream(), validate)
        return out


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
