#include "backends/cuda/nvrtc_api.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "support/errors.h"
#include "backends/cuda/dynamic_library.h"

#define ROBOCACHE_SYMBOL_NAME(fn) ROBOCACHE_SYMBOL_NAME_(fn)
#define ROBOCACHE_SYMBOL_NAME_(fn) #fn

namespace robocache::cuda {

namespace {

constexpr const char* kSonames[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};

std::mutex& wheel_dirs_mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::string>& wheel_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

bool starts_with_dir(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Which of the search's sources `candidate` belongs to, for check_installation().
std::string origin_of(const std::string& candidate) {
  if (const char* env = std::getenv("ROBOCACHE_NVRTC_LIBRARY"); env && *env) return "ROBOCACHE_NVRTC_LIBRARY";
  std::lock_guard<std::mutex> lock(wheel_dirs_mutex());
  for (const std::string& d : wheel_dirs())
    if (starts_with_dir(candidate, d)) return "NVIDIA's NVRTC wheel";
  return "the system";
}

struct NvrtcLoad {
  std::unique_ptr<NvrtcApi> api;
  std::string error;
};

// NVRTC opens its builtins library (libnvrtc-builtins.so.MAJOR.MINOR) by name at the first compile,
// so only from the loader path: NVRTC 13.0 loaded from NVIDIA's wheel or $CUDA_HOME would fail
// there. Loaded first from NVRTC's own directory, the by-name open finds it already in the process.
// Best effort: where it is missing, NVRTC's own error says so at the first compile.
void preload_builtins(const NvrtcApi& api) {
  std::string::size_type slash = api.library.rfind('/');
  if (slash == std::string::npos) return;
  std::string path = fmt::format("{}/libnvrtc-builtins.so.{}.{}", api.library.substr(0, slash), api.major, api.minor);
  try {
    DynamicLibrary::open_first("NVRTC's builtins", {path});
  } catch (const BackendUnavailable&) {
  }
}

NvrtcLoad load_nvrtc() {
  NvrtcLoad out;
  try {
    DynamicLibrary lib = DynamicLibrary::open_first("NVRTC (libnvrtc)", nvrtc_library_candidates());
    auto api = std::make_unique<NvrtcApi>();
    api->library = lib.file();
    api->origin = origin_of(lib.path());
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
    preload_builtins(*api);
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
  std::vector<std::string> wheels;
  {
    std::lock_guard<std::mutex> lock(wheel_dirs_mutex());
    wheels = wheel_dirs();
  }
  std::vector<std::string> toolkits;
  if (const char* home = std::getenv("CUDA_HOME"); home && *home) toolkits.push_back(std::string(home) + "/lib64");
  toolkits.push_back("/usr/local/cuda/lib64");
  // Newest first, so an older NVRTC that another package's wheel brings (torch's CUDA 12 one) never
  // hides a newer system one; for one version the environment's wheel, installed for it, comes first.
  std::vector<std::string> out;
  for (const char* name : kSonames) {
    bool versioned = std::string_view(name) != "libnvrtc.so";
    if (versioned)
      for (const std::string& d : wheels) out.push_back(d + "/" + name);
    out.push_back(name);
    for (const std::string& d : toolkits) out.push_back(d + "/" + name);
  }
  return out;
}

void set_nvrtc_wheel_dirs(std::vector<std::string> dirs) {
  for (std::string& d : dirs)
    while (d.size() > 1 && d.back() == '/') d.pop_back();
  std::lock_guard<std::mutex> lock(wheel_dirs_mutex());
  wheel_dirs() = std::move(dirs);
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
