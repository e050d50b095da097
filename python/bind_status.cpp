#include <pybind11/stl.h>

#include "support/errors.h"
#include "python/bindings.h"
#include "backends/cuda/cuda_status.h"
#include "runtime/engine.h"

namespace py = pybind11;

namespace robocache::python {

void bind_status(py::module_& m) {
  m.def("probe_cuda", [] {
    CudaStatus s = probe_cuda();
    py::list devices;
    for (const auto& d : s.devices)
      devices.append(py::dict(py::arg("ordinal") = d.ordinal, py::arg("name") = d.name,
                              py::arg("arch") = d.arch));
    return py::dict(py::arg("built") = s.built, py::arg("nvrtc_available") = s.nvrtc_available,
                    py::arg("nvrtc_detail") = s.nvrtc_detail, py::arg("nvrtc_version") = s.nvrtc_version,
                    py::arg("nvrtc_library") = s.nvrtc_library, py::arg("nvrtc_origin") = s.nvrtc_origin,
                    py::arg("driver_available") = s.driver_available,
                    py::arg("driver_detail") = s.driver_detail, py::arg("devices") = devices);
  });
  m.def(
      "cuda_synchronize",
      [](int device) {
        py::gil_scoped_release release;
        cuda_synchronize(device);
      },
      py::arg("device"),
      "Waits for CUDA device `device`, then raises the first bad argument its kernels reported.");
  m.def("set_nvrtc_wheel_dirs", &set_nvrtc_wheel_dirs, py::arg("dirs"),
        "Directories of NVIDIA's NVRTC wheel, searched first for each NVRTC version (before its first use)");
  m.def("probe_cpu", []() -> py::dict {
    try {
      auto b = Engine::global().backend("cpu");
      return py::dict(py::arg("available") = true, py::arg("arch") = b->target().arch,
                      py::arg("toolchain") = b->toolchain());
    } catch (const BackendUnavailable& e) {
      return py::dict(py::arg("available") = false, py::arg("reason") = std::string(e.what()));
    }
  });
  m.def("cache_stats", [] {
    CacheStats s = Engine::global().stats();
    return py::dict(py::arg("memory_hits") = s.memory_hits, py::arg("disk_hits") = s.disk_hits,
                    py::arg("bundle_hits") = s.bundle_hits,
                    py::arg("compiles") = s.compiles, py::arg("bad_entries") = s.bad_entries,
                    py::arg("store_failures") = s.store_failures,
                    py::arg("generate_ms") = s.generate_ms, py::arg("compile_ms") = s.compile_ms,
                    py::arg("disk_read_ms") = s.disk_read_ms, py::arg("disk_write_ms") = s.disk_write_ms,
                    py::arg("load_ms") = s.load_ms, py::arg("launches") = s.launches,
                    py::arg("cache_dir") = Engine::global().cache().options().dir.string(),
                    py::arg("cache_mode") = cache_mode_name(Engine::global().cache().options().mode));
  });
  m.def("clear_memory_cache", [] { Engine::global().clear_memory_cache(); });
  m.def(
      "backend_toolchain", [](const std::string& target) { return Engine::global().backend(target)->toolchain(); },
      py::arg("target"), "The compiler identity and flags of a target's backend (hashed into cache keys).");
  m.def(
      "cuda_empty_launch_us",
      [](int device, std::uintptr_t stream, int calls) {
        py::gil_scoped_release release;
        return cuda_empty_launch_us(device, reinterpret_cast<void*>(stream), calls);
      },
      py::arg("device"), py::arg("stream"), py::arg("calls"),
      "Host microseconds per cuLaunchKernel of an empty kernel, timed in a native loop (bench/host_cost.py).");
}

}  // namespace robocache::python
