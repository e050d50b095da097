// Which config Engine::compile uses: an explicit one, else the tuning database's best, else the
// backend's heuristic; and each config is its own kernel.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "cache/cache_key.h"
#include "compiler/generator_identity.h"
#include "runtime/engine.h"

namespace fs = std::filesystem;

namespace robocache {
namespace {

Spec small_spec() {
  ResampleSpec r;
  r.dim = 3;
  return Spec(r);
}

class EngineConfig : public ::testing::Test {
 protected:
  void SetUp() override {
#if !ROBOCACHE_HAVE_LLVM
    GTEST_SKIP() << "built without LLVM: no CPU backend";
#endif
    ::unsetenv("ROBOCACHE_TUNING_DB");
    dir_ = fs::temp_directory_path() / ("rc-engine-config-" + std::to_string(std::random_device{}()));
    fs::remove_all(dir_);
    CacheOptions o;
    o.dir = dir_;
    engine_ = std::make_unique<Engine>(o);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Config tuned_config() const {
    Config c = engine_->backend("cpu")->default_config(small_spec());
    c.cpu_grain = c.cpu_grain == 16 ? 64 : 16;
    return c;
  }

  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineConfig, WithoutTuningTheHeuristicIsUsed) {
  auto k = engine_->compile(small_spec(), "cpu");
  EXPECT_EQ(k->object_code().config, engine_->backend("cpu")->default_config(small_spec()));
}

TEST_F(EngineConfig, TheStoredBestIsUsedAndWrittenToTheCacheDirectory) {
  TuningEntry e;
  e.key = engine_->tuning_key(small_spec(), "cpu");
  e.best = tuned_config();
  engine_->update_tuning([&](TuningDb& db) { db.put(e); });
  EXPECT_EQ(engine_->tuning_path(), dir_ / "tuning.json");
  EXPECT_TRUE(fs::exists(dir_ / "tuning.json"));
  EXPECT_EQ(engine_->compile(small_spec(), "cpu")->object_code().config, tuned_config());

  // A fresh engine on the same directory reads it back.
  CacheOptions o;
  o.dir = dir_;
  Engine fresh(o);
  EXPECT_EQ(fresh.choose_config(small_spec(), "cpu"), tuned_config());
}

TEST_F(EngineConfig, AnExplicitConfigWinsOverTheStoredBest) {
  TuningEntry e;
  e.key = engine_->tuning_key(small_spec(), "cpu");
  e.best = tuned_config();
  engine_->update_tuning([&](TuningDb& db) { db.put(e); });
  Config mine = tuned_config();
  mine.cpu_grain = 4096;
  auto k = engine_->compile(small_spec(), "cpu", mine);
  EXPECT_EQ(k->object_code().config, mine);
}

// The last link from a generator file to the key: the engine folds the backend's generator identity
// (the content hash of its generator files and templates, compiler/generator_identity.h) into every
// kernel's key, so an edited generator or template is never served from an older build's cache.
TEST_F(EngineConfig, TheKeyFoldsInTheGeneratorsContentHash) {
  auto backend = engine_->backend("cpu");
  auto k = engine_->compile(small_spec(), "cpu");
  CacheKeyParts parts{small_spec().canonical_json(), k->object_code().config.canonical_json(),
                      backend->target().identity(), backend->toolchain(), backend->generator_identity()};
  EXPECT_EQ(k->key(), cache_key(parts));
  EXPECT_NE(backend->generator_identity().find(cpu_generator_hash()), std::string::npos);
  parts.generator = "llvm-ir:" + std::string(64, '0');
  EXPECT_NE(k->key(), cache_key(parts));
}

TEST_F(EngineConfig, EachConfigIsItsOwnKernel) {
  Config a = tuned_config(), b = tuned_config();
  b.cpu_grain = a.cpu_grain * 4;
  auto ka = engine_->compile(small_spec(), "cpu", a);
  auto kb = engine_->compile(small_spec(), "cpu", b);
  EXPECT_NE(ka->key(), kb->key());
  EXPECT_EQ(engine_->compile(small_spec(), "cpu", a).get(), ka.get());
}

TEST_F(EngineConfig, ADamagedDatabaseFallsBackToTheHeuristic) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::owner_all);
  std::ofstream(dir_ / "tuning.json") << "{not json";
  EXPECT_EQ(engine_->choose_config(small_spec(), "cpu"), engine_->backend("cpu")->default_config(small_spec()));
}

TEST_F(EngineConfig, CpuKeyUsesTheThreadPoolSize) {
  const TuningKey k = engine_->tuning_key(small_spec(), "cpu");
  EXPECT_EQ(k.target, "cpu");
  EXPECT_GE(k.sm_count, 1);
  EXPECT_EQ(k.spec_hash, small_spec().hash());
}

TEST_F(EngineConfig, CpuConfigSpaceStartsWithTheHeuristicAndHasNoRepeats) {
  auto be = engine_->backend("cpu");
  const auto space = be->config_space(small_spec());
  ASSERT_GE(space.size(), 2u);
  EXPECT_EQ(space.front(), be->default_config(small_spec()));
  for (std::size_t i = 0; i < space.size(); ++i)
    for (std::size_t j = i + 1; j < space.size(); ++j) EXPECT_NE(space[i], space[j]);
}

}  // namespace
}  // namespace robocache
