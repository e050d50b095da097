#pragma once
/// The public entry point: an engine with cache and thread options that compiles specs for a target.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "robocache/kernel.h"
#include "robocache/spec.h"

namespace robocache {
class Engine;
}

namespace robocache::api {

/// How the on-disk kernel cache may be used.
enum class CacheMode : std::uint8_t {
  ReadWrite,  ///< look up, compile on a miss, publish (development)
  ReadOnly,   ///< look up, compile on a miss, never write (shared or read-only media)
  Strict,     ///< look up only; a miss throws CacheMissError (production: never compile)
};

/// The default cache directory: $ROBOCACHE_CACHE_DIR, else $XDG_CACHE_HOME/robocache or ~/.cache/robocache.
std::filesystem::path default_cache_dir();

/// Options of an engine. Defaults ignore the environment except for the cache directory.
struct EngineOptions {
  std::filesystem::path cache_dir = default_cache_dir();  ///< empty: no disk cache (memory only)
  CacheMode cache_mode = CacheMode::ReadWrite;            ///< see CacheMode
  std::vector<std::filesystem::path> bundles;             ///< read-only bundles, searched after cache_dir
  std::uint64_t cache_max_bytes = 2ull << 30;             ///< size cap of cache_dir (LRU eviction)
  /// CPU worker threads, process-wide (one pool serves every engine): 0 keeps the default policy
  /// (one thread in a forked child, else $ROBOCACHE_NUM_THREADS, else the CPUs this process may
  /// use). The first engine to set it fixes the count for the process.
  int threads = 0;

  /// Options from ROBOCACHE_CACHE_DIR, ROBOCACHE_CACHE_MODE, ROBOCACHE_CACHE_BUNDLES,
  /// ROBOCACHE_CACHE_MAX_BYTES (as the Python package and the `robocache` command read them).
  static EngineOptions from_environment();
};

/// Compiles specs through an in-memory and on-disk cache; thread-safe; cheap to copy (shared state).
class Engine {
 public:
  /// An engine with these options. Throws ArgumentError("threads") when `threads` differs from the
  /// count already fixed for the process-wide CPU pool.
  explicit Engine(EngineOptions options = {});

  /// Compiles `spec` for `target`, or finds it in the caches: "auto" (the GPU when one is usable,
  /// else the CPU), "cpu", "cuda" (device 0's arch) or a CUDA arch such as "sm_90" (needs no GPU).
  /// Throws SpecError, BackendUnavailable (saying why), CompileError, or CacheMissError in strict mode.
  Kernel compile(const Spec& spec, const std::string& target = "auto") const;

  /// The options it was created with.
  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
  std::shared_ptr<robocache::Engine> impl_;
};

}  // namespace robocache::api
