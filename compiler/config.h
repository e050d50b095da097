#pragma once
/// How a spec runs (block shape, work split): separate from what it computes, part of the cache key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/json.h"

namespace robocache {

/// CUDA: how each target finds its bracketing source samples.
enum class SearchStrategy : std::uint8_t {
  Binary,  ///< binary search per target over the whole source row
  Narrow,  ///< first narrow the row to the block's bracket range, then search inside it
  Interpolation,  ///< per target: guess from the row's first and last time, then gallop to the bracket
};

/// Config spelling of a search strategy ("binary", "narrow", "interpolation").
std::string_view search_strategy_name(SearchStrategy s);
/// The strategy a name spells, or nullopt.
std::optional<SearchStrategy> parse_search_strategy(std::string_view name);

/// Launch and code-shape choices for one kernel. Backends ignore the fields that do not apply.
struct Config {
  /// CUDA: threads per block.
  int block_threads = 256;
  /// CUDA: target samples handled by one block.
  int targets_per_block = 32;
  /// CUDA: channels each thread loads/stores per access (1, 2, 4 or 8); codegen decides when it applies.
  int vector_width = 1;
  /// CUDA: how targets find their source bracket.
  SearchStrategy search = SearchStrategy::Binary;
  /// CPU: work items (target rows) per thread-pool task.
  int cpu_grain = 256;

  /// The config as a JSON object (all fields).
  Json to_json() const;
  /// Canonical JSON text; hashed into the cache key.
  std::string canonical_json() const { return to_json().dump(); }
  /// Reads a config written by to_json() (absent fields keep their defaults); throws SpecError
  /// naming the field ("config.vector_width").
  static Config from_json(const Json& j);
  bool operator==(const Config&) const = default;
};

}  // namespace robocache
