#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <bit>

#include "compiler/errors.h"
#include "python/bindings.h"
#include "runtime/engine.h"

namespace py = pybind11;

namespace robocache::python {

namespace {

// (pointer, dtype name, shape, strides in elements or None, "cpu"|"cuda", device index)
using ArrayDesc = std::tuple<std::uintptr_t, std::string, std::vector<std::int64_t>,
                             std::optional<std::vector<std::int64_t>>, std::string, int>;

ArrayView to_view(const ArrayDesc& d, const char* name) {
  const auto& [ptr, dtype, shape, strides, device, index] = d;
  ArrayView v;
  v.data = reinterpret_cast<const void*>(ptr);
  auto t = parse_dtype(dtype);
  if (!t) throw ArgumentError(name, "unsupported dtype " + dtype);
  v.dtype = *t;
  v.shape = shape;
  if (strides) v.strides = *strides;
  v.device = device == "cuda" ? DeviceKind::Cuda : DeviceKind::Cpu;
  v.device_index = index;
  return v;
}

// None stands for an absent optional array (an empty view).
std::vector<ArrayView> to_views(const std::vector<std::optional<ArrayDesc>>& descs) {
  std::vector<ArrayView> out;
  for (const auto& d : descs) out.push_back(d ? to_view(*d, "input") : ArrayView{});
  return out;
}

// numpy dtype → DType by kind and size; ml_dtypes' bfloat16 is the 2-byte 'V' kind. nullopt: other.
std::optional<DType> numpy_dtype(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f') return size == 2 ? DType::F16 : size == 4 ? DType::F32 : size == 8 ? std::optional(DType::F64) : std::nullopt;
  if (kind == 'i') return size == 4 ? DType::I32 : size == 8 ? std::optional(DType::I64) : std::nullopt;
  if (kind == 'u' && size == 1) return DType::U8;
  if (kind == 'V' && size == 2 && py::str(dt.attr("name")).cast<std::string>() == "bfloat16") return DType::BF16;
  return std::nullopt;
}

py::dtype numpy_dtype_of(DType t, const py::dtype& like) {
  if (numpy_dtype(like) == t) return like;  // keeps ml_dtypes' bfloat16
  switch (t) {
    case DType::F16: return py::dtype("float16");
    case DType::F32: return py::dtype("float32");
    case DType::F64: return py::dtype("float64");
    case DType::I32: return py::dtype("int32");
    case DType::I64: return py::dtype("int64");
    case DType::U8: return py::dtype("uint8");
    case DType::BF16: break;
  }
  throw ArgumentError("out", "a bf16 output needs a bf16 input to take the dtype from");
}

}  // namespace

void bind_kernel(py::module_& m) {
  py::class_<CompiledKernel, std::shared_ptr<CompiledKernel>>(m, "NativeKernel")
      .def_property_readonly("key", &CompiledKernel::key)
      .def_property_readonly("target", [](const CompiledKernel& k) { return k.target().name(); })
      .def_property_readonly("spec_json", [](const CompiledKernel& k) { return k.spec().canonical_json(); })
      .def_property_readonly("source", &CompiledKernel::source)
      .def_property_readonly("binary_format", [](const CompiledKernel& k) { return k.object_code().format; })
      .def_property_readonly("binary", [](const CompiledKernel& k) { return py::bytes(k.object_code().bytes); })
      .def_property_readonly("origin", &CompiledKernel::origin)
      .def_property_readonly("config_json",
                             [](const CompiledKernel& k) { return k.object_code().config.canonical_json(); })
      .def_property_readonly("symbol", [](const CompiledKernel& k) { return k.object_code().symbol; })
      .def("plan",
           [](const CompiledKernel& k, const std::vector<std::optional<ArrayDesc>>& inputs,
              const std::vector<double>& scalars) {
             OutputSpec o = k.plan(to_views(inputs), scalars);
             return py::make_tuple(o.shape, std::string(dtype_name(o.dtype)), o.scratch_shape);
           },
           py::arg("inputs"), py::arg("scalars") = std::vector<double>{},
           "Validates the inputs; returns (output shape, output dtype, scratch shape or []).")
      .def("run",
           [](const CompiledKernel& k, const std::vector<std::optional<ArrayDesc>>& inputs,
              const std::vector<double>& scalars, const ArrayDesc& out, std::uintptr_t stream,
              bool check_values) {
             auto views = to_views(inputs);
             ArrayView out_view = to_view(out, "out");
             py::gil_scoped_release release;
             k.run(views, scalars, out_view, reinterpret_cast<void*>(stream), check_values);
           },
           py::arg("inputs"), py::arg("scalars"), py::arg("out"), py::arg("stream") = 0,
           py::arg("check_values") = true)
      .def("call_numpy",
           [](const CompiledKernel& k, const py::list& arrays, const std::vector<double>& scalars,
              bool check_values) -> py::object {
             // The short path for C-contiguous numpy arrays on the CPU: no per-call Python work.
             // Returns None when an array does not qualify, and the caller takes the general path.
             std::vector<ArrayView> views(arrays.size());
             py::dtype first;
             for (std::size_t i = 0; i < arrays.size(); ++i) {
               py::handle h = arrays[i];
               if (h.is_none()) continue;
               if (!py::isinstance<py::array>(h)) return py::none();
               auto a = py::reinterpret_borrow<py::array>(h);
               // Only C-contiguous, aligned arrays in native byte order are read here; the general
               // path copies unaligned arrays and refuses other byte orders naming the argument.
               constexpr int kAligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;
               if ((a.flags() & (py::array::c_style | kAligned)) != (py::array::c_style | kAligned)) return py::none();
               const char order = a.dtype().byteorder();
               if (order != '=' && order != '|' && order != (std::endian::native == std::endian::little ? '<' : '>'))
                 return py::none();
               auto dt = numpy_dtype(a.dtype());
               if (!dt) return py::none();
               if (!first) first = a.dtype();
               ArrayView& v = views[i];
               v.data = a.data();
               v.dtype = *dt;
               v.shape.assign(a.shape(), a.shape() + a.ndim());
             }
             OutputSpec plan = k.plan(views, scalars);
             py::array out(numpy_dtype_of(plan.dtype, first), plan.shape);
             if (!plan.scratch_shape.empty()) {
               py::array scratch(py::dtype("int32"), plan.scratch_shape);
               views.back().data = scratch.mutable_data();
               views.back().dtype = DType::I32;
               views.back().shape = plan.scratch_shape;
               ArrayView out_view{out.mutable_data(), plan.dtype, plan.shape, {}, DeviceKind::Cpu, 0};
               py::gil_scoped_release release;
               k.run(views, scalars, out_view, nullptr, check_values);
             } else {
               ArrayView out_view{out.mutable_data(), plan.dtype, plan.shape, {}, DeviceKind::Cpu, 0};
               py::gil_scoped_release release;
               k.run(views, scalars, out_view, nullptr, check_values);
             }
             return std::move(out);
           },
           py::arg("arrays"), py::arg("scalars"), py::arg("check_values") = true);

  m.def("compile",
        [](const std::string& spec_json, const std::string& target, const std::optional<std::string>& config_json) {
          Spec spec = Spec::parse(spec_json);
          std::optional<Config> config;
          if (config_json) config = Config::from_json(Json::parse(*config_json));
          std::shared_ptr<const CompiledKernel> k;
          {
            py::gil_scoped_release release;
            k = Engine::global().compile(spec, target, config);
          }
          return std::const_pointer_cast<CompiledKernel>(k);
        },
        py::arg("spec_json"), py::arg("target"), py::arg("config_json") = std::nullopt,
        "Compiles (or finds in the cache) a spec given as JSON text for a target; config_json "
        "(JSON text) overrides the tuned or heuristic config.");
  m.def("emit",
        [](const std::string& spec_json, const std::string& target, const std::string& form) {
          Spec spec = Spec::parse(spec_json);
          py::gil_scoped_release release;
          auto backend = Engine::global().backend(target);
          return backend->emit(backend->generate(spec, backend->default_config(spec)), form);
        },
        py::arg("spec_json"), py::arg("target"), py::arg("form"),
        "Generated code in another form: 'ptx' (CUDA) or 'asm' (CPU).");
  m.def("canonical_spec", [](const std::string& spec_json) { return Spec::parse(spec_json).canonical_json(); },
        "Validates a spec and returns its canonical JSON.");
  m.def("spec_hash", [](const std::string& spec_json) { return Spec::parse(spec_json).hash(); },
        "Stable hash of a spec.");
}

}  // namespace robocache::python
