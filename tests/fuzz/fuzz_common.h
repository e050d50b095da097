#pragma once
// Shared by the fuzz targets and the seed generator.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace robocache::fuzz {

/// The key every fuzzed entry is decoded against (64 hex characters, like a real cache key).
inline const std::string kKey = "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f";

/// A broken invariant: print it and abort, so libFuzzer records the input as a crash.
[[noreturn]] inline void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace robocache::fuzz
