#pragma once
/// Warnings to stderr, each distinct message at most once per process.
#include <string>

namespace robocache {

/// Prints "robocache: warning: <message>" to stderr unless the same message was printed before.
void warn_once(const std::string& message);

}  // namespace robocache
