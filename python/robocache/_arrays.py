"""The array boundary: numpy arrays and torch tensors in, the caller's array type out.

Arrays are described to the native layer as
``(pointer, dtype, shape, strides_in_elements, "cpu"|"cuda", device_index)``; nothing is copied
except to make a strided input contiguous (never to or from the GPU).
"""

from __future__ import annotations

import sys

import numpy as np

try:  # bf16 numpy arrays use ml_dtypes.bfloat16
    import ml_dtypes

    _BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    _BF16 = None

_NUMPY_DTYPES = {
    np.dtype(np.float16): "f16",
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "u8",
}
if _BF16 is not None:
    _NUMPY_DTYPES[_BF16] = "bf16"


def _torch():
    """The torch module if the caller imported it (RoboCache never imports torch itself)."""
    return sys.modules.get("torch")


def _is_torch_tensor(x) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _torch_dtype_name(t) -> str:
    torch = _torch()
    names = {
        torch.float16: "f16",
        torch.bfloat16: "bf16",
        torch.float32: "f32",
        torch.float64: "f64",
        torch.int32: "i32",
        torch.int64: "i64",
        torch.uint8: "u8",
    }
    if t.dtype not in names:
        raise TypeError(f"unsupported torch dtype {t.dtype}")
    return names[t.dtype]


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype for a spec dtype name."""
    for dt, n in _NUMPY_DTYPES.items():
        if n == name:
            return dt
    raise TypeError(f"no numpy dtype for {name!r} (bf16 needs the ml_dtypes package)")


def torch_dtype(name: str):
    """The torch dtype for a spec dtype name."""
    torch = _torch()
    return {
        "f16": torch.float16,
        "bf16": torch.bfloat16,
        "f32": torch.float32,
        "f64": torch.float64,
        "i32": torch.int32,
        "i64": torch.int64,
        "u8": torch.uint8,
    }[name]


class Batch:
    """The arrays of one call, made contiguous, with a description of each for the native layer.

    `None` entries stay `None` (absent optional arrays). Arrays named in `index_arrays` are integer
    lengths and are converted to int64 on the device of the first array.
    """

    def __init__(self, arrays, names, index_arrays=()):
        self.kind = None  # "numpy" or "torch"
        self.device = None  # torch device of the first torch tensor
        self.keep = []  # keeps contiguous copies alive during the launch
        self.descs = []
        for arr, name in zip(arrays, names):
            if arr is None:
                self.descs.append(None)
            elif name in index_arrays:
                self.descs.append(self._describe(self._as_index(arr, name), name))
            else:
                self.descs.append(self._describe(arr, name))

    def _as_index(self, arr, name):
        """Integer lengths as int64, in place: never moved to another device or framework."""
        if _is_torch_tensor(arr):
            torch = _torch()
            if arr.dtype.is_floating_point or arr.dtype == torch.bool:
                raise TypeError(f"argument '{name}': expected an integer array, got {arr.dtype}")
            return arr.to(dtype=torch.int64)
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"argument '{name}': expected an integer numpy array or torch tensor, "
                            f"got {type(arr).__name__}")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"argument '{name}': expected an integer array, got dtype {arr.dtype}")
        return arr.astype(np.int64)

    def _describe(self, arr, name):
        if _is_torch_tensor(arr):
            kind = "torch"
        elif isinstance(arr, np.ndarray):
            kind = "numpy"
        else:
            raise TypeError(
                f"argument '{name}': expected a numpy array or a torch tensor, got {type(arr).__name__}"
            )
        if self.kind is None:
            self.kind = kind
        elif self.kind != kind:
            raise TypeError(
                f"argument '{name}': is a {kind} array but earlier arguments are {self.kind} arrays; "
                "pass arrays of one framework"
            )
        if kind == "numpy":
            if arr.dtype not in _NUMPY_DTYPES:
                raise TypeError(f"argument '{name}': unsupported dtype {arr.dtype}")
            arr = np.ascontiguousarray(arr)
            self.keep.append(arr)
            return (arr.ctypes.data, _NUMPY_DTYPES[arr.dtype], arr.shape, None, "cpu", 0)
        t = arr.contiguous()
        self.keep.append(t)
        dev = t.device
        if dev.type not in ("cpu", "cuda"):
            raise TypeError(f"argument '{name}': tensors on {dev} are not supported (cpu or cuda only)")
        if self.device is None:
            self.device = dev
        return (t.data_ptr(), _torch_dtype_name(t), tuple(t.shape), None, dev.type, dev.index or 0)

    @property
    def on_cuda(self) -> bool:
        return self.kind == "torch" and self.device is not None and self.device.type == "cuda"

    def empty(self, shape, dtype_name: str, zero: bool = False):
        """A new array of the callers' framework on the arrays' device, and its description."""
        if self.kind == "numpy":
            out = (np.zeros if zero else np.empty)(shape, dtype=numpy_dtype(dtype_name))
            return out, (out.ctypes.data, dtype_name, out.shape, None, "cpu", 0)
        torch = _torch()
        make = torch.zeros if zero else torch.empty
        out = make(tuple(shape), dtype=torch_dtype(dtype_name), device=self.device)
        return out, (out.data_ptr(), dtype_name, tuple(out.shape), None, self.device.type, self.device.index or 0)

    def stream(self) -> int:
        """The caller's current CUDA stream (as an integer handle) for torch CUDA inputs, else 0."""
        if not self.on_cuda:
            return 0
        return _torch().cuda.current_stream(self.device).cuda_stream

    def target(self) -> str:
        """Where these arrays run: "cpu" or "cuda"."""
        return "cuda" if self.on_cuda else "cpu"
