#include "runtime/cuda/nvrtc_api.h"

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "compiler/errors.h"
#include "runtime/cuda/dynamic_library.h"

#define ROBOCACHE_SYMBOL_NAME(fn) ROBOCACHE_SYMBOL_NAME_(fn)
#define ROBOCACHE_SYMBOL_NAME_(fn) #fn

namespace robocache::cuda {

namespace {

constexpr const char* kSonames[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};

struct NvrtcLoad {
  std::unique_ptr<NvrtcApi> api;
  std::string error;
};

NvrtcLoad load_nvrtc() {
  NvrtcLoad out;
  try {
    DynamicLibrary lib = DynamicLibrary::open_first("NVRTC (libnvrtc)", nvrtc_library_candidates());
    auto api = std::make_unique<NvrtcApi>();
    api->library = lib.path();
#define ROBOCACHE_RESOLVE_ENTRY(fn) \
  api->fn = reinterpret_cast<decltype(api->fn)>(lib.require(ROBOCACHE_SYMBOL_NAME(fn)));
    ROBOCACHE_NVRTC_FUNCTIONS(ROBOCACHE_RESOLVE_ENTRY)
#undef ROBOCACHE_RESOLVE_ENTRY
    if (nvrtcResult r = api->nvrtcVersion(&api->major, &api->minor); r != NVRTC_SUCCESS)
      throw BackendUnavailable(fmt::format("nvrtcVersion failed: {}", api->describe(r)));
    int n = 0;
    if (nvrtcResult r = api->nvrtcGetNumSupportedArchs(&n); r != NVRTC_SUCCESS)
      throw BackendUnavailable(fmt::format("nvrtcGetNumSupportedArchs failed: {}", api->describe(r)));
    api->supported_archs.resize(static_cast<std::size_t>(n));
    if (n > 0) {
      if (nvrtcResult r = api->nvrtcGetSupportedArchs(api->supported_archs.data()); r != NVRTC_SUCCESS)
        throw BackendUnavailable(fmt::format("nvrtcGetSupportedArchs failed: {}", api->describe(r)));
    }
    out.api = std::move(api);
  } catch (const BackendUnavailable& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

std::vector<std::string> nvrtc_library_candidates() {
  // An explicit choice is not second-guessed: falling back to another NVRTC would hide the mistake.
  if (const char* env = std::getenv("ROBOCACHE_NVRTC_LIBRARY"); env && *env) return {env};
  std::vector<std::string> out(std::begin(kSonames), std::end(kSonames));
  std::vector<std::string> dirs;
  if (const char* home = std::getenv("CUDA_HOME"); home && *home) dirs.push_back(std::string(home) + "/lib64");
  dirs.push_back("/usr/local/cuda/lib64");
  for (const std::string& d : dirs)
    for (const char* name : kSonames) out.push_back(d + "/" + name);
  return out;
}

std::string NvrtcApi::version_string() const { return fmt::format("{}.{}", major, minor); }

std::string NvrtcApi::describe(nvrtcResult result) const {
  const char* s = nvrtcGetErrorString ? nvrtcGetErrorString(result) : nullptr;
  return s ? std::string(s) : fmt::format("nvrtcResult {}", static_cast<int>(result));
}

void NvrtcApi::check(nvrtcResult result, const char* call) const {
  if (result != NVRTC_SUCCESS) throw RuntimeFailure(fmt::format("{} failed: {}", call, describe(result)));
}

const NvrtcApi& nvrtc_api() {
  // Leaked on purpose: kernels owned by other static objects may unload after main() returns.
  static const NvrtcLoad& loaded = *new NvrtcLoad(load_nvrtc());
  if (!loaded.api) throw BackendUnavailable("NVRTC unavailable: " + loaded.error);
  return *loaded.api;
}

}  // namespace robocache::cuda
