#pragma once
/// The LLVM CPU backend's factory, shared by the direct build (make_cpu_backend() in the static
/// library) and the plugin the Python module loads on first use (cpu_backend_plugin.cpp).
#include <memory>

#include "compiler/backend.h"
#include "backends/cpu/thread_pool.h"

namespace robocache {

/// Where CPU kernels find the thread pool to run on: the host's default_thread_pool(), so a plugin
/// built with its own copy of the runtime still shares the one pool (and its size setting).
using ThreadPoolSource = ThreadPool& (*)();

/// The CPU backend (LLVM IR, ORC), running its kernels on `pool()`.
std::shared_ptr<Backend> make_llvm_cpu_backend(ThreadPoolSource pool);

/// The plugin's one exported entry point, looked up by name with dlsym. Returns a new
/// std::shared_ptr<Backend> the caller takes ownership of, or null with `error` (a buffer of
/// `error_size` bytes) saying why. The version suffix changes whenever this signature does.
#define ROBOCACHE_CPU_PLUGIN_ENTRY "robocache_cpu_backend_plugin_v1"
using CpuPluginEntry = std::shared_ptr<Backend>* (*)(ThreadPoolSource pool, char* error,
                                                                unsigned long error_size);

}  // namespace robocache
