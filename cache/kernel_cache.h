#pragma once
/// The persistent cache layers below the in-process map: local directory, then shipped bundles.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/bundle.h"
#include "cache/disk_cache.h"

namespace robocache {

/// How the cache may be used.
enum class CacheMode {
  ReadWrite,  ///< look up, compile on a miss, publish (default)
  ReadOnly,   ///< look up, compile on a miss, never write anything
  Strict,     ///< look up; a miss is an error (production: never wait for a compiler)
};

/// Where and how to cache; `from_environment()` reads the ROBOCACHE_CACHE_* variables.
struct CacheOptions {
  std::filesystem::path dir = default_cache_dir();  ///< empty disables the directory layer
  CacheMode mode = CacheMode::ReadWrite;
  std::vector<std::filesystem::path> bundles;       ///< read-only bundles, searched in order
  std::uint64_t max_bytes = 2ull << 30;             ///< size cap of the directory (LRU eviction)
  double lock_timeout_s = DiskCache::kDefaultLockTimeoutSeconds;  ///< longest wait for a compile lock

  /// ROBOCACHE_CACHE_DIR, ROBOCACHE_CACHE_MODE (readwrite|readonly|strict),
  /// ROBOCACHE_CACHE_BUNDLES (':'-separated files), ROBOCACHE_CACHE_MAX_BYTES,
  /// ROBOCACHE_LOCK_TIMEOUT (seconds, >= 0).
  /// Throws std::invalid_argument naming the variable when one is malformed.
  static CacheOptions from_environment();
};

/// Spelling of a mode.
const char* cache_mode_name(CacheMode m);

/// Which layer answered a lookup.
enum class CacheLayer { Directory, Bundle };

/// The directory and bundle layers with the configured mode.
class KernelCache {
 public:
  /// Opens the layers; an unreadable or untrusted bundle (see BundleReader::open) is skipped with
  /// one warning.
  explicit KernelCache(CacheOptions options);

  /// The options in force.
  const CacheOptions& options() const { return options_; }
  /// The directory layer, or nullptr when disabled.
  const DiskCache* directory() const { return disk_.get(); }

  /// A hit and where it came from.
  struct Hit {
    ObjectCode code;
    CacheLayer layer;
  };
  /// Looks in the directory, then the bundles. `rejected` counts damaged entries met on the way.
  std::optional<Hit> find(const std::string& key, int* rejected = nullptr) const;
  /// Why the bundles miss a spec that they hold under other keys, for a strict-mode miss: for each
  /// bundle entry of `spec_json`, the side that differs from (`target`, `toolchain`), naming both
  /// values (the GPU arch, the CPU, the compiler version, the launch config, or the code generators).
  /// Empty when no bundle holds the spec at all.
  std::string explain_bundle_miss(const std::string& spec_json, const Target& target,
                                  const std::string& toolchain, const Config& config) const;
  /// Publishes to the directory (not in readonly/strict mode) and enforces the size cap.
  /// Returns false when nothing could be written.
  bool publish(const std::string& key, const ObjectCode& code) const;
  /// The cross-process compile lock for a key (a no-op when the cache never writes).
  DiskCache::KeyLock lock(const std::string& key) const;

 private:
  CacheOptions options_;
  std::unique_ptr<DiskCache> disk_;
  std::vector<std::unique_ptr<BundleReader>> bundles_;
};

}  // namespace robocache
