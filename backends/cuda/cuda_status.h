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
  std::string nvrtc_version;      ///< "13.0" when loaded
  std::string nvrtc_library;      ///< the file loaded, e.g. ".../nvidia/cu13/lib/libnvrtc.so.13"
  std::string nvrtc_origin;       ///< "NVIDIA's NVRTC wheel", "the system" or "ROBOCACHE_NVRTC_LIBRARY"
  bool driver_available = false;  ///< libcuda could be loaded and cuInit succeeded
  std::string driver_detail;      ///< driver version, or why not
  std::vector<CudaDeviceInfo> devices;
};

/// Probes NVRTC and the driver (loading them on first use).
CudaStatus probe_cuda();

/// The host cost of one launch at its floor: `calls` cuLaunchKernel calls of an empty kernel
/// (compiled by NVRTC) on `stream` of device `device`, timed in a native loop; microseconds per
/// call. bench/host_cost.py compares RoboCache's calls with it. Throws BackendUnavailable without
/// CUDA. Hold the stream (e.g. torch.cuda._sleep) and keep `calls` below the launch queue's depth,
/// so no launch waits for the GPU.
double cuda_empty_launch_us(int device, void* stream, int calls);

/// Waits for all work on CUDA device `ordinal`, then throws ArgumentError for the first bad
/// argument its kernels found since the last check (docs/semantics.md, "Validation on the GPU").
void cuda_synchronize(int ordinal);
/// Where NVIDIA's NVRTC pip wheel put its libraries (the Python package passes them at import);
/// searched before the system's NVRTC of the same version. Does nothing without the CUDA backend.
void set_nvrtc_wheel_dirs(std::vector<std::string> dirs);

}  // namespace robocache
