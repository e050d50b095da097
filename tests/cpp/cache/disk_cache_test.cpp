#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

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

// A well-formed cache key (64 hex digits) that starts with `prefix`.
std::string key(const std::string& prefix) { return prefix + std::string(64 - prefix.size(), '0'); }

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
  EXPECT_FALSE(cache.load(key("ab12")));
  ASSERT_TRUE(cache.store(key("ab12"), sample_code()));
  auto back = cache.load(key("ab12"));
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
  ASSERT_TRUE(cache.store(key("cd34"), sample_code()));
  fs::resize_file(cache.entry_path(key("cd34")), 10);
  bool rejected = false;
  EXPECT_FALSE(cache.load(key("cd34"), &rejected));
  EXPECT_TRUE(rejected);
  ASSERT_TRUE(cache.store(key("cd34"), sample_code()));
  EXPECT_TRUE(cache.load(key("cd34")));
}

TEST_F(TempDir, UnwritableDirectoryReportsFailureWithoutThrowing) {
  // A regular file where the directory should be makes every write fail, even for root.
  fs::create_directories(dir_);
  std::ofstream(dir_ / "blocker") << "x";
  DiskCache cache(dir_ / "blocker" / "cache");
  EXPECT_FALSE(cache.store(key("ef56"), sample_code()));
  EXPECT_FALSE(cache.load(key("ef56")));
}

// A uid that is not ours (CI runs as root, so chown simulates another user's directory).
constexpr uid_t kOtherUid = 65534;

bool give_away(const fs::path& p) {
  return ::geteuid() != kOtherUid && ::chown(p.c_str(), kOtherUid, static_cast<gid_t>(-1)) == 0;
}

std::size_t entry_count(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".rck" || e.path().extension() == ".lock") ++n;
  return n;
}

TEST_F(TempDir, DirectoryOwnedByAnotherUserIsRefused) {
  DiskCache cache(dir_);
  ASSERT_TRUE(cache.store(key("aa11"), sample_code()));
  if (!give_away(dir_)) GTEST_SKIP() << "cannot chown here (needs root)";
  const std::size_t before = entry_count(dir_);
  ::testing::internal::CaptureStderr();
  bool rejected = true;
  EXPECT_FALSE(cache.load(key("aa11"), &rejected));  // a valid entry, but the directory is untrusted
  EXPECT_FALSE(rejected);
  EXPECT_FALSE(cache.store(key("aa22"), sample_code()));
  EXPECT_FALSE(cache.load(key("aa22")));
  { DiskCache::KeyLock l = cache.lock(key("aa33")); }
  cache.touch(key("aa11"));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(entry_count(dir_), before) << "nothing may be written into a refused directory";
  EXPECT_TRUE(cache.refusal());
  EXPECT_NE(cache.refusal()->find("owned by uid 65534"), std::string::npos) << *cache.refusal();
  // One warning, naming the path and the reason.
  std::size_t warnings = 0;
  for (std::size_t at = 0; (at = err.find("refusing the kernel cache directory", at)) != std::string::npos; ++at)
    ++warnings;
  EXPECT_EQ(warnings, 1u) << err;
  EXPECT_NE(err.find(dir_.string()), std::string::npos) << err;
  EXPECT_NE(err.find("owned by uid 65534"), std::string::npos) << err;
}

TEST_F(TempDir, GroupOrWorldWritableDirectoryIsRefused) {
  for (mode_t mode : {mode_t(0770), mode_t(0707), mode_t(01777)}) {
    fs::remove_all(dir_);
    DiskCache cache(dir_);
    ASSERT_TRUE(cache.store(key("bb11"), sample_code()));
    ASSERT_EQ(::chmod(dir_.c_str(), mode), 0);
    ::testing::internal::CaptureStderr();
    EXPECT_FALSE(cache.load(key("bb11"))) << std::oct << mode;
    EXPECT_FALSE(cache.store(key("bb22"), sample_code())) << std::oct << mode;
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(fs::exists(cache.entry_path(key("bb22"))));
    ASSERT_TRUE(cache.refusal());
    EXPECT_NE(cache.refusal()->find("writable by group or others"), std::string::npos);
    // Back to private: trusted again.
    ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
    EXPECT_FALSE(cache.refusal());
    EXPECT_TRUE(cache.load(key("bb11"))) << std::oct << mode;
    (void)err;
  }
}

