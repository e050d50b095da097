// The short call paths: one native call from Python to a finished (CPU) or queued (CUDA) kernel,
// for plain numpy arrays and torch tensors.
//
// * launch_fast(kernel, args, validate, out): Kernel.__call__.
// * resample_fast / fuse_fast: the high-level calls. Their kernel comes from a table keyed by what
//   the arrays look like (op, device, dtypes, channel counts, modes), which remember() fills after
//   the general path compiled one; a miss returns None and the general path compiles.
// * bind(kernel, args, validate, out, stream): a BoundCall, validated once and replayed.
//
// The general path (robocache/_arrays.py) describes every array in Python, which costs
// microseconds. Here the few attributes a launch needs are read straight from the objects (numpy's
// array struct; torch's attributes through names and dtype objects looked up once). Anything
// unusual (another framework, a strided, unaligned or byte-swapped array, lengths other than int64,
// a torch scratch buffer) or any argument error returns None, and the caller takes the general
// path, which has the full checks and messages. Lengths on a GPU are range-checked by the kernel.
// torch tensors are always in native byte order, so only their dtype (an identity test against
// the few torch dtype objects), contiguity and element alignment are checked.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <optional>
#include <string>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/dtype.h"
#include "support/errors.h"
#include "python/bindings.h"
#include "python/numpy_dtypes.h"
#include "runtime/bound_call.h"
#include "runtime/compiled_kernel.h"
#include "runtime/op_binding.h"

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
  PyObject* torch_module = PyDict_GetItemString(PyImport_GetModuleDict(), "torch");  // borrowed
  if (!torch_module) return nullptr;
  py::module_ torch = py::reinterpret_borrow<py::module_>(torch_module);
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

enum class Framework { None, Numpy, Torch };

// One call's arrays (in the native order of its op, runtime/op_binding.h) and scalars.
struct CallArrays {
  std::vector<ArrayView> views;
  std::vector<double> scalars;
  Framework framework = Framework::None;
  py::handle like;  // the first data array: the output takes its device (torch) or bf16 dtype (numpy)
};

// Adds the view of `h` (None: an absent optional array); false if it does not qualify or mixes
// frameworks.
bool add_view(py::handle h, CallArrays& c) {
  if (h.is_none()) {
    c.views.emplace_back();
    return true;
  }
  std::optional<ArrayView> v;
  Framework f = Framework::Numpy;
  if (is_plain_ndarray(h)) {
    v = numpy_view(h);
  } else if (const TorchHandles* t = torch_handles()) {
    v = tensor_view(*t, h);
    f = Framework::Torch;
  }
  if (!v || (c.framework != Framework::None && c.framework != f)) return false;
  c.framework = f;
  if (!c.like) c.like = h;
  c.views.push_back(std::move(*v));
  return true;
}

bool is_sequence(py::handle h) { return PyTuple_Check(h.ptr()) || PyList_Check(h.ptr()); }

std::optional<std::vector<double>> three(py::handle h, bool allow_scalar) {
  if (allow_scalar && (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr()))) {
    const double v = h.cast<double>();
    return std::vector<double>{v, v, v};
  }
  if (!is_sequence(h)) return std::nullopt;
  py::sequence s = py::reinterpret_borrow<py::sequence>(h);
  if (s.size() != 3) return std::nullopt;
  std::vector<double> out;
  for (py::handle x : s) {
    if (!PyFloat_Check(x.ptr()) && !PyLong_Check(x.ptr())) return std::nullopt;
    out.push_back(x.cast<double>());
  }
  return out;
}

// An absent lengths array, or int64 ones; the general path converts other integer lengths.
bool is_index(const ArrayView& lengths) { return !lengths.data || lengths.dtype == DType::I64; }

