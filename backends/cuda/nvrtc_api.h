#pragma once
/// The NVRTC entry points robocache uses, loaded from libnvrtc with dlopen.
#include <nvrtc.h>

#include <string>
#include <vector>

namespace robocache::cuda {

#define ROBOCACHE_NVRTC_FUNCTIONS(X) \
  X(nvrtcVersion)                    \
  X(nvrtcGetErrorString)             \
  X(nvrtcGetNumSupportedArchs)       \
  X(nvrtcGetSupportedArchs)          \
  X(nvrtcCreateProgram)              \
  X(nvrtcDestroyProgram)             \
  X(nvrtcAddNameExpression)          \
  X(nvrtcCompileProgram)             \
  X(nvrtcGetProgramLogSize)          \
  X(nvrtcGetProgramLog)              \
  X(nvrtcGetCUBINSize)               \
  X(nvrtcGetCUBIN)                   \
  X(nvrtcGetPTXSize)                 \
  X(nvrtcGetPTX)                     \
  X(nvrtcGetLoweredName)

/// The loaded libnvrtc function table. Obtain it with nvrtc_api().
struct NvrtcApi {
#define ROBOCACHE_DECLARE_ENTRY(fn) decltype(&::fn) fn = nullptr;
  ROBOCACHE_NVRTC_FUNCTIONS(ROBOCACHE_DECLARE_ENTRY)
#undef ROBOCACHE_DECLARE_ENTRY

  /// The library file that was loaded, as a full path where the loader tells it.
  std::string library;
  /// Where it came from: "ROBOCACHE_NVRTC_LIBRARY", "NVIDIA's NVRTC wheel" or "the system".
  std::string origin;
  /// nvrtcVersion's major and minor.
  int major = 0, minor = 0;
  /// SM numbers this NVRTC can compile for (e.g. 75, 80, ..., 120), ascending.
  std::vector<int> supported_archs;

  /// "major.minor", e.g. "13.0".
  std::string version_string() const;
  /// "NVRTC_ERROR_NAME" text for a result code.
  std::string describe(nvrtcResult result) const;
  /// Throws RuntimeFailure naming `call` when `result` is not NVRTC_SUCCESS.
  void check(nvrtcResult result, const char* call) const;
};

/// The NVRTC table, loaded on first use (thread safe); throws BackendUnavailable with what was tried.
/// Search order: $ROBOCACHE_NVRTC_LIBRARY alone when set; else the newest version first
/// (libnvrtc.so.13, then .12, then libnvrtc.so), and for each: the wheel directories given to
/// set_nvrtc_wheel_dirs(), the loader path, $CUDA_HOME/lib64, /usr/local/cuda/lib64.
const NvrtcApi& nvrtc_api();

/// Directories holding NVIDIA's NVRTC pip wheel's libraries (site-packages/nvidia/cu13/lib), which
/// the Python package finds on sys.path; they count only when set before NVRTC is first loaded.
void set_nvrtc_wheel_dirs(std::vector<std::string> dirs);

/// The candidates nvrtc_api() tries, in order (exposed for diagnostics and tests).
std::vector<std::string> nvrtc_library_candidates();

}  // namespace robocache::cuda

/// Calls an NVRTC entry through `api` and throws RuntimeFailure naming it on failure.
#define ROBOCACHE_NVRTC_CHECK(api, fn, ...) (api).check((api).fn(__VA_ARGS__), #fn)
