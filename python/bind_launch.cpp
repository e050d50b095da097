// The short launch path for torch tensors: one native call from Kernel.__call__ to a queued kernel.
//
// The general path (robocache/_arrays.py) describes every array in Python, which costs tens of
// microseconds a call. Here the few tensor attributes a launch needs are read straight from the
// tensor objects, with the attribute names and torch's dtype objects looked up once. Anything
// unusual (another framework, a strided tensor, a scratch buffer)
// returns None and the caller takes the general path, which has the full checks and messages.
// torch tensors are always in native byte order, so only the dtype (an identity test against the
// few torch dtype objects), contiguity and alignment are checked here.
#include <pybind11/stl.h>

#include <array>
#include <bit>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/dtype.h"
#include "compiler/errors.h"
#include "python/bindings.h"
#include "runtime/compiled_kernel.h"

namespace py = pybind11;

namespace robocache::python {

namespace {

// torch objects and interned attribute names, looked up once torch has been imported by the
// caller (RoboCache never imports torch itself). Leaked on purpose: destroying Python objects at
// process exit, after the interpreter is gone, would crash.
struct TorchHandles {
  PyTypeObject* tensor_type = nullptr;
  std::array<std::pair<PyObject*, DType>, 7> dtypes{};
  py::object raw_stream;  // torch._C._cuda_getCurrentRawStream(device) -> int
  py::str dtype = py::str("dtype"), shape = py::str("shape"), data_ptr = py::str("data_ptr"),
          get_device = py::str("get_device"), is_contiguous = py::str("is_contiguous"),
          new_empty = py::str("new_empty");
  py::dict dtype_of;  // DType number -> torch dtype
};

TorchHandles* make_torch_handles() {
  py::dict modules = py::module_::import("sys").attr("modules");
  if (!modules.contains("torch")) return nullptr;
  py::module_ torch = modules["torch"];
  auto* h = new TorchHandles;
  h->tensor_type = reinterpret_cast<PyTypeObject*>(torch.attr("Tensor").ptr());
  const std::array<std::pair<const char*, DType>, 7> names{{{"float16", DType::F16},
                                                           {"bfloat16", DType::BF16},
                                                           {"float32", DType::F32},
                                                           {"float64", DType::F64},
                                                           {"int32", DType::I32},
                                                           {"int64", DType::I64},
                                                           {"uint8", DType::U8}}};
  for (std::size_t i = 0; i < names.size(); ++i) {
    py::object dt = torch.attr(names[i].first);
    h->dtype_of[py::int_(static_cast<int>(names[i].second))] = dt;
    h->dtypes[i] = {dt.release().ptr(), names[i].second};
  }
  py::object c = torch.attr("_C");
  if (py::hasattr(c, "_cuda_getCurrentRawStream")) h->raw_stream = c.attr("_cuda_getCurrentRawStream");
  return h;
}

// Called with the GIL held, so the lazy set-up needs no lock. Null until the caller imports torch.
const TorchHandles* torch_handles() {
  static TorchHandles* handles = nullptr;
  if (!handles) handles = make_torch_handles();
  return handles;
}

// A contiguous torch.Tensor (exact type) as a view; nullopt when it does not qualify.
std::optional<ArrayView> tensor_view(const TorchHandles& t, py::handle h) {
  if (Py_TYPE(h.ptr()) != t.tensor_type) return std::nullopt;
  py::object dt = h.attr(t.dtype);
  std::optional<DType> dtype;
  for (const auto& [obj, d] : t.dtypes)
    if (dt.ptr() == obj) dtype = d;
  if (!dtype) return std::nullopt;
  if (!h.attr(t.is_contiguous)().cast<bool>()) return std::nullopt;
  ArrayView v;
  v.dtype = *dtype;
  const int device = h.attr(t.get_device)().cast<int>();
  v.device = device >= 0 ? DeviceKind::Cuda : DeviceKind::Cpu;
  v.device_index = device >= 0 ? device : 0;
  for (py::handle d : py::reinterpret_borrow<py::tuple>(h.attr(t.shape))) v.shape.push_back(d.cast<std::int64_t>());
  const auto ptr = h.attr(t.data_ptr)().cast<std::uintptr_t>();
  // A view at an odd byte offset (torch.frombuffer with an offset) cannot be read element-wise on
  // every device; the general path copies it. One integer test: no measurable cost.
  if (ptr % dtype_size(*dtype) != 0) return std::nullopt;
  v.data = reinterpret_cast<const void*>(ptr);
  return v;
}

// Adds the view of `h` (None: an absent optional array) to views; false if it does not qualify.
bool add_view(const TorchHandles& t, py::handle h, std::vector<ArrayView>& views) {
  if (h.is_none()) {
    views.emplace_back();
    return true;
  }
  auto v = tensor_view(t, h);
  if (!v) return false;
  views.push_back(std::move(*v));
  return true;
}

// An absent lengths array, or int64 ones; the general path converts other integer lengths.
bool is_index(const ArrayView& lengths) { return !lengths.data || lengths.dtype == DType::I64; }

std::optional<std::vector<double>> three(py::handle h, bool allow_scalar) {
  if (allow_scalar && (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr()))) {
    const double v = h.cast<double>();
    return std::vector<double>{v, v, v};
  }
  if (!PyTuple_Check(h.ptr()) && !PyList_Check(h.ptr())) return std::nullopt;
  py::sequence s = py::reinterpret_borrow<py::sequence>(h);
  if (s.size() != 3) return std::nullopt;
  std::vector<double> out;
  for (py::handle x : s) {
    if (!PyFloat_Check(x.ptr()) && !PyLong_Check(x.ptr())) return std::nullopt;
    out.push_back(x.cast<double>());
  }
  return out;
}

// The call's arrays (in the native order of each op) and scalars; false when the call does not
// qualify for the short path.
bool collect(const TorchHandles& t, const Spec& spec, const py::tuple& args, std::vector<ArrayView>& views,
             std::vector<double>& scalars) {
  switch (spec.op()) {
    case OpKind::Resample: {
      if (args.size() < 3 || args.size() > 4) return false;
      for (std::size_t i = 0; i < args.size(); ++i)
        if (!add_view(t, args[i], views)) return false;
      if (views.size() == 3) views.emplace_back();
      return is_index(views[3]);
    }
    case OpKind::Fuse: {
      if (args.size() != 2 || (!PyList_Check(args[0].ptr()) && !PyTuple_Check(args[0].ptr()))) return false;
      if (!add_view(t, args[1], views)) return false;
      for (py::handle s : py::reinterpret_borrow<py::sequence>(args[0])) {
        if (!PyTuple_Check(s.ptr()) && !PyList_Check(s.ptr())) return false;
        py::sequence triple = py::reinterpret_borrow<py::sequence>(s);
        if (triple.size() != 2 && triple.size() != 3) return false;
        for (std::size_t i = 0; i < triple.size(); ++i)
          if (!add_view(t, triple[i], views)) return false;
        if (triple.size() == 2) views.emplace_back();
        if (!is_index(views.back())) return false;
      }
      return views.size() >= 4;
    }
    case OpKind::Voxelize: {
      // points, grid_min, voxel_size, grid_shape: occupancy and count (no features, no scratch).
      if (args.size() != 4 || spec.voxelize().features != 0) return false;
      if (!add_view(t, args[0], views)) return false;
      auto lo = three(args[1], false), size = three(args[2], true), shape = three(args[3], false);
      if (!lo || !size || !shape) return false;
      views.emplace_back();  // features
      views.emplace_back();  // lengths
      views.emplace_back();  // counts (scratch)
      scalars = *lo;
      scalars.insert(scalars.end(), size->begin(), size->end());
      scalars.insert(scalars.end(), shape->begin(), shape->end());
      return true;
    }
  }
  return false;
}

}  // namespace