// Fuse's arrays from (streams, tgt_times): tgt_times, then data_i, times_i, lengths_i.
bool collect_fuse(py::handle streams, py::handle tgt_times, CallArrays& c) {
  if (!is_sequence(streams) || !add_view(tgt_times, c)) return false;
  for (py::handle s : py::reinterpret_borrow<py::sequence>(streams)) {
    if (!is_sequence(s)) return false;
    py::sequence triple = py::reinterpret_borrow<py::sequence>(s);
    if (triple.size() != 2 && triple.size() != 3) return false;
    for (std::size_t i = 0; i < triple.size(); ++i)
      if (!add_view(triple[i], c)) return false;
    if (triple.size() == 2) c.views.emplace_back();
    if (!is_index(c.views.back())) return false;
  }
  if (c.views.size() < 4) return false;
  // The output follows streams[0].data (its device; its bf16 dtype for numpy).
  c.like = py::reinterpret_borrow<py::sequence>(py::reinterpret_borrow<py::sequence>(streams)[0])[0];
  return true;
}

// Kernel.__call__'s positional arguments, per op; false when the call does not qualify.
bool collect(const Spec& spec, const py::tuple& args, CallArrays& c) {
  switch (spec.op()) {
    case OpKind::Resample: {
      if (args.size() < 3 || args.size() > 4) return false;
      for (std::size_t i = 0; i < args.size(); ++i)
        if (!add_view(args[i], c)) return false;
      if (c.views.size() == 3) c.views.emplace_back();
      return is_index(c.views[3]);
    }
    case OpKind::Fuse:
      return args.size() == 2 && collect_fuse(args[0], args[1], c);
    case OpKind::Voxelize: {
      // points, grid_min, voxel_size, grid_shape: the modes without features.
      if (args.size() != 4 || spec.voxelize().features != 0) return false;
      if (!add_view(args[0], c)) return false;
      auto lo = three(args[1], false), size = three(args[2], true), shape = three(args[3], false);
      if (!lo || !size || !shape) return false;
      c.views.emplace_back();  // features
      c.views.emplace_back();  // lengths
      c.views.emplace_back();  // counts (scratch)
      c.scalars = *lo;
      c.scalars.insert(c.scalars.end(), size->begin(), size->end());
      c.scalars.insert(c.scalars.end(), shape->begin(), shape->end());
      return true;
    }
  }
  return false;
}

// `validate=` as given: only True or False qualify (anything else goes to the general path's check).
std::optional<bool> exact_bool(py::handle h) {
  if (h.ptr() == Py_True) return true;
  if (h.ptr() == Py_False) return false;
  return std::nullopt;
}

// The output array: `out` when given (checked), else a new one of the arrays' framework.
// nullopt when the call needs the general path.
std::optional<std::pair<py::object, ArrayView>> output(const CallArrays& c, const OutputSpec& plan, py::object out) {
  std::optional<ArrayView> view;
  if (c.framework == Framework::Numpy) {
    if (out.is_none()) {
      const auto& like = py::reinterpret_borrow<py::array>(c.like);
      out = py::array(numpy_dtype_of(plan.dtype, like.dtype()), plan.shape);
    }
    if (is_plain_ndarray(out)) view = numpy_view(out, /*writeable=*/true);
  } else {
    const TorchHandles& t = *torch_handles();
    if (out.is_none()) {
      py::tuple shape(plan.shape.size());
      for (std::size_t i = 0; i < plan.shape.size(); ++i) shape[i] = py::int_(plan.shape[i]);
      out = c.like.attr(t.new_empty)(shape, py::arg("dtype") = t.dtype_of[py::int_(static_cast<int>(plan.dtype))]);
    }
    view = tensor_view(t, out);
  }
  if (!view) throw ArgumentError("out", "expected a contiguous, writeable array of the inputs' framework");
  if (view->dtype != plan.dtype || view->shape != plan.shape)
    throw ArgumentError("out", fmt::format("expected {} of shape [{}], got {} of shape {}", dtype_name(plan.dtype),
                                           fmt::join(plan.shape, ", "), dtype_name(view->dtype), view->shape_text()));
  return std::pair{std::move(out), std::move(*view)};
}

