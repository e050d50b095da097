#pragma once
/// The cache key: everything that can change the compiled bytes, hashed.
#include <string>
#include <string_view>

#include "compiler/config.h"
#include "compiler/spec.h"
#include "compiler/target.h"

namespace robocache {

/// Version of the on-disk entry format and of the key recipe; bump on any change to either.
inline constexpr int kCacheFormatVersion = 1;

/// The inputs of a cache key, each printable on its own (shown by `describe()`).
struct CacheKeyParts {
  std::string spec_json;      ///< canonical spec
  std::string config_json;    ///< canonical config
  std::string target;         ///< Target::identity()
  std::string toolchain;      ///< compiler name, version and options
  std::string generator;      ///< template sources' hash or IR generator version
};

/// Hex SHA-256 of the parts and the format version. Never depends on paths, mtimes or user names.
std::string cache_key(const CacheKeyParts& parts);

/// Whether `text` has the form of a key cache_key() makes: exactly 64 lowercase hex digits. Every
/// path that takes a key from outside (a bundle, a file name) checks this before the key names a
/// file, so a key can never climb out of the cache directory.
bool is_cache_key(std::string_view text);

}  // namespace robocache
