"""The array boundary: arrays of any framework in, the caller's framework out.

Accepted (zero-copy: only pointer, dtype, shape and strides are read):
- numpy arrays and torch tensors (CPU or CUDA);
- CuPy arrays, and anything else with ``__cuda_array_interface__`` (Numba, ...);
- anything with ``__dlpack__``/``__dlpack_device__`` (JAX, ...), consumed by the native module
  without importing the producer's framework.

Arrays are described to the native layer as
``(pointer, dtype, shape, strides_in_elements, "cpu"|"cuda", device_index)``. A strided numpy,
torch or CuPy input is made contiguous by its own framework on its own device; other strided
inputs are refused by the native layer naming the argument. Nothing crosses devices.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

from . import _streams
from ._native import _robocache as _native

_NUMPY_DTYPES = {
    np.dtype(np.float16): "f16",
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "u8",
}


def _bf16_dtype(load: bool):
    """numpy's bf16 dtype (ml_dtypes.bfloat16), registered in _NUMPY_DTYPES on first need.

    ml_dtypes costs about half a second to import and only bf16 numpy arrays need it. A bf16 array
    can only exist once its creator imported ml_dtypes, so recognising one never imports anything;
    `load=True` (allocating a bf16 numpy array) imports it. None when it is not available."""
    module = sys.modules.get("ml_dtypes")
    if module is None and load:
        try:
            import ml_dtypes as module
        except ImportError:  # pragma: no cover - ml_dtypes is a dependency
            return None
    if module is None:
        return None
    dt = np.dtype(module.bfloat16)
    _NUMPY_DTYPES.setdefault(dt, "bf16")
    return dt

# DLPack device types (dlpack.h): CPU, CUDA, CUDA pinned host, CUDA managed.
_DLPACK_CUDA = (2, 13)
_DLPACK_DEVICES = (1, 2, 3, 13)

# Producers whose arrays are rebuilt from an output buffer by another module's from_dlpack.
_FROM_DLPACK_MODULE = {"jax": "jax.numpy", "jaxlib": "jax.numpy"}


def _torch():
    """The torch module if the caller imported it (RoboCache never imports torch itself)."""
    return sys.modules.get("torch")


def _is_torch_tensor(x) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _is_cupy_array(x) -> bool:
    cupy = sys.modules.get("cupy")
    return cupy is not None and isinstance(x, cupy.ndarray)


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
    if name == "bf16":
        _bf16_dtype(load=True)
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


def kind_of(arr, name: str) -> str:
    """"numpy", "torch", "cupy", "cai" (CUDA array interface) or "dlpack"; TypeError otherwise."""
    if isinstance(arr, np.ndarray):
        return "numpy"
    if _is_torch_tensor(arr):
        return "torch"
    if _is_cupy_array(arr):
        return "cupy"
    # DLPack first: it names the device and has a stream handshake; the CAI has neither for sure.
    if hasattr(arr, "__dlpack__") and hasattr(arr, "__dlpack_device__"):
        return "dlpack"
    if hasattr(arr, "__cuda_array_interface__"):
        return "cai"
    raise TypeError(f"argument '{name}': expected a numpy array, a torch tensor, or an array with __dlpack__ "
                    f"or __cuda_array_interface__ (CuPy, JAX, Numba); got {type(arr).__name__}")


def _family(arr, kind: str) -> str:
    """What "one framework" means for the mixing check: the producer's top-level module."""
    return kind if kind in ("numpy", "torch", "cupy") else type(arr).__module__.split(".")[0]


def _numpy_dtype_name(dt, name: str) -> str:
    try:
        dt = np.dtype(dt)
    except TypeError:
        raise TypeError(f"argument '{name}': unsupported dtype {dt!r}") from None
    if not dt.isnative:
        # The kernels read native byte order; reading '>f4' as f32 would be silently wrong.
        raise TypeError(f"argument '{name}': dtype {dt.str} is not in this machine's byte order; convert it "
                        f"with a.astype(a.dtype.newbyteorder('='))")
    found = _NUMPY_DTYPES.get(dt)
    if found is None and _bf16_dtype(load=False) == dt:
        found = "bf16"
    if found is None:
        raise TypeError(f"argument '{name}': unsupported dtype {dt}")
    return found


