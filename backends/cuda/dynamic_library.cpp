#include "backends/cuda/dynamic_library.h"

#include <dlfcn.h>
#include <link.h>

#include <fmt/format.h>

#include "support/errors.h"

namespace robocache::cuda {

DynamicLibrary DynamicLibrary::open_first(std::string_view what,
                                          const std::vector<std::string>& candidates) {
  std::string tried;
  for (const std::string& c : candidates) {
    dlerror();
    // RTLD_LOCAL: the CUDA symbols stay out of the global namespace of the host process.
    if (void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)) return DynamicLibrary(h, c);
    const char* err = dlerror();
    tried += fmt::format("\n  {}: {}", c, err ? err : "unknown dlopen error");
  }
  throw BackendUnavailable(fmt::format("could not load {}; tried:{}", what, tried));
}

void* DynamicLibrary::require(const char* name) const {
  dlerror();
  void* p = dlsym(handle_, name);
  if (!p) {
    const char* err = dlerror();
    throw BackendUnavailable(fmt::format("{} does not export {} (too old for this build?): {}",
                                         path_, name, err ? err : "symbol is null"));
  }
  return p;
}

std::string DynamicLibrary::file() const {
  link_map* map = nullptr;
  if (dlinfo(handle_, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name) return map->l_name;
  return path_;
}

}  // namespace robocache::cuda
