#include "support/log.h"

#include <cstdio>
#include <mutex>
#include <set>

namespace robocache {

void warn_once(const std::string& message) {
  static std::mutex mu;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(mu);
  if (!seen.insert(message).second) return;
  std::fprintf(stderr, "robocache: warning: %s\n", message.c_str());
}

}  // namespace robocache
