#pragma once
/// How a spec runs (block shape, work split): separate from what it computes, part of the cache key.
#include <cstdint>
#include <string>

#include "compiler/json.h"

namespace robocache {

/// Launch and code-shape choices for one kernel. Backends ignore the fields that do not apply.
struct Config {
  /// CUDA: threads per block.
  int block_threads = 256;
  /// CUDA: target samples handled by one block.
  int targets_per_block = 32;
  /// CPU: work items (target rows) per thread-pool task.
  int cpu_grain = 256;

  /// The config as a JSON object (all fields).
  Json to_json() const;
  /// Canonical JSON text; hashed into the cache key.
  std::string canonical_json() const { return to_json().dump(); }
  /// Reads a config written by to_json(); throws SpecError naming the field.
  static Config from_json(const Json& j);
  bool operator==(const Config&) const = default;
};

}  // namespace robocache
