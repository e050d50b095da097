#pragma once
/// How a string that came from a user (a spec value, a key, a target, an environment variable)
/// appears inside an error message.
#include <string>
#include <string_view>

namespace robocache {

/// Longest part of a user string that an error message shows.
inline constexpr std::size_t kShownBytes = 40;

/// `v` as it may appear in a message: printable ASCII kept, every other byte (control characters,
/// newlines, non-ASCII) written as \xNN, cut to kShownBytes with the full length noted. The result
/// is always valid ASCII, so a hostile or huge value can neither garble, flood nor break the
/// conversion of the message to a Python string.
std::string shown(std::string_view v);

}  // namespace robocache
