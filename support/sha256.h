#pragma once
/// SHA-256 (FIPS 180-4), used for spec hashes, cache keys and cache-entry checksums.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace robocache {

/// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  /// Feeds bytes.
  Sha256& update(const void* data, std::size_t size);
  /// Feeds a string's bytes.
  Sha256& update(std::string_view s) { return update(s.data(), s.size()); }
  /// Finishes and returns the 32-byte digest; the object must not be reused afterwards.
  std::array<std::uint8_t, 32> digest();
  /// Finishes and returns the digest as 64 lowercase hex characters.
  std::string hex_digest();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

/// Hex SHA-256 of a string.
std::string sha256_hex(std::string_view s);

}  // namespace robocache
