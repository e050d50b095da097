#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "support/errors.h"
#include "python/bindings.h"
#include "python/numpy_dtypes.h"
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
             settle_thread_policy();  // its first evaluation may ask Python (bind_threads.cpp)
             py::gil_scoped_release release;
             k.run(views, scalars, out_view, reinterpret_cast<void*>(stream), check_values);
           },
           py::arg("inputs"), py::arg("scalars"), py::arg("out"), py::arg("stream") = 0,
           py::arg("check_values") = true);

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
        "Generated code with the default config, not compiled: 'source' (CUDA C++) or 'ir' (LLVM "
        "IR), or compiled to 'ptx' (CUDA) or 'asm' (CPU).");
  m.def("canonical_spec", [](const std::string& spec_json) { return Spec::parse(spec_json).canonical_json(); },
        "Validates a spec and returns its canonical JSON.");
  m.def("spec_hash", [](const std::string& spec_json) { return Spec::parse(spec_json).hash(); },
        "Stable hash of a spec.");
}

}  // namespace robocache::python