// The CUDA stream to launch on: torch's current stream of the arrays' device; nullptr on the CPU.
std::optional<void*> current_stream(const CallArrays& c, const ArrayView& first) {
  if (first.device != DeviceKind::Cuda) return nullptr;
  const TorchHandles* t = c.framework == Framework::Torch ? torch_handles() : nullptr;
  if (!t || !t->raw_stream) return std::nullopt;
  return reinterpret_cast<void*>(t->raw_stream(first.device_index).cast<std::uintptr_t>());
}

// Big host-side work runs without the GIL; a small call would spend more on releasing it.
bool worth_releasing_gil(const ArrayView& out) {
  const bool big = out.device == DeviceKind::Cpu && out.numel() >= (std::int64_t{1} << 15);
  if (big) settle_thread_policy();  // its first evaluation may ask Python (bind_threads.cpp)
  return big;
}

// Plans, allocates (or checks `out`) and runs: the output, or None for the general path.
py::object run(const CompiledKernel& k, CallArrays& c, bool validate, py::object out) {
  try {
    // Resample and fuse allocate the output their shapes imply and leave every check to k.run();
    // voxelize plans first (its grid and scratch come from the scalars).
    std::optional<OutputSpec> guess = guess_output(k.spec(), c.views);
    const OutputSpec plan = guess ? std::move(*guess) : k.plan(c.views, c.scalars);
    py::object scratch;  // kept alive until the kernel has run
    if (!plan.scratch_shape.empty()) {
      if (c.framework != Framework::Numpy) return py::none();
      scratch = py::array(py::dtype("int32"), plan.scratch_shape);
      ArrayView& v = c.views.back();
      v.data = py::reinterpret_borrow<py::array>(scratch).mutable_data();
      v.dtype = DType::I32;
      v.shape = plan.scratch_shape;
    }
    const ArrayView& first = c.views[k.spec().op() == OpKind::Fuse ? 1 : 0];
    const std::optional<void*> stream = current_stream(c, first);
    if (!stream) return py::none();
    auto result = output(c, plan, std::move(out));
    if (!result) return py::none();
    if (worth_releasing_gil(result->second)) {
      py::gil_scoped_release release;
      k.run(c.views, c.scalars, result->second, *stream, validate);
    } else {
      k.run(c.views, c.scalars, result->second, *stream, validate);
    }
    return std::move(result->first);
  } catch (const DeviceArgumentError&) {
    throw;  // an earlier kernel's report, given once: retrying on the general path would lose it
  } catch (const ArgumentError&) {
    // The general path repeats the checks and raises the error with its full context.
    return py::none();
  }
}

// The high-level calls' kernels, keyed by what the arrays look like. Only touched with the GIL held.
using KernelTable = std::unordered_map<std::string, std::shared_ptr<const CompiledKernel>>;
KernelTable& call_kernels() {
  static auto* table = new KernelTable;  // leaked: outlives every caller, even at exit
  return *table;
}

void put_device(std::string& key, const ArrayView& v) {
  key.push_back(v.device == DeviceKind::Cuda ? 'c' : 'h');
  key.append(std::to_string(v.device == DeviceKind::Cuda ? v.device_index : 0));
}

void put_stream(std::string& key, std::int64_t dim, std::string_view interp) {
  key.push_back('|');
  key.append(std::to_string(dim));
  key.push_back(':');
  key.append(interp);
}

// A Python str's text, or nullopt.
std::optional<std::string_view> text(py::handle h) {
  if (!PyUnicode_Check(h.ptr())) return std::nullopt;
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(h.ptr(), &size);
  if (!data) {
    PyErr_Clear();
    return std::nullopt;
  }
  return std::string_view(data, static_cast<std::size_t>(size));
}

