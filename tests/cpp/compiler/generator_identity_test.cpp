// The cache key's generator identity comes from the generators' content: every generator file is
// hashed, and the built-in hash is the hash of the files as they are.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/generator_identity.h"
#include "support/sha256.h"

namespace robocache {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = ROBOCACHE_SOURCE_DIR;

// Every file in `dir` (relative to the source root) whose name ends with one of `suffixes`.
void glob(const std::string& dir, std::vector<std::string> suffixes, std::vector<std::string>& out) {
  for (const auto& entry : fs::directory_iterator(kRoot / dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    for (const auto& s : suffixes)
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
        out.push_back(fs::relative(entry.path(), kRoot).generic_string());
  }
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> strings(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

// The recipe of cmake/hash_generators.cmake: SHA-256 of "path sha256(bytes)\n" per file, sorted.
std::string content_hash(const std::vector<std::string>& files) {
  std::string manifest;
  for (const auto& rel : sorted(files)) {
    std::ifstream in(kRoot / rel, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    manifest += rel + " " + sha256_hex(bytes.str()) + "\n";
  }
  return sha256_hex(manifest);
}

TEST(GeneratorIdentity, CudaHashCoversEveryCudaBackendFileTemplateAndAbiHeader) {
  std::vector<std::string> expected;
  glob("backends/cuda", {".cpp", ".h"}, expected);
  glob("templates", {".cuh"}, expected);
  glob("compiler", {"_abi.h"}, expected);
  EXPECT_EQ(strings(cuda_generator_files()), sorted(expected))
      << "a generator file is not hashed into the CUDA cache key: rerun CMake";
}

TEST(GeneratorIdentity, CpuHashCoversEveryCpuBackendFileAndAbiHeader) {
  std::vector<std::string> expected;
  glob("backends/cpu", {".cpp", ".h"}, expected);
  glob("compiler", {"_abi.h"}, expected);
  EXPECT_EQ(strings(cpu_generator_files()), sorted(expected))
      << "a generator file is not hashed into the CPU cache key: rerun CMake";
}

TEST(GeneratorIdentity, BuiltInHashesAreTheHashesOfTheFilesAsTheyAre) {
  EXPECT_EQ(cuda_generator_hash(), content_hash(strings(cuda_generator_files())));
  EXPECT_EQ(cpu_generator_hash(), content_hash(strings(cpu_generator_files())));
  EXPECT_NE(cuda_generator_hash(), cpu_generator_hash());
}

TEST(GeneratorIdentity, BackendsReportTheirContentHash) {
  try {
    EXPECT_NE(make_cpu_backend()->generator_identity().find(cpu_generator_hash()), std::string::npos);
  } catch (const BackendUnavailable&) {
  }
  try {
    EXPECT_NE(make_cuda_backend("sm_90")->generator_identity().find(cuda_generator_hash()), std::string::npos);
  } catch (const BackendUnavailable&) {
  }
}

}  // namespace
}  // namespace robocache
