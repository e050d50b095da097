#pragma once
/// The engine: resolves targets to backends and compiles specs through the cache layers.
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cache/cache_stats.h"
#include "cache/kernel_cache.h"
#include "runtime/compiled_kernel.h"

namespace robocache {

/// Compiles specs for targets, through in-process → disk caches. Thread-safe.
class Engine {
 public:
  /// An engine with its own caches.
  explicit Engine(CacheOptions options = {});
  /// The process-wide engine (cache options from the environment), created on first use.
  static Engine& global();

  /// Compiles (or finds) `spec` for `target`: "auto" (CUDA when a device is present, else the CPU),
  /// "cpu", "cuda" (device 0's arch) or an arch such as "sm_90" (needs no GPU).
  /// Throws SpecError, BackendUnavailable, CompileError, or CacheMissError in strict mode.
  std::shared_ptr<const CompiledKernel> compile(const Spec& spec, const std::string& target);

  /// The backend serving a target name; throws BackendUnavailable saying why.
  std::shared_ptr<Backend> backend(const std::string& target);
  /// Counters since creation.
  CacheStats stats() const;
  /// The cache layers and their options.
  const KernelCache& cache() const { return cache_; }
  /// Forgets compiled kernels held in memory (the disk cache stays); for tests and tools.
  void clear_memory_cache();

  /// Adds time spent loading a kernel (called by CompiledKernel).
  void record_load(double ms);
  /// Counts one backend launch (called by CompiledKernel).
  void record_launch() { launches_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::string resolve_target(const std::string& target);

  KernelCache cache_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Backend>> backends_;
  std::map<std::string, std::shared_ptr<const CompiledKernel>> kernels_;
  CacheStats stats_;
  std::atomic<std::int64_t> launches_{0};
};

}  // namespace robocache
