#pragma once
/// A bundle: many cache entries in one read-only file, shipped with a deployment.
///
/// Layout: "RCBUNDLE" | u32 LE version | u32 LE entry count | per entry: 64-byte hex key,
/// u64 LE offset, u64 LE length | the entries (each in the cache-entry format, which validates
/// itself). Readers check every entry on lookup, so a damaged bundle gives misses, not bad code.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compiler/pipeline.h"

namespace robocache {

/// Writes `entries` (key, encoded entry bytes) to `path` atomically (temp file + rename).
void write_bundle(const std::filesystem::path& path,
                  const std::vector<std::pair<std::string, std::string>>& entries);

/// Why a bundle file with this status may not be trusted; nullopt when it may (see BundleReader::open).
std::optional<std::string> bundle_trust_problem(const struct stat& st);

/// A bundle file opened for lookups.
class BundleReader {
 public:
  /// Reads a bundle. Throws std::invalid_argument naming the file when it is not a bundle or an
  /// index key is not a cache key (is_cache_key()), and std::runtime_error when it cannot be read
  /// or is not to be trusted: not a regular file, owned by a user other than this process's and
  /// root, or writable by group or others (the cache directory's rule, except that root-owned
  /// bundles, as deployments ship them, are trusted).
  static std::unique_ptr<BundleReader> open(const std::filesystem::path& path);

  /// The path it was read from.
  const std::filesystem::path& path() const { return path_; }
  /// Keys it holds.
  std::vector<std::string> keys() const;
  /// The raw entry bytes for a key (unchecked), if present.
  std::optional<std::string> raw_entry(const std::string& key) const;
  /// The checked entry for a key; nullopt when absent or damaged (`rejected` tells which).
  std::optional<ObjectCode> find(const std::string& key, bool* rejected = nullptr) const;
  /// The checked entries compiled from this spec (canonical JSON), whatever their target, config or
  /// toolchain: what a strict-mode miss reports (a bundle built by another compiler or for another
  /// GPU arch holds the spec under other keys). Decodes every entry: for error paths only.
  std::vector<ObjectCode> builds_of(const std::string& spec_json) const;

 private:
  std::filesystem::path path_;
  std::string bytes_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>, std::less<>> index_;
};

}  // namespace robocache
