// A strict-mode miss on a spec that a bundle holds under another key says why: the bundle's GPU
// arch, CPU, compiler or config against this process's, naming both (robocache.ray's workers).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <random>

#include "cache/bundle.h"
#include "cache/cache_entry.h"
#include "cache/kernel_cache.h"

namespace fs = std::filesystem;

namespace robocache {
namespace {

const char* kSpec = R"({"dim":3,"dtype":"f32","interp":"linear","op":"resample","time_dtype":"f64"})";

ObjectCode built(Target target, std::string toolchain) {
  ObjectCode c;
  c.target = std::move(target);
  c.format = "cubin";
  c.bytes = "binary";
  c.symbol = "kernel";
  c.config.block_threads = 128;
  c.spec_json = kSpec;
  c.toolchain = std::move(toolchain);
  return c;
}

class BundleMiss : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rc-bundle-miss-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A cache whose only layer is a bundle holding `code` (under a key nobody asks for).
  KernelCache cache_with(const ObjectCode& code) {
    const std::string key(64, 'a');
    const fs::path path = dir_ / "fleet.rcb";
    write_bundle(path, {{key, encode_cache_entry(key, code)}});
    ::chmod(path.c_str(), 0400);
    CacheOptions o;
    o.dir.clear();
    o.mode = CacheMode::Strict;
    o.bundles = {path};
    return KernelCache(o);
  }

  fs::path dir_;
};

TEST_F(BundleMiss, NamesBothGpuArches) {
  ObjectCode code = built({Target::Kind::Cuda, "sm_80", ""}, "nvrtc 13.0");
  Config config;
  config.block_threads = 128;
  const std::string why =
      cache_with(code).explain_bundle_miss(kSpec, {Target::Kind::Cuda, "sm_90", ""}, "nvrtc 13.0", config);
  EXPECT_NE(why.find("it was built for GPU arch 'sm_80', this process runs GPU arch 'sm_90'"), std::string::npos)
      << why;
}

TEST_F(BundleMiss, NamesBothCompilerVersions) {
  ObjectCode code = built({Target::Kind::Cuda, "sm_90", ""}, "nvrtc 12.8 -arch=sm_90");
  const std::string why = cache_with(code).explain_bundle_miss(kSpec, {Target::Kind::Cuda, "sm_90", ""},
                                                               "nvrtc 13.0 -arch=sm_90", code.config);
  EXPECT_NE(why.find("it was built with 'nvrtc 12.8 -arch=sm_90', this process has 'nvrtc 13.0 -arch=sm_90'"),
            std::string::npos)
      << why;
}

TEST_F(BundleMiss, NamesBothCpuFeatureSets) {
  ObjectCode code = built({Target::Kind::Cpu, "znver3", "+avx2"}, "llvm 14.0.6");
  const std::string why = cache_with(code).explain_bundle_miss(kSpec, {Target::Kind::Cpu, "znver3", "+avx2,+avx512f"},
                                                               "llvm 14.0.6", code.config);
  EXPECT_NE(why.find("built for CPU features '+avx2', this CPU has '+avx2,+avx512f'"), std::string::npos) << why;
}

TEST_F(BundleMiss, SaysNothingWhenNoBundleHoldsTheSpec) {
  ObjectCode code = built({Target::Kind::Cuda, "sm_90", ""}, "nvrtc 13.0");
  code.spec_json = R"({"dim":4,"dtype":"f32","interp":"linear","op":"resample","time_dtype":"f64"})";
  EXPECT_EQ(cache_with(code).explain_bundle_miss(kSpec, code.target, code.toolchain, code.config), "");
}

}  // namespace
}  // namespace robocache