def _cai_dtype_name(cai: dict, name: str) -> str:
    return _numpy_dtype_name(cai["typestr"], name)


def meta(arr, name: str):
    """(dtype name, shape, "cpu"|"cuda") of any accepted array, without launching anything."""
    kind = kind_of(arr, name)
    if kind == "numpy":
        return _numpy_dtype_name(arr.dtype, name), tuple(arr.shape), "cpu"
    if kind == "torch":
        return _torch_dtype_name(arr), tuple(arr.shape), "cuda" if arr.device.type == "cuda" else "cpu"
    if kind == "cupy":
        return _numpy_dtype_name(arr.dtype, name), tuple(arr.shape), "cuda"
    if kind == "cai":
        cai = arr.__cuda_array_interface__
        return _cai_dtype_name(cai, name), tuple(cai["shape"]), "cuda"
    where = "cuda" if _dlpack_device(arr, name)[0] in _DLPACK_CUDA else "cpu"
    if hasattr(arr, "dtype") and hasattr(arr, "shape"):
        return _numpy_dtype_name(arr.dtype, name), tuple(arr.shape), where
    # A bare producer: read dtype and shape from a capsule (released at once; nothing runs on it).
    ptr, dtype, shape, *_ = _native.dlpack_view(arr.__dlpack__(), name)
    return dtype, tuple(shape), where


def _dlpack_device(arr, name: str):
    dev = arr.__dlpack_device__()
    dev_type, dev_id = int(dev[0]), int(dev[1])
    if dev_type not in _DLPACK_DEVICES:
        raise TypeError(f"argument '{name}': DLPack device type {dev_type} is not supported (CPU or CUDA only)")
    return dev_type, dev_id


def _cai_device_index(arr) -> int:
    """The CAI does not name a device: take the array's own .device when it has one, else the
    current device of torch or CuPy, else 0."""
    dev = getattr(arr, "device", None)
    for attr in ("id", "index"):
        if isinstance(getattr(dev, attr, None), int):
            return getattr(dev, attr)
    if "cupy" in sys.modules:
        return sys.modules["cupy"].cuda.runtime.getDevice()
    torch = _torch()
    if torch is not None and torch.cuda.is_initialized():
        return torch.cuda.current_device()
    return 0