// The key of a kernel from its spec and the device it runs on; nullopt for specs the short path
// never looks up (channel groups).
std::optional<std::string> key_of(const Spec& spec, const ArrayView& device) {
  std::string key;
  switch (spec.op()) {
    case OpKind::Resample: {
      const ResampleSpec& r = spec.resample();
      if (r.groups.size() > 1) return std::nullopt;
      key = "R";
      put_device(key, device);
      key.push_back(static_cast<char>(r.dtype));
      key.push_back(static_cast<char>(r.time_dtype));
      put_stream(key, r.dim, interp_name(r.groups.empty() ? r.interp : r.groups[0].interp));
      return key;
    }
    case OpKind::Fuse: {
      const FuseSpec& f = spec.fuse();
      key = "F";
      put_device(key, device);
      key.push_back(static_cast<char>(f.dtype));
      key.push_back(static_cast<char>(f.time_dtype));
      for (const auto& m : f.modalities) put_stream(key, m.dim, interp_name(m.interp));
      return key;
    }
    case OpKind::Voxelize: return std::nullopt;
  }
  return std::nullopt;
}

std::shared_ptr<const CompiledKernel> find_kernel(const std::string& key) {
  const KernelTable& table = call_kernels();
  auto it = table.find(key);
  return it == table.end() ? nullptr : it->second;
}

// A BoundCall with the Python objects it reads and writes kept alive.
struct PyBoundCall {
  std::unique_ptr<BoundCall> call;
  py::object keep;  // the arguments and the output
  py::object out;
  void* stream = nullptr;
};

}  // namespace

