#pragma once
/// Counters and stage timings of the kernel cache, readable from C++ and Python.
#include <cstdint>

namespace robocache {

/// A snapshot of the cache's counters since the engine was created.
struct CacheStats {
  std::int64_t memory_hits = 0;     ///< compile() answered from the in-process map
  std::int64_t disk_hits = 0;       ///< entries loaded from the cache directory
  std::int64_t bundle_hits = 0;     ///< entries loaded from read-only bundles
  std::int64_t compiles = 0;        ///< kernels generated and compiled (misses)
  std::int64_t bad_entries = 0;     ///< disk entries rejected (short, corrupted, wrong key)
  std::int64_t store_failures = 0;  ///< entries that could not be written to disk
  double generate_ms = 0;           ///< time spent generating source / IR
  double compile_ms = 0;            ///< time spent in NVRTC / LLVM
  double disk_read_ms = 0;          ///< time spent reading and checking disk entries
  double disk_write_ms = 0;         ///< time spent publishing entries
  double load_ms = 0;               ///< time spent loading code (module load / JIT link)
  std::int64_t launches = 0;        ///< kernel launches made (a fused op counts once per kernel)
};

}  // namespace robocache
