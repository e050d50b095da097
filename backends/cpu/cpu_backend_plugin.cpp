// The entry point of the CPU backend plugin (librobocache_cpu.so): the Python module loads it on the
// first CPU compile, so `import robocache` never maps libLLVM (tens of milliseconds and most of the
// module's memory). Everything else in the plugin is hidden; only this C symbol is exported.
#include <cstring>
#include <exception>

#include "backends/cpu/cpu_backend_factory.h"

extern "C" __attribute__((visibility("default"))) std::shared_ptr<robocache::Backend>* robocache_cpu_backend_plugin_v1(
    robocache::ThreadPoolSource pool, char* error, unsigned long error_size) {
  // No exception may cross a dlsym'd C boundary: report it as text.
  try {
    return new std::shared_ptr<robocache::Backend>(robocache::make_llvm_cpu_backend(pool));
  } catch (const std::exception& e) {
    if (error && error_size) {
      std::strncpy(error, e.what(), error_size - 1);
      error[error_size - 1] = '\0';
    }
    return nullptr;
  }
}
