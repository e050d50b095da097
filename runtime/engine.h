#pragma once
/// The engine: resolves targets to backends and compiles specs through the cache layers.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cache/cache_stats.h"
#include "cache/kernel_cache.h"
#include "cache/tuning_db.h"
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
  /// `config` is used as given when present; else choose_config() picks one.
  /// Throws SpecError, BackendUnavailable, CompileError, or CacheMissError in strict mode.
  std::shared_ptr<const CompiledKernel> compile(const Spec& spec, const std::string& target,
                                                std::optional<Config> config = std::nullopt);

  /// The config compile() uses when none is given: the tuning database's best for
  /// tuning_key(spec, target), else the backend's heuristic default_config(spec).
  Config choose_config(const Spec& spec, const std::string& target);
  /// What a tuning result for spec on target is stored under (spec hash, arch, SM count, toolchain).
  TuningKey tuning_key(const Spec& spec, const std::string& target);
  /// The SM count in tuning keys: the multiprocessors of the device the target runs on (device 0
  /// for "cuda", the first device of that arch for "sm_XX"; 0 when there is none), or the CPU
  /// thread pool's size.
  int sm_count(const std::string& target);

  /// A snapshot of the tuning database, read from tuning_path() on first use. A copy, because
  /// other threads may change the engine's database at any time.
  TuningDb tuning();
  /// Re-reads the database file (after another process tuned), and forgets nothing else.
  void reload_tuning();
  /// Applies `change` to the database as it is on disk now (so entries other processes wrote
  /// survive), then saves it atomically. Throws std::runtime_error when it cannot be written.
  void update_tuning(const std::function<void(TuningDb&)>& change);
  /// The database file (see tuning_db_path()); empty: kept in memory only.
  const std::filesystem::path& tuning_path() const { return tuning_path_; }

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
  void load_tuning_locked();

  KernelCache cache_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Backend>> backends_;
  std::map<std::string, std::shared_ptr<const CompiledKernel>> kernels_;
  // One mutex per key being or once compiled, so threads of this process compile a spec once even
  // when the disk cache (and with it the cross-process lock) is refused or disabled.
  std::map<std::string, std::shared_ptr<std::mutex>> compiling_;
  CacheStats stats_;
  std::atomic<std::int64_t> launches_{0};

  std::filesystem::path tuning_path_;
  std::mutex tuning_mu_;  // guards tuning_, tuning_loaded_ and sm_counts_
  TuningDb tuning_;
  bool tuning_loaded_ = false;
  std::map<std::string, int> sm_counts_;
};

}  // namespace robocache
