#pragma once
/// One self-validating cache entry file: magic, format version, JSON header, binary.
///
/// Layout: "RCKENTRY" | u32 LE format version | u32 LE header length | SHA-256 of header+binary
/// (32 bytes) | header JSON | binary. The header holds the full key, the binary's length, the
/// symbol, format, target and config; the checksum covers all of it, so a reader rejects a short,
/// corrupted or misplaced file before trusting any field.
#include <optional>
#include <string>
#include <string_view>

#include "compiler/pipeline.h"

namespace robocache {

/// Serialises compiled code under `key` into the entry file format.
std::string encode_cache_entry(const std::string& key, const ObjectCode& code);

/// Why an entry was rejected (for the one log line a bad entry gets).
struct EntryRejection {
  std::string reason;
};

/// Parses and checks an entry; returns the code, or nullopt and the reason when anything is off
/// (short, bad magic or version, bad checksum, different key, malformed header).
std::optional<ObjectCode> decode_cache_entry(std::string_view bytes, const std::string& expected_key,
                                             EntryRejection* why = nullptr);

}  // namespace robocache