void bind_launch(py::module_& m) {
  m.def(
      "launch_torch",
      [](const CompiledKernel& k, const py::tuple& args, bool validate, py::object out) -> py::object {
        const TorchHandles* t = torch_handles();
        if (!t) return py::none();
        std::vector<ArrayView> views;
        std::vector<double> scalars;
        if (!collect(*t, k.spec(), args, views, scalars)) return py::none();
        const OutputSpec plan = k.plan(views, scalars);
        if (!plan.scratch_shape.empty()) return py::none();
        const ArrayView& first = views[k.spec().op() == OpKind::Fuse ? 1 : 0];
        if (out.is_none()) {
          py::tuple shape(plan.shape.size());
          for (std::size_t i = 0; i < plan.shape.size(); ++i) shape[i] = py::int_(plan.shape[i]);
          // The output takes the device of the first data array (streams[0]'s for fuse).
          py::object like = args[0];
          if (k.spec().op() == OpKind::Fuse) like = py::reinterpret_borrow<py::sequence>(py::reinterpret_borrow<py::sequence>(like)[0])[0];
          out = like.attr(t->new_empty)(shape, py::arg("dtype") = t->dtype_of[py::int_(static_cast<int>(plan.dtype))]);
        }
        auto out_view = tensor_view(*t, out);
        if (!out_view) throw ArgumentError("out", "expected a contiguous torch tensor");
        if (out_view->dtype != plan.dtype || out_view->shape != plan.shape)
          throw ArgumentError("out", fmt::format("expected {} of shape [{}], got {} of shape {}", dtype_name(plan.dtype),
                                                 fmt::join(plan.shape, ", "), dtype_name(out_view->dtype),
                                                 out_view->shape_text()));
        void* stream = nullptr;
        if (first.device == DeviceKind::Cuda) {
          if (!t->raw_stream) return py::none();
          stream = reinterpret_cast<void*>(t->raw_stream(first.device_index).cast<std::uintptr_t>());
        }
        {
          py::gil_scoped_release release;
          k.run(views, scalars, *out_view, stream, validate);
        }
        return out;
      },
      py::arg("kernel"), py::arg("args"), py::arg("validate"), py::arg("out"),
      "The short launch path for contiguous torch tensors on the current torch stream; returns the "
      "output, or None when the call needs the general path.");
}

}  // namespace robocache::python
