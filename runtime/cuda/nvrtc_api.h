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

  /// The library file that was loaded.
  std::string library;
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
/// Search order: $ROBOCACHE_NVRTC_LIBRARY alone when set; else libnvrtc.so.13, libnvrtc.so.12,
/// libnvrtc.so on the loader path, then the same names in $CUDA_HOME/lib64 and /usr/local/cuda/lib64.
const NvrtcApi& nvrtc_api();

/// The candidates nvrtc_api() tries, in order (exposed for diagnostics and tests).
std::vector<std::string> nvrtc_library_candidates();

}  // namespace robocache::cuda

/// Calls an NVRTC entry through `api` and throws RuntimeFailure naming it on failure.
#define ROBOCACHE_NVRTC_CHECK(api, fn, ...) (api).check((api).fn(__VA_ARGS__), #fn)
