#pragma once
/// What the CUDA side of this machine can do, for check_installation() and clear errors.
#include <string>
#include <vector>

namespace robocache {

/// One visible CUDA device.
struct CudaDeviceInfo {
  int ordinal = 0;
  std::string name;  ///< e.g. "NVIDIA H100 80GB HBM3"
  std::string arch;  ///< e.g. "sm_90"
  int sm_count = 0;  ///< streaming multiprocessors (132 on H100 SXM); part of the tuning key
};

/// Result of probing NVRTC and the driver; never throws.
struct CudaStatus {
  bool built = false;             ///< the library was built with the CUDA backend
  bool nvrtc_available = false;   ///< libnvrtc could be loaded
  std::string nvrtc_detail;       ///< its version, or why it could not be loaded
  bool driver_available = false;  ///< libcuda could be loaded and cuInit succeeded
  std::string driver_detail;      ///< driver version, or why not
  std::vector<CudaDeviceInfo> devices;
};

/// Probes NVRTC and the driver (loading them on first use).
CudaStatus probe_cuda();

/// Waits for all work on CUDA device `ordinal`, then throws ArgumentError for the first bad
/// argument its kernels found since the last check (docs/semantics.md, "Validation on the GPU").
void cuda_synchronize(int ordinal);

}  // namespace robocache
