#include "cache/cache_key.h"

#include "support/sha256.h"

namespace robocache {

std::string cache_key(const CacheKeyParts& p) {
  // Length-prefix each part so no two different part lists can produce the same byte stream.
  Sha256 h;
  auto put = [&h](const std::string& s) {
    std::string len = std::to_string(s.size()) + ":";
    h.update(len);
    h.update(s);
  };
  put("robocache-cache-v" + std::to_string(kCacheFormatVersion));
  put(p.spec_json);
  put(p.config_json);
  put(p.target);
  put(p.toolchain);
  put(p.generator);
  return h.hex_digest();
}

bool is_cache_key(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace robocache
