#pragma once
/// A bundle: many cache entries in one read-only file, shipped with a deployment.
///
/// Layout: "RCBUNDLE" | u32 LE version | u32 LE entry count | per entry: 64-byte hex key,
/// u64 LE offset, u64 LE length | the entries (each in the cache-entry format, which validates
/// itself). Readers check every entry on lookup, so a damaged bundle gives misses, not bad code.
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

/// A bundle file opened for lookups.
class BundleReader {
 public:
  /// Reads a bundle; throws std::runtime_error naming the file when it is not a bundle.
  static std::unique_ptr<BundleReader> open(const std::filesystem::path& path);

  /// The path it was read from.
  const std::filesystem::path& path() const { return path_; }
  /// Keys it holds.
  std::vector<std::string> keys() const;
  /// The raw entry bytes for a key (unchecked), if present.
  std::optional<std::string> raw_entry(const std::string& key) const;
  /// The checked entry for a key; nullopt when absent or damaged (`rejected` tells which).
  std::optional<ObjectCode> find(const std::string& key, bool* rejected = nullptr) const;

 private:
  std::filesystem::path path_;
  std::string bytes_;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>, std::less<>> index_;
};

}  // namespace robocache