class Batch:
    """The arrays of one call, with a description of each for the native layer.

    `None` entries stay `None` (absent optional arrays). Arrays named in `index_arrays` are integer
    lengths, converted to int64 in their own framework (other producers must pass int64).
    `stream`: the CUDA stream to launch on (see _streams.stream_handle); default: the caller's
    current stream of torch or CuPy, the stream a CUDA-array-interface producer names, else the
    legacy default stream.
    """

    def __init__(self, arrays, names, index_arrays=(), stream=None):
        self.keep = []  # whatever must outlive the launch: contiguous copies, DLPack owners
        self.arrays = []  # per argument: the (possibly contiguous) array, or None
        self.descs = []
        present = [(arr, name, kind_of(arr, name)) for arr, name in zip(arrays, names) if arr is not None]
        first, _, self.kind = present[0]
        self._first = first
        family = _family(first, self.kind)
        for arr, name, kind in present[1:]:
            if _family(arr, kind) != family:
                raise TypeError(f"argument '{name}': is a {_family(arr, kind)} array but earlier arguments are "
                                f"{family} arrays; pass arrays of one framework")
        self.device = first.device if self.kind == "torch" else None  # torch device of torch inputs
        self.device_index, self.on_cuda = self._where(first, names[0])
        self._stream, explicit = self._resolve_stream(stream, present)
        self._context = contextlib.nullcontext
        if explicit and self.kind in ("torch", "cupy") and self._stream != self._current_stream():
            self._context = lambda: _streams.framework_stream(self.kind, self._stream, self.device)
        with self._context():
            for arr, name in zip(arrays, names):
                if arr is None:
                    self.arrays.append(None)
                    self.descs.append(None)
                    continue
                desc = self._describe(arr, name, index=name in index_arrays)
                self.descs.append(desc)

    def _where(self, arr, name):
        if self.kind == "numpy":
            return 0, False
        if self.kind == "torch":
            if arr.device.type not in ("cpu", "cuda"):
                raise TypeError(f"argument '{name}': tensors on {arr.device} are not supported (cpu or cuda only)")
            return arr.device.index or 0, arr.device.type == "cuda"
        if self.kind == "cupy":
            return arr.device.id, True
        if self.kind == "cai":
            return _cai_device_index(arr), True
        dev_type, dev_id = _dlpack_device(arr, name)
        return dev_id, dev_type in _DLPACK_CUDA

    def _current_stream(self) -> int:
        if self.kind == "torch":
            return _streams.torch_current(self.device)
        if self.kind == "cupy":
            return _streams.cupy_current(self.device_index)
        return 0

    def _resolve_stream(self, stream, present):
        """(launch stream handle, whether the caller named it)."""
        if stream is not None:
            handle = _streams.stream_handle(stream)  # validated on the CPU too, so bad code fails early
            return (handle if self.on_cuda else 0), True
        if not self.on_cuda:
            return 0, False
        if self.kind == "cai":
            for arr, _, _ in present:
                s = arr.__cuda_array_interface__.get("stream")
                if s is not None:
                    return int(s), False
        return self._current_stream(), False

    def _describe(self, arr, name, index):
        kind = self.kind
        if kind == "numpy":
            if index:
                if arr.dtype.kind not in "iu":
                    raise TypeError(f"argument '{name}': expected an integer array, got dtype {arr.dtype}")
                arr = arr.astype(np.int64)
            dtype = _numpy_dtype_name(arr.dtype, name)
            arr = np.ascontiguousarray(arr)
            if not arr.flags.aligned:  # a view at an odd byte offset: the kernels need aligned elements
                arr = arr.copy()
            self._hold(arr)
            return (arr.ctypes.data, dtype, arr.shape, None, "cpu", 0)
        if kind == "torch":
            if index:
                torch = _torch()
                if arr.dtype.is_floating_point or arr.dtype == torch.bool:
                    raise TypeError(f"argument '{name}': expected an integer array, got {arr.dtype}")
                arr = arr.to(dtype=torch.int64)
            t = arr.contiguous()
            if t.data_ptr() % t.element_size():  # a view at an odd byte offset: copied, so elements are aligned
                t = t.clone()
            self._hold(t)
            dev = t.device
            if dev.type not in ("cpu", "cuda"):
                raise TypeError(f"argument '{name}': tensors on {dev} are not supported (cpu or cuda only)")
            return (t.data_ptr(), _torch_dtype_name(t), tuple(t.shape), None, dev.type, dev.index or 0)
        if kind == "cupy":
            cupy = sys.modules["cupy"]
            with cupy.cuda.Device(arr.device.id):
                if index:
                    if arr.dtype.kind not in "iu":
                        raise TypeError(f"argument '{name}': expected an integer array, got dtype {arr.dtype}")
                    arr = arr.astype(cupy.int64)
                a = cupy.ascontiguousarray(arr)
            self._hold(a)
            return (a.data.ptr, _numpy_dtype_name(a.dtype, name), tuple(a.shape), None, "cuda", a.device.id)
        if kind == "cai":
            desc = self._describe_cai(arr, name)
        else:
            desc = self._describe_dlpack(arr, name)
        if index and desc[1] != "i64":
            raise TypeError(f"argument '{name}': expected int64 lengths from a {type(arr).__name__} (RoboCache "
                            f"converts lengths only for numpy, torch and CuPy), got {desc[1]}")
        return desc

    def _hold(self, arr):
        self.keep.append(arr)
        self.arrays.append(arr)

    def _describe_cai(self, arr, name):
        cai = arr.__cuda_array_interface__
        if cai.get("mask") is not None:
            raise TypeError(f"argument '{name}': masked CUDA arrays are not supported")
        dtype = _cai_dtype_name(cai, name)
        s = cai.get("stream")
        if s is not None and int(s) != self._stream:
            _streams.synchronize_foreign(int(s), self.device_index, name)
        strides = None
        if cai.get("strides") is not None:
            item = np.dtype(cai["typestr"]).itemsize
            if any(st % item for st in cai["strides"]):
                raise ValueError(f"argument '{name}': strides {cai['strides']} are not multiples of the item size")
            strides = [st // item for st in cai["strides"]]
        self._hold(arr)
        return (int(cai["data"][0]), dtype, tuple(cai["shape"]), strides, "cuda", self.device_index)

    def _describe_dlpack(self, arr, name):
        if self.on_cuda:
            # The DLPack handshake: the producer orders its pending work before our launch stream
            # (1 is how DLPack spells CUDA's legacy default stream, whose handle is 0).
            capsule = arr.__dlpack__(stream=self._stream or 1)
        else:
            capsule = arr.__dlpack__()
        ptr, dtype, shape, strides, device, index, owner = _native.dlpack_view(capsule, name)
        self.keep.append(owner)
        self.arrays.append(arr)
        return (ptr, dtype, tuple(shape), strides, device, index)

    def target(self) -> str:
        """Where these arrays run: "cpu" or "cuda"."""
        return "cuda" if self.on_cuda else "cpu"

    def stream(self) -> int:
        """The CUDA stream handle to launch on (0 on the CPU)."""
        return self._stream

    def empty(self, shape, dtype_name: str, zero: bool = False):
        """A new array on the arrays' device and its description: the callers' framework for numpy,
        torch and CuPy; numpy (CPU) or a CuPy/torch buffer (CUDA) for other producers, which
        `result()` hands back through their framework."""
        with self._context():
            out = self._allocate(tuple(int(n) for n in shape), dtype_name, zero)
        if _is_torch_tensor(out):
            ptr = out.data_ptr()
        elif isinstance(out, np.ndarray):
            ptr = out.ctypes.data
        else:
            ptr = out.data.ptr
        device = "cuda" if self.on_cuda else "cpu"
        return out, (ptr, dtype_name, tuple(out.shape), None, device, self.device_index if self.on_cuda else 0)

    def _allocate(self, shape, dtype_name, zero):
        if self.kind == "torch":
            torch = _torch()
            make = torch.zeros if zero else torch.empty
            return make(shape, dtype=torch_dtype(dtype_name), device=self.device)
        if not self.on_cuda:
            return (np.zeros if zero else np.empty)(shape, dtype=numpy_dtype(dtype_name))
        if "cupy" in sys.modules:
            cupy = sys.modules["cupy"]
            with cupy.cuda.Device(self.device_index):
                return (cupy.zeros if zero else cupy.empty)(shape, dtype=numpy_dtype(dtype_name))
        torch = _torch()
        if torch is None:
            raise TypeError(f"a CUDA output for {type(self._first).__name__} arrays is allocated with CuPy or torch; "
                            "import one of them")
        make = torch.zeros if zero else torch.empty
        return make(shape, dtype=torch_dtype(dtype_name), device=torch.device("cuda", self.device_index))

    def result(self, out):
        """The output as the caller's framework: as allocated for numpy, torch and CuPy; through the
        producer's `from_dlpack` (jax.numpy for JAX) for other producers that have one."""
        if self.kind not in ("cai", "dlpack"):
            return out
        root = type(self._first).__module__.split(".")[0]
        module = sys.modules.get(_FROM_DLPACK_MODULE.get(root, root))
        from_dlpack = getattr(module, "from_dlpack", None)
        return out if from_dlpack is None else from_dlpack(out)
