// probe_cuda() for builds with the CUDA backend (backends/cuda/unavailable.cpp has the other one).
#include <exception>

#include <fmt/format.h>

#include "backends/cuda/device_arch.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/nvrtc_api.h"
#include "backends/cuda/cuda_status.h"

namespace robocache {

namespace {

void probe_nvrtc(CudaStatus& s) {
  try {
    const cuda::NvrtcApi& n = cuda::nvrtc_api();
    s.nvrtc_available = true;
    s.nvrtc_detail = fmt::format("NVRTC {} ({}, from {})", n.version_string(), n.library, n.origin);
    s.nvrtc_version = n.version_string();
    s.nvrtc_library = n.library;
    s.nvrtc_origin = n.origin;
  } catch (const std::exception& e) {
    s.nvrtc_detail = e.what();
  }
}

void probe_driver(CudaStatus& s) {
  try {
    const cuda::DriverApi& d = cuda::driver_api();
    s.driver_available = true;
    s.driver_detail = fmt::format("CUDA driver {} ({})", cuda::driver_version_string(d.version), d.library);
    int count = 0;
    ROBOCACHE_CU_CHECK(d, cuDeviceGetCount, &count);
    for (int i = 0; i < count; ++i) {
      CudaDeviceInfo info;
      info.ordinal = i;
      info.name = cuda::device_name(i);
      info.arch = cuda::device_arch(i);
      info.sm_count = cuda::device_sm_count(i);
      s.devices.push_back(std::move(info));
    }
  } catch (const std::exception& e) {
    if (s.driver_available) {
      s.driver_detail += fmt::format("; listing devices failed: {}", e.what());
    } else {
      s.driver_detail = e.what();
    }
  }
}

}  // namespace

void set_nvrtc_wheel_dirs(std::vector<std::string> dirs) { cuda::set_nvrtc_wheel_dirs(std::move(dirs)); }

CudaStatus probe_cuda() {
  CudaStatus s;
  s.built = true;
  try {
    probe_nvrtc(s);
    probe_driver(s);
  } catch (...) {
    // Only allocation can get here; a partial status beats an exception from a probe.
  }
  return s;
}

}  // namespace robocache
