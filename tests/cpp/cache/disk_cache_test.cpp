#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cache/cache_entry.h"
#include "cache/cache_key.h"
#include "cache/disk_cache.h"

namespace fs = std::filesystem;

namespace robocache {
namespace {

ObjectCode sample_code() {
  ObjectCode c;
  c.target = Target{Target::Kind::Cuda, "sm_90", ""};
  c.format = "cubin";
  c.bytes = std::string("\x7f" "ELF binary\0bytes", 16);
  c.symbol = "_Z6kernel";
  c.config.block_threads = 128;
  c.spec_json = R"({"dim":3,"dtype":"f32","interp":"linear","op":"resample","time_dtype":"f64"})";
  c.toolchain = "nvrtc 13.0";
  return c;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rc-cache-test-" + std::to_string(std::random_device{}()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(CacheKey, ChangesWithEveryPart) {
  CacheKeyParts p{"{spec}", "{config}", "cuda:sm_90:", "nvrtc 13.0", "tpl"};
  const std::string base = cache_key(p);
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(cache_key(p), base);
  for (std::string CacheKeyParts::*m : {&CacheKeyParts::spec_json, &CacheKeyParts::config_json,
                                        &CacheKeyParts::target, &CacheKeyParts::toolchain,
                                        &CacheKeyParts::generator}) {
    CacheKeyParts q = p;
    q.*m += "x";
    EXPECT_NE(cache_key(q), base);
  }
  // Moving a character between parts must not collide.
  CacheKeyParts a{"ab", "c", "", "", ""}, b{"a", "bc", "", "", ""};
  EXPECT_NE(cache_key(a), cache_key(b));
}

TEST(CacheEntry, RoundTripsEveryField) {
  ObjectCode c = sample_code();
  auto back = decode_cache_entry(encode_cache_entry("k1", c), "k1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->bytes, c.bytes);
  EXPECT_EQ(back->symbol, c.symbol);
  EXPECT_EQ(back->format, c.format);
  EXPECT_EQ(back->target, c.target);
  EXPECT_EQ(back->config, c.config);
  EXPECT_EQ(back->spec_json, c.spec_json);
  EXPECT_EQ(back->toolchain, c.toolchain);
}

TEST(CacheEntry, RejectsTruncatedFlippedAndForeignEntries) {
  const std::string good = encode_cache_entry("k1", sample_code());
  EntryRejection why;
  EXPECT_FALSE(decode_cache_entry(good, "k2", &why));
  EXPECT_NE(why.reason.find("another key"), std::string::npos);
  for (std::size_t cut : {std::size_t(0), std::size_t(5), std::size_t(20), good.size() - 1})
    EXPECT_FALSE(decode_cache_entry(good.substr(0, cut), "k1")) << "cut at " << cut;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    EXPECT_FALSE(decode_cache_entry(bad, "k1")) << "flipped byte " << i;
  }
}

TEST_F(TempDir, StoresAndLoadsWithPrivateDirectory) {
  DiskCache cache(dir_);
  EXPECT_FALSE(cache.load("ab12"));
  ASSERT_TRUE(cache.store("ab12", sample_code()));
  auto back = cache.load("ab12");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->bytes, sample_code().bytes);
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // No temp files are left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(TempDir, TruncatedEntryIsAMissAndCanBeReplaced) {
  DiskCache cache(dir_);
  ASSERT_TRUE(cache.store("cd34", sample_code()));
  fs::resize_file(cache.entry_path("cd34"), 10);
  bool rejected = false;
  EXPECT_FALSE(cache.load("cd34", &rejected));
  EXPECT_TRUE(rejected);
  ASSERT_TRUE(cache.store("cd34", sample_code()));
  EXPECT_TRUE(cache.load("cd34"));
}

TEST_F(TempDir, UnwritableDirectoryReportsFailureWithoutThrowing) {
  // A regular file where the directory should be makes every write fail, even for root.
  fs::create_directories(dir_);
  std::ofstream(dir_ / "blocker") << "x";
  DiskCache cache(dir_ / "blocker" / "cache");
  EXPECT_FALSE(cache.store("ef56", sample_code()));
  EXPECT_FALSE(cache.load("ef56"));
}

}  // namespace
}  // namespace robocache
