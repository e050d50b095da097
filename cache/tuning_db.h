#pragma once
/// The tuning database: the best measured Config per (spec, target, SM count, toolchain).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compiler/config.h"
#include "support/json.h"

namespace robocache {

/// What a tuning result is valid for. Configs tuned on one GPU size or compiler may lose elsewhere.
struct TuningKey {
  std::string spec_hash;   ///< Spec::hash()
  std::string target;      ///< Target::name(): "sm_90" or "cpu"
  int sm_count = 0;        ///< CUDA multiprocessors; CPU: the thread pool's size
  std::string toolchain;   ///< Backend::toolchain()
  bool operator==(const TuningKey&) const = default;
};

/// One config's measured time.
struct ConfigTiming {
  Config config;
  double median_us = 0;  ///< the tuner's score: per-shape medians, summed over the tuned shapes
};

/// The outcome of tuning one spec on one key.
struct TuningEntry {
  TuningKey key;
  Config best;
  std::string spec_json;          ///< canonical spec, so a listing says what was tuned
  Json shapes;                    ///< the tuned input shapes (free form, as the tuner wrote them)
  std::vector<ConfigTiming> timings;
  double heuristic_us = 0;        ///< time of default_config(spec) on the same shapes
  std::string date;               ///< ISO 8601 UTC; filled in by put() when empty

  /// The entry as a JSON object.
  Json to_json() const;
  /// Reads an entry written by to_json(); throws std::invalid_argument naming the field.
  static TuningEntry from_json(const Json& j);
};

/// A set of entries with at most one per key. A value type: load, change, save.
class TuningDb {
 public:
  /// Adds an entry, replacing the one with the same key.
  void put(TuningEntry entry);
  /// The entry for a key. With sm_count 0 (an offline target, no device to ask), the entry with
  /// the largest SM count among those matching spec, target and toolchain: deployments build for
  /// the biggest GPU of their fleet, and a config tuned for more SMs keeps big GPUs busy.
  std::optional<TuningEntry> find(const TuningKey& key) const;
  /// Removes the entry with this exact key; returns whether there was one.
  bool erase(const TuningKey& key);
  /// Adds every entry of `other`, which replaces same-key entries here; returns how many.
  int merge(const TuningDb& other);
  /// Every entry, in insertion order.
  const std::vector<TuningEntry>& entries() const { return entries_; }
  /// Number of entries.
  std::size_t size() const { return entries_.size(); }

  /// {"format": "robocache-tuning/1", "entries": [...]}.
  Json to_json() const;
  /// Reads a document written by to_json(); throws std::invalid_argument naming what is wrong.
  static TuningDb from_json(const Json& j);

  /// Reads a file; a missing file is an empty database. Throws std::invalid_argument on a bad one.
  static TuningDb load(const std::filesystem::path& path);
  /// Writes atomically (temp file in the same directory, fsync, rename); throws std::runtime_error.
  void save(const std::filesystem::path& path) const;

 private:
  std::vector<TuningEntry> entries_;
};

/// Where the database lives: $ROBOCACHE_TUNING_DB when set, else `tuning.json` in the kernel cache
/// directory; empty when neither exists (tuning is then kept in memory only).
std::filesystem::path tuning_db_path(const std::filesystem::path& cache_dir);

}  // namespace robocache
