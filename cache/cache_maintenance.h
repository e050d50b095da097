#pragma once
/// Whole-directory operations on a disk cache: list, verify, evict, clear, export, import.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/disk_cache.h"

namespace robocache {

/// One entry file as found on disk.
struct CacheEntryInfo {
  std::string key;
  std::filesystem::path path;
  std::uint64_t bytes = 0;
  std::int64_t last_used_ns = 0;  ///< unix nanoseconds; the entry's mtime, refreshed on every hit
  bool valid = false;
  std::string problem;         ///< why it is invalid
  std::string format, target, spec_json, toolchain;
};

/// Every entry in the directory, oldest use first; with `check`, each is decoded and validated.
std::vector<CacheEntryInfo> list_cache_entries(const DiskCache& cache, bool check);

/// Total size of the entry files.
std::uint64_t cache_size_bytes(const DiskCache& cache);

/// Deletes least-recently-used entries until the total is at most `max_bytes`, never deleting
/// `keep_key`. Returns the number of entries removed.
int evict_least_recently_used(const DiskCache& cache, std::uint64_t max_bytes,
                              const std::string& keep_key = "");

/// What a clean-up did.
struct GcReport {
  int bad_removed = 0;      ///< entries that failed validation
  int evicted = 0;          ///< entries removed to get under the size cap
  int stale_removed = 0;    ///< leftover temp and lock files
};

/// Removes invalid entries, leftover temp files older than a minute and idle lock files, then
/// evicts down to `max_bytes`.
GcReport gc_cache(const DiskCache& cache, std::uint64_t max_bytes);

/// Removes every entry (and temp/lock files). Returns the number of entries removed.
int clear_cache(const DiskCache& cache);

/// Writes every valid entry into one bundle file; returns how many.
int export_cache_bundle(const DiskCache& cache, const std::filesystem::path& bundle);
/// Writes the entries of these keys into one bundle file (a fleet's kernels, not the whole
/// directory); returns how many. Throws std::invalid_argument naming a key that has no valid entry.
int export_cache_bundle(const DiskCache& cache, const std::filesystem::path& bundle,
                        const std::vector<std::string>& keys);

/// Copies every valid entry of a bundle into the cache directory; returns how many.
int import_cache_bundle(const DiskCache& cache, const std::filesystem::path& bundle);

}  // namespace robocache
