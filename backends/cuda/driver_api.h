#pragma once
/// The CUDA Driver API entry points robocache uses, loaded from libcuda.so.1 with dlopen.
#include <cuda.h>

#include <string>

namespace robocache::cuda {

// Each entry is named as the C API spells it. cuda.h maps several names to versioned symbols
// (cuMemAlloc → cuMemAlloc_v2); the macro expands before the table is declared and before the
// symbol name is stringised, so members, their types and the dlsym names all follow the header.
#define ROBOCACHE_CUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit)                                \
  X(cuDriverGetVersion)                    \
  X(cuGetErrorName)                        \
  X(cuGetErrorString)                      \
  X(cuDeviceGetCount)                      \
  X(cuDeviceGet)                           \
  X(cuDeviceGetName)                       \
  X(cuDeviceGetAttribute)                  \
  X(cuDevicePrimaryCtxRetain)              \
  X(cuDevicePrimaryCtxRelease)             \
  X(cuCtxGetCurrent)                       \
  X(cuCtxSetCurrent)                       \
  X(cuCtxGetDevice)                        \
  X(cuCtxSynchronize)                      \
  X(cuModuleLoadData)                      \
  X(cuModuleUnload)                        \
  X(cuModuleGetFunction)                   \
  X(cuFuncGetAttribute)                    \
  X(cuLaunchKernel)                        \
  X(cuStreamCreate)                        \
  X(cuStreamDestroy)                       \
  X(cuStreamSynchronize)                   \
  X(cuPointerGetAttribute)                 \
  X(cuMemAlloc)                            \
  X(cuMemFree)                             \
  X(cuMemsetD8)                            \
  X(cuMemcpyHtoD)                          \
  X(cuMemcpyDtoH)                          \
  X(cuMemcpyHtoDAsync)                     \
  X(cuMemcpyDtoHAsync)                     \
  X(cuMemHostAlloc)                        \
  X(cuMemHostGetDevicePointer)

/// The loaded libcuda function table. Obtain it with driver_api().
struct DriverApi {
#define ROBOCACHE_DECLARE_ENTRY(fn) decltype(&::fn) fn = nullptr;
  ROBOCACHE_CUDA_DRIVER_FUNCTIONS(ROBOCACHE_DECLARE_ENTRY)
#undef ROBOCACHE_DECLARE_ENTRY

  /// The library file that was loaded.
  std::string library;
  /// Driver version as cuDriverGetVersion reports it (e.g. 13000).
  int version = 0;

  /// "CUDA_ERROR_NAME (description)" for a result code.
  std::string describe(CUresult result) const;
  /// Throws RuntimeFailure naming `call` and the error when `result` is not CUDA_SUCCESS.
  void check(CUresult result, const char* call) const;
};

/// The driver table, loaded and cuInit'ed on first use (thread safe); throws BackendUnavailable
/// saying why libcuda cannot be used (not installed, no device, driver too old).
const DriverApi& driver_api();

/// "13.0" from a cuDriverGetVersion number.
std::string driver_version_string(int version);

}  // namespace robocache::cuda

/// Calls a driver entry through `api` and throws RuntimeFailure naming it on failure:
/// ROBOCACHE_CU_CHECK(api, cuModuleLoadData, &module, image).
#define ROBOCACHE_CU_CHECK(api, fn, ...) (api).check((api).fn(__VA_ARGS__), #fn)
