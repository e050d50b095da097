#include "backends/cuda/driver_api.h"

#include <memory>

#include <fmt/format.h>

#include "support/errors.h"
#include "backends/cuda/dynamic_library.h"

// Stringises after macro expansion, so versioned names resolve to their real symbols.
#define ROBOCACHE_SYMBOL_NAME(fn) ROBOCACHE_SYMBOL_NAME_(fn)
#define ROBOCACHE_SYMBOL_NAME_(fn) #fn

namespace robocache::cuda {

namespace {

struct DriverLoad {
  std::unique_ptr<DriverApi> api;
  std::string error;
};

DriverLoad load_driver() {
  DriverLoad out;
  try {
    // Only the soname: the driver belongs to the kernel module's install, never to a toolkit
    // directory (the toolkit's stubs/libcuda.so is a link-time stub that fails at run time).
    DynamicLibrary lib = DynamicLibrary::open_first("the CUDA driver (libcuda)", {"libcuda.so.1"});
    auto api = std::make_unique<DriverApi>();
    api->library = lib.path();
#define ROBOCACHE_RESOLVE_ENTRY(fn) \
  api->fn = reinterpret_cast<decltype(api->fn)>(lib.require(ROBOCACHE_SYMBOL_NAME(fn)));
    ROBOCACHE_CUDA_DRIVER_FUNCTIONS(ROBOCACHE_RESOLVE_ENTRY)
#undef ROBOCACHE_RESOLVE_ENTRY
    if (CUresult r = api->cuInit(0); r != CUDA_SUCCESS)
      throw BackendUnavailable(fmt::format("cuInit failed: {}", api->describe(r)));
    if (CUresult r = api->cuDriverGetVersion(&api->version); r != CUDA_SUCCESS)
      throw BackendUnavailable(fmt::format("cuDriverGetVersion failed: {}", api->describe(r)));
    out.api = std::move(api);
  } catch (const BackendUnavailable& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

std::string DriverApi::describe(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName == nullptr || cuGetErrorName(result, &name) != CUDA_SUCCESS) name = nullptr;
  if (cuGetErrorString == nullptr || cuGetErrorString(result, &text) != CUDA_SUCCESS) text = nullptr;
  return fmt::format("{} ({})", name ? name : fmt::format("CUresult {}", static_cast<int>(result)),
                     text ? text : "no description");
}

void DriverApi::check(CUresult result, const char* call) const {
  if (result != CUDA_SUCCESS) throw RuntimeFailure(fmt::format("{} failed: {}", call, describe(result)));
}

const DriverApi& driver_api() {
  // Loaded once: a failure is remembered, so callers on a machine without a GPU pay for one dlopen.
  // Leaked on purpose: kernels owned by other static objects may unload after main() returns.
  static const DriverLoad& loaded = *new DriverLoad(load_driver());
  if (!loaded.api) throw BackendUnavailable("CUDA driver unavailable: " + loaded.error);
  return *loaded.api;
}

std::string driver_version_string(int version) {
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

}  // namespace robocache::cuda