TEST_F(TempDir, DirectoryMadeByStoreIsPrivateEvenWithPermissiveUmask) {
  const mode_t old = ::umask(0);
  DiskCache cache(dir_);
  const bool stored = cache.store(key("cc11"), sample_code());
  ::umask(old);
  ASSERT_TRUE(stored);
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_FALSE(cache.refusal());
}

TEST_F(TempDir, EntryOwnedByAnotherUserIsRefusedAndNeverLoaded) {
  DiskCache cache(dir_);
  ASSERT_TRUE(cache.store(key("dd11"), sample_code()));
  if (!give_away(cache.entry_path(key("dd11")))) GTEST_SKIP() << "cannot chown here (needs root)";
  ::testing::internal::CaptureStderr();
  bool rejected = false;
  EXPECT_FALSE(cache.load(key("dd11"), &rejected));
  EXPECT_TRUE(rejected);  // counted with the bad entries
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("refusing cache entry"), std::string::npos) << err;
  EXPECT_NE(err.find(cache.entry_path(key("dd11")).string()), std::string::npos) << err;
  // A fresh store replaces it with one of ours (rename over the foreign file).
  ASSERT_TRUE(cache.store(key("dd11"), sample_code()));
  EXPECT_TRUE(cache.load(key("dd11")));
}

TEST_F(TempDir, SymlinkedEntryIsRefused) {
  DiskCache cache(dir_);
  ASSERT_TRUE(cache.store(key("ee11"), sample_code()));
  ASSERT_TRUE(cache.store(key("ee22"), sample_code()));
  fs::remove(cache.entry_path(key("ee22")));
  fs::create_symlink(cache.entry_path(key("ee11")), cache.entry_path(key("ee22")));
  bool rejected = false;
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(cache.load(key("ee22"), &rejected));
  ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(rejected);
}

TEST_F(TempDir, MalformedKeysAreNeverWrittenOrRead) {
  DiskCache cache(dir_);
  ::testing::internal::CaptureStderr();
  for (const std::string bad : {std::string("./../../../x/") + std::string(52, 'a'), std::string(63, 'a'),
                                std::string(64, 'A'), std::string(64, 'g'), std::string("")}) {
    EXPECT_FALSE(cache.store(bad, sample_code())) << bad;
    EXPECT_FALSE(cache.load(bad)) << bad;
    EXPECT_FALSE(cache.lock(bad).held()) << bad;
  }
  ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(fs::exists(dir_)) << "nothing may be created for a malformed key";
  EXPECT_TRUE(is_cache_key(std::string(64, 'f')));
}

TEST_F(TempDir, LockFileIsRemovedWhenReleased) {
  DiskCache cache(dir_);
  const fs::path lock_file = cache.entry_path(key("ab")).parent_path() / (key("ab") + ".lock");
  {
    DiskCache::KeyLock l = cache.lock(key("ab"));
    ASSERT_TRUE(l.held());
    EXPECT_TRUE(fs::exists(lock_file));
  }
  EXPECT_FALSE(fs::exists(lock_file));
  EXPECT_TRUE(cache.lock(key("ab")).held()) << "a fresh lock after a removed one";
}

TEST_F(TempDir, LockWaitGivesUpAfterTheTimeoutNamingTheHolder) {
  DiskCache cache(dir_);
  DiskCache::KeyLock holder = cache.lock(key("cd"));
  ASSERT_TRUE(holder.held());
  ::testing::internal::CaptureStderr();
  DiskCache::KeyLock waiter = cache.lock(key("cd"), 0.2);  // a second open file: flock conflicts
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(waiter.held());
  EXPECT_NE(err.find("held by pid " + std::to_string(::getpid())), std::string::npos) << err;
}

TEST_F(TempDir, ShardFolderOfAnotherUserIsRefused) {
  DiskCache cache(dir_);
  ASSERT_TRUE(cache.store(key("ef"), sample_code()));
  const fs::path shard = cache.entry_path(key("ef")).parent_path();
  ASSERT_EQ(::chmod(shard.c_str(), 0777), 0);
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(cache.load(key("ef"))) << "a shard writable by others is not read";
  EXPECT_FALSE(cache.store(key("ef"), sample_code()));
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("refusing the kernel cache folder"), std::string::npos) << err;
  ASSERT_EQ(::chmod(shard.c_str(), 0700), 0);
  EXPECT_TRUE(cache.load(key("ef")));
  if (!give_away(shard)) GTEST_SKIP() << "cannot chown here (needs root)";
  EXPECT_FALSE(cache.load(key("ef"))) << "a shard owned by another user is not read";
}

}  // namespace
}  // namespace robocache
