#include "support/user_text.h"

#include <fmt/format.h>

namespace robocache {

std::string shown(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < kShownBytes; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    out += (c >= 0x20 && c < 0x7f && c != '\\') ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  if (v.size() > kShownBytes) out += fmt::format("... ({} bytes)", v.size());
  return out;
}

}  // namespace robocache
