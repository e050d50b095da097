// The tuning database: one entry per key, the offline (sm_count 0) lookup, merge, and its file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "cache/tuning_db.h"

namespace fs = std::filesystem;

namespace robocache {
namespace {

TuningEntry entry(int sm, int grain, const std::string& toolchain = "nvrtc 13.0") {
  TuningEntry e;
  e.key = {"abc123", "sm_90", sm, toolchain};
  e.best.cpu_grain = grain;
  e.spec_json = R"({"op":"resample"})";
  e.shapes = Json::parse(R"([[[4,100,7],[4,100],[4,50]]])");
  e.timings = {{Config(), 20.0}, {e.best, 10.0}};
  e.heuristic_us = 20.0;
  return e;
}

TEST(TuningDb, PutReplacesTheEntryWithTheSameKey) {
  TuningDb db;
  db.put(entry(132, 64));
  db.put(entry(132, 1024));
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(db.find(entry(132, 0).key)->best.cpu_grain, 1024);
  EXPECT_FALSE(db.entries()[0].date.empty());  // put() dates undated entries
}

TEST(TuningDb, ExactKeyMustMatchWhenTheSmCountIsKnown) {
  TuningDb db;
  db.put(entry(132, 64));
  EXPECT_FALSE(db.find(entry(114, 0).key));
  EXPECT_FALSE(db.find(entry(132, 0, "nvrtc 12.8").key));
}

TEST(TuningDb, UnknownSmCountTakesTheLargestGpu) {
  TuningDb db;
  db.put(entry(114, 16));
  db.put(entry(132, 64));
  db.put(entry(78, 256));
  db.put(entry(200, 4096, "nvrtc 12.8"));  // another toolchain never matches
  EXPECT_EQ(db.find(entry(0, 0).key)->best.cpu_grain, 64);
}

TEST(TuningDb, MergeLetsIncomingEntriesWin) {
  TuningDb mine, theirs;
  mine.put(entry(132, 64));
  mine.put(entry(114, 16));
  theirs.put(entry(132, 4096));
  EXPECT_EQ(mine.merge(theirs), 1);
  EXPECT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine.find(entry(132, 0).key)->best.cpu_grain, 4096);
  EXPECT_EQ(mine.find(entry(114, 0).key)->best.cpu_grain, 16);
}

TEST(TuningDb, EraseRemovesOnlyThatKey) {
  TuningDb db;
  db.put(entry(132, 64));
  db.put(entry(114, 16));
  EXPECT_TRUE(db.erase(entry(132, 0).key));
  EXPECT_FALSE(db.erase(entry(132, 0).key));
  EXPECT_EQ(db.size(), 1u);
}

class TuningDbFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rc-tuning-test-" + std::to_string(std::random_device{}()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TuningDbFile, SaveThenLoadGivesTheSameEntries) {
  TuningDb db;
  db.put(entry(132, 64));
  db.put(entry(114, 16));
  const fs::path p = dir_ / "sub" / "tuning.json";
  db.save(p);
  TuningDb back = TuningDb::load(p);
  EXPECT_EQ(back.to_json().dump(), db.to_json().dump());
  EXPECT_EQ(back.entries()[1].timings[1].median_us, 10.0);
  int files = 0;
  for (const auto& f : fs::directory_iterator(p.parent_path())) files += f.is_regular_file();
  EXPECT_EQ(files, 1) << "the temp file must be renamed away";
  EXPECT_EQ(fs::status(p.parent_path()).permissions() & fs::perms::others_all, fs::perms::none);
}

TEST_F(TuningDbFile, MissingFileIsEmptyAndDamagedFileIsAnError) {
  EXPECT_EQ(TuningDb::load(dir_ / "absent.json").size(), 0u);
  fs::create_directories(dir_);
  std::ofstream(dir_ / "bad.json") << R"({"format":"robocache-tuning/1","entries":[{"spec_hash":1}]})";
  EXPECT_THROW(TuningDb::load(dir_ / "bad.json"), std::invalid_argument);
  std::ofstream(dir_ / "other.json") << R"({"format":"something-else","entries":[]})";
  EXPECT_THROW(TuningDb::load(dir_ / "other.json"), std::invalid_argument);
}

TEST_F(TuningDbFile, BadConfigInAFileIsRejected) {
  TuningDb db;
  db.put(entry(132, 64));
  std::string text = db.to_json().dump();
  const std::string good = R"("vector_width":1)";
  text.replace(text.find(good), good.size(), R"("vector_width":3)");
  fs::create_directories(dir_);
  std::ofstream(dir_ / "t.json") << text;
  EXPECT_THROW(TuningDb::load(dir_ / "t.json"), std::invalid_argument);
}

TEST(TuningDbPath, EnvironmentVariableWinsOverTheCacheDirectory) {
  ::unsetenv("ROBOCACHE_TUNING_DB");
  EXPECT_EQ(tuning_db_path("/c"), fs::path("/c/tuning.json"));
  EXPECT_TRUE(tuning_db_path("").empty());
  ::setenv("ROBOCACHE_TUNING_DB", "/shipped/tuning.json", 1);
  EXPECT_EQ(tuning_db_path("/c"), fs::path("/shipped/tuning.json"));
  ::unsetenv("ROBOCACHE_TUNING_DB");
}

}  // namespace
}  // namespace robocache
