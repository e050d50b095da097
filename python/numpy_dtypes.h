#pragma once
/// numpy arrays as the native layer sees them: dtype mapping and the zero-copy view of a plain array.
#include <pybind11/numpy.h>

#include <bit>
#include <optional>

#include "compiler/dtype.h"
#include "support/errors.h"
#include "runtime/array_view.h"

namespace robocache::python {

/// numpy dtype → DType by kind and size; ml_dtypes' bfloat16 is the 2-byte 'V' kind. nullopt: other.
inline std::optional<DType> numpy_dtype(const pybind11::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f') return size == 2 ? DType::F16 : size == 4 ? DType::F32 : size == 8 ? std::optional(DType::F64) : std::nullopt;
  if (kind == 'i') return size == 4 ? DType::I32 : size == 8 ? std::optional(DType::I64) : std::nullopt;
  if (kind == 'u' && size == 1) return DType::U8;
  if (kind == 'V' && size == 2 && pybind11::str(dt.attr("name")).cast<std::string>() == "bfloat16") return DType::BF16;
  return std::nullopt;
}

/// The numpy dtype of an output of type `t`; `like` (an input's dtype) supplies ml_dtypes' bfloat16.
inline pybind11::dtype numpy_dtype_of(DType t, const pybind11::dtype& like) {
  if (numpy_dtype(like) == t) return like;  // keeps ml_dtypes' bfloat16
  switch (t) {
    case DType::F16: return pybind11::dtype("float16");
    case DType::F32: return pybind11::dtype("float32");
    case DType::F64: return pybind11::dtype("float64");
    case DType::I32: return pybind11::dtype("int32");
    case DType::I64: return pybind11::dtype("int64");
    case DType::U8: return pybind11::dtype("uint8");
    case DType::BF16: break;
  }
  throw ArgumentError("out", "a bf16 output needs a bf16 input to take the dtype from");
}

/// True for a numpy.ndarray proper (not a subclass such as a masked array, whose mask a raw view
/// would ignore).
inline bool is_plain_ndarray(pybind11::handle h) {
  return Py_TYPE(h.ptr()) == pybind11::detail::npy_api::get().PyArray_Type_;
}

/// A view of a plain ndarray (is_plain_ndarray) that is C-contiguous, aligned, in native byte order
/// and of a supported dtype (and writeable when `writeable`); nullopt when it is not, and the
/// caller takes the general path, which copies or refuses it naming the argument.
inline std::optional<ArrayView> numpy_view(pybind11::handle h, bool writeable = false) {
  namespace py = pybind11;
  const auto* a = py::detail::array_proxy(h.ptr());
  int need = static_cast<int>(py::array::c_style) | static_cast<int>(py::detail::npy_api::NPY_ARRAY_ALIGNED_);
  if (writeable) need |= py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  if ((a->flags & need) != need) return std::nullopt;
  auto dt = py::reinterpret_borrow<py::dtype>(a->descr);
  const char order = dt.byteorder();
  if (order != '=' && order != '|' && order != (std::endian::native == std::endian::little ? '<' : '>'))
    return std::nullopt;
  const std::optional<DType> t = numpy_dtype(dt);
  if (!t) return std::nullopt;
  ArrayView v;
  v.data = a->data;
  v.dtype = *t;
  v.shape.assign(a->dimensions, a->dimensions + a->nd);
  return v;
}

}  // namespace robocache::python