void bind_launch(py::module_& m) {
  m.def(
      "launch_fast",
      [](const std::shared_ptr<CompiledKernel>& k, const py::tuple& args, py::handle validate,
         py::object out) -> py::object {
        const std::optional<bool> check = exact_bool(validate);
        CallArrays c;
        if (!check || !collect(k->spec(), args, c)) return py::none();
        return run(*k, c, *check, std::move(out));
      },
      py::arg("kernel"), py::arg("args"), py::arg("validate"), py::arg("out"),
      "Kernel.__call__'s short path for plain numpy arrays and contiguous torch tensors (on the current "
      "torch stream); returns the output, or None when the call needs the general path.");

  m.def(
      "resample_fast",
      [](py::handle data, py::handle src_times, py::handle tgt_times, py::handle lengths, py::handle interp,
         py::handle validate) -> py::object {
        const std::optional<bool> check = exact_bool(validate);
        const std::optional<std::string_view> mode = text(interp);
        CallArrays c;
        if (!check || !mode) return py::none();
        for (py::handle h : {data, src_times, tgt_times, lengths})
          if (!add_view(h, c)) return py::none();
        const ArrayView &d = c.views[0], &src = c.views[1];
        if (!d.data || !src.data || d.shape.size() != 3 || !is_index(c.views[3])) return py::none();
        std::string key = "R";
        put_device(key, d);
        key.push_back(static_cast<char>(d.dtype));
        key.push_back(static_cast<char>(src.dtype));
        put_stream(key, d.shape[2], *mode);
        auto k = find_kernel(key);
        if (!k) return py::none();
        return run(*k, c, *check, py::none());
      },
      py::arg("data"), py::arg("src_times"), py::arg("tgt_times"), py::arg("lengths"), py::arg("interp"),
      py::arg("validate"),
      "resample_trajectories' short path: a kernel remembered for arrays like these, run; else None.");

  m.def(
      "fuse_fast",
      [](py::handle streams, py::handle tgt_times, py::handle interp, py::handle validate) -> py::object {
        const std::optional<bool> check = exact_bool(validate);
        CallArrays c;
        if (!check || !collect_fuse(streams, tgt_times, c)) return py::none();
        const std::size_t n = (c.views.size() - 1) / 3;
        const bool one_mode = PyUnicode_Check(interp.ptr());
        if (!one_mode && (!is_sequence(interp) || py::len(interp) != n)) return py::none();
        const ArrayView &d0 = c.views[1], &t0 = c.views[2];
        if (!d0.data || !t0.data) return py::none();
        std::string key = "F";
        put_device(key, d0);
        key.push_back(static_cast<char>(d0.dtype));
        key.push_back(static_cast<char>(t0.dtype));
        for (std::size_t i = 0; i < n; ++i) {
          const ArrayView& d = c.views[1 + 3 * i];
          const auto mode = text(one_mode ? interp : py::reinterpret_borrow<py::sequence>(interp)[i]);
          if (!d.data || d.shape.size() != 3 || !mode) return py::none();
          put_stream(key, d.shape[2], *mode);
        }
        auto k = find_kernel(key);
        if (!k) return py::none();
        return run(*k, c, *check, py::none());
      },
      py::arg("streams"), py::arg("tgt_times"), py::arg("interp"), py::arg("validate"),
      "fuse_multimodal's short path: a kernel remembered for arrays like these, run; else None.");

  m.def(
      "remember",
      [](const std::shared_ptr<CompiledKernel>& k, py::handle like) {
        CallArrays c;
        if (!add_view(like, c) || !c.views[0].data) return;
        if (auto key = key_of(k->spec(), c.views[0])) call_kernels()[*key] = k;
      },
      py::arg("kernel"), py::arg("like"),
      "Remembers the kernel the general path compiled for a high-level call on arrays like `like`.");
  m.def(
      "forget_call_kernels", [] { call_kernels().clear(); },
      "Forgets the kernels remembered for high-level calls (after tuning changes the best configs).");

  py::class_<PyBoundCall>(m, "BoundCall", "A kernel call bound to fixed arrays and output (Kernel.bind).")
      .def(
          "__call__",
          [](PyBoundCall& b, py::handle stream) -> py::object {
            void* s = b.stream;
            if (!stream.is_none()) s = reinterpret_cast<void*>(stream.cast<std::uintptr_t>());
            if (worth_releasing_gil(b.call->out())) {
              py::gil_scoped_release release;
              b.call->launch(s);
            } else {
              b.call->launch(s);
            }
            return b.out;
          },
          py::arg("stream") = py::none(),
          "Runs the call again (on `stream`, a CUDA stream handle, when given; else the stream of bind "
          "time); returns the output.")
      .def_property_readonly("out", [](const PyBoundCall& b) { return b.out; }, "The output array it writes.");

  m.def(
      "bind",
      [](const std::shared_ptr<CompiledKernel>& k, const py::tuple& args, bool validate, py::object out,
         py::object stream) {
        CallArrays c;
        if (!collect(k->spec(), args, c))
          throw ArgumentError("args", "Kernel.bind takes plain numpy arrays or contiguous torch tensors, of one "
                                      "framework, as Kernel.__call__ does (voxelize: occupancy and count)");
        const OutputSpec plan = k->plan(c.views, c.scalars);
        if (!plan.scratch_shape.empty())
          throw ArgumentError("args", "voxelize mean and max cannot be bound (they need a fresh scratch array)");
        auto result = output(c, plan, std::move(out));
        const ArrayView& first = c.views[k->spec().op() == OpKind::Fuse ? 1 : 0];
        auto b = std::make_unique<PyBoundCall>();
        if (!stream.is_none()) {
          b->stream = reinterpret_cast<void*>(stream.cast<std::uintptr_t>());
        } else {
          const std::optional<void*> s = current_stream(c, first);
          if (!s) throw ArgumentError("stream", "no current torch stream for these CUDA tensors; pass stream=");
          b->stream = *s;
        }
        b->call = std::make_unique<BoundCall>(k, c.views, c.scalars, result->second, validate);
        b->keep = py::make_tuple(args, result->first);
        b->out = result->first;
        return b;
      },
      py::arg("kernel"), py::arg("args"), py::arg("validate"), py::arg("out"), py::arg("stream"),
      "Validates a call once and returns a BoundCall that replays it.");
}

}  // namespace robocache::python
