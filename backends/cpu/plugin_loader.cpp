// make_cpu_backend() for the Python module: loads the CPU backend plugin (librobocache_cpu.so, next to
// the module) on the first CPU compile instead of linking LLVM into the module, so importing
// robocache maps no LLVM library. The plugin carries the LLVM backend and its own copy of what it
// needs from the runtime; kernels still run on this module's thread pool, handed over at load.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include <fmt/format.h>

#include "support/errors.h"
#include "backends/cpu/cpu_backend_factory.h"

namespace robocache {

namespace {

// The directory of the shared object holding this function (the Python module).
std::string own_directory() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&own_directory), &info) || !info.dli_fname)
    throw BackendUnavailable("cannot locate the robocache module to find its CPU backend plugin");
  std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

CpuPluginEntry load_entry() {
  const std::string path = own_directory() + "/librobocache_cpu.so";
  // Never closed: kernels, backends and exception types from it live until the process ends.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw BackendUnavailable(fmt::format("cannot load the CPU backend (LLVM) plugin: {}", dlerror()));
  auto entry = reinterpret_cast<CpuPluginEntry>(dlsym(handle, ROBOCACHE_CPU_PLUGIN_ENTRY));
  if (!entry)
    throw BackendUnavailable(fmt::format("{} has no entry point {}: it is from another robocache build", path,
                                         ROBOCACHE_CPU_PLUGIN_ENTRY));
  return entry;
}

}  // namespace

std::shared_ptr<Backend> make_cpu_backend() {
  static std::mutex mutex;
  static CpuPluginEntry entry = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!entry) entry = load_entry();
  }
  char error[1024] = "";
  std::unique_ptr<std::shared_ptr<Backend>> backend(entry(&default_thread_pool, error, sizeof error));
  if (!backend) throw BackendUnavailable(fmt::format("the CPU backend plugin failed to start: {}", error));
  return *backend;
}

}  // namespace robocache
