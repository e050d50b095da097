// The public C++ API (include/robocache/): specs from JSON or builders, engine options, compile,
// plan and run on raw pointers, and the exceptions a consumer catches. Uses only public headers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <robocache/robocache.h>

namespace fs = std::filesystem;
namespace rc = robocache::api;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("robocache-api-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(PublicSpec, BuilderGivesTheSameSpecAsItsJson) {
  rc::Resample r;
  r.dim = 8;
  r.groups = {{0, 3, "linear"}, {3, 4, "slerp"}, {7, 1, "previous"}};
  const rc::Spec built(r);
  const rc::Spec parsed = rc::Spec::parse(
      R"({"op":"resample","dtype":"f32","dim":8,"groups":[{"start":0,"size":3,"interp":"linear"},)"
      R"({"start":3,"size":4,"interp":"slerp"},{"start":7,"size":1,"interp":"previous"}]})");
  EXPECT_EQ(built.to_json(), parsed.to_json());
  EXPECT_EQ(built.hash(), parsed.hash());
  EXPECT_EQ(built.op(), "resample");
}

TEST(PublicSpec, AsResampleReadsTheChannelLayoutBack) {
  const rc::Spec spec = rc::Spec::parse(
      R"({"op":"resample","dtype":"f64","time_dtype":"f32","dim":5,"groups":[{"start":0,"size":1,"interp":"nearest"},)"
      R"({"start":1,"size":4,"interp":"slerp"}]})");
  auto r = spec.as_resample();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->dtype, rc::DType::F64);
  EXPECT_EQ(r->time_dtype, rc::DType::F32);
  ASSERT_EQ(r->groups.size(), 2u);
  EXPECT_EQ(r->groups[1].start, 1);
  EXPECT_EQ(r->groups[1].interp, "slerp");
  EXPECT_FALSE(spec.as_fuse().has_value());
  EXPECT_FALSE(spec.as_voxelize().has_value());
}

TEST(PublicSpec, FuseAndVoxelizeBuildersRoundTrip) {
  const rc::Spec fuse(rc::Fuse{rc::DType::F32, rc::DType::F64, {{7, "linear"}, {4, "slerp"}}});
  ASSERT_TRUE(fuse.as_fuse().has_value());
  EXPECT_EQ(fuse.as_fuse()->modalities[1].interp, "slerp");
  const rc::Spec vox(rc::Voxelize{"mean", 3, rc::DType::F32, rc::DType::F64});
  ASSERT_TRUE(vox.as_voxelize().has_value());
  EXPECT_EQ(vox.as_voxelize()->mode, "mean");
  EXPECT_EQ(vox.as_voxelize()->out_dtype, rc::DType::F64);
}

TEST(PublicSpec, BadBuilderFieldThrowsSpecErrorNamingIt) {
  rc::Resample r;
  r.dim = 8;
  r.groups = {{0, 3, "linear"}, {3, 3, "slerp"}, {6, 2, "previous"}};
  try {
    rc::Spec spec(r);
    FAIL() << "expected SpecError";
  } catch (const robocache::SpecError& e) {
    EXPECT_EQ(e.field(), "groups[1].size");
  }
  EXPECT_THROW(rc::Spec::parse(R"({"op":"resample","dtype":"f32","interp":"wobbly"})"), robocache::SpecError);
}

TEST(PublicSpec, LoadNamesAMissingFile) {
  try {
    rc::Spec::load("/nonexistent/robot.json");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/robot.json"), std::string::npos) << e.what();
  }
}

TEST(PublicEngine, OptionsFromEnvironmentReadTheCacheVariables) {
  ::setenv("ROBOCACHE_CACHE_DIR", "/tmp/robocache-api-env", 1);
  ::setenv("ROBOCACHE_CACHE_MODE", "strict", 1);
  const rc::EngineOptions o = rc::EngineOptions::from_environment();
  ::unsetenv("ROBOCACHE_CACHE_DIR");
  ::unsetenv("ROBOCACHE_CACHE_MODE");
  EXPECT_EQ(o.cache_dir, fs::path("/tmp/robocache-api-env"));
  EXPECT_EQ(o.cache_mode, rc::CacheMode::Strict);
}

TEST(PublicEngine, NegativeThreadCountIsAnArgumentError) {
  rc::EngineOptions o;
  o.cache_dir.clear();
  o.threads = -1;
  try {
    rc::Engine engine(o);
    FAIL() << "expected ArgumentError";
  } catch (const robocache::ArgumentError& e) {
    EXPECT_EQ(e.argument(), "threads");
  }
}

// The CPU pool is process-wide, so this runs in a forked child that starts without one.
TEST(PublicEngine, ThreadsSizeTheProcessPoolAndAConflictingCountIsAnArgumentError) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(
      {
        rc::EngineOptions o;
        o.cache_dir.clear();
        o.threads = 3;
        rc::Engine first(o);
        rc::Engine same(o);  // the same count again is fine
        o.threads = 5;
        try {
          rc::Engine other(o);
          std::exit(1);
        } catch (const robocache::ArgumentError& e) {
          std::exit(e.argument() == "threads" && std::string(e.what()).find("3 threads") != std::string::npos ? 0 : 2);
        }
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(PublicEngine, UnknownTargetIsRejected) {
  rc::EngineOptions o;
  o.cache_dir.clear();
  rc::Engine engine(o);
  EXPECT_THROW(engine.compile(rc::Spec(rc::Resample{}), "tpu"), std::invalid_argument);
}

TEST(PublicEngine, StrictModeMissThrowsCacheMissError) {
  rc::EngineOptions o;
  o.cache_dir = fresh_dir("strict");
  o.cache_mode = rc::CacheMode::Strict;
  rc::Engine engine(o);
  EXPECT_THROW(engine.compile(rc::Spec(rc::Resample{}), "sm_90"), robocache::CacheMissError);
  fs::remove_all(o.cache_dir);
}

TEST(PublicKernel, CpuResamplePlansRunsAndInterpolates) {
#if !ROBOCACHE_HAVE_LLVM
  GTEST_SKIP() << "built without LLVM: no CPU backend";
#else
  rc::EngineOptions o;
  o.cache_dir = fresh_dir("cpu");
  rc::Engine engine(o);
  rc::Resample r;
  r.dtype = rc::DType::F64;
  r.dim = 2;
  const rc::Kernel k = engine.compile(r, "cpu");
  EXPECT_EQ(k.target(), "cpu");
  EXPECT_EQ(k.origin(), "compiled");
  EXPECT_EQ(k.spec().to_json(), rc::Spec(r).to_json());

  const std::vector<double> data = {0, 10, 1, 20, 3, 40};  // [1,3,2]
  const std::vector<double> src = {0.0, 1.0, 2.0}, tgt = {0.5, 1.25, 5.0};
  const std::vector<rc::Array> in = {rc::Array(data.data(), {1, 3, 2}), rc::Array(src.data(), {3}),
                                     rc::Array(tgt.data(), {3})};
  const rc::OutputPlan plan = k.plan(in);
  EXPECT_EQ(plan.shape, (std::vector<std::int64_t>{1, 3, 2}));
  EXPECT_EQ(plan.dtype, rc::DType::F64);
  std::vector<double> out(plan.numel());
  k.run(in, rc::Array(out.data(), plan.shape));
  const std::vector<double> expect = {0.5, 15, 1.5, 25, 3, 40};
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_DOUBLE_EQ(out[i], expect[i]) << i;

  // A second engine on the same directory finds the kernel on disk.
  rc::Engine warm(o);
  EXPECT_EQ(warm.compile(r, "cpu").origin(), "directory");
  fs::remove_all(o.cache_dir);
#endif
}

TEST(PublicKernel, WrongShapeIsAnArgumentErrorNamingTheArray) {
#if !ROBOCACHE_HAVE_LLVM
  GTEST_SKIP() << "built without LLVM: no CPU backend";
#else
  rc::EngineOptions o;
  o.cache_dir.clear();
  rc::Engine engine(o);
  rc::Resample r;
  r.dim = 3;
  const rc::Kernel k = engine.compile(r, "cpu");
  std::vector<float> data(2 * 4 * 2);
  std::vector<double> src(4), tgt(2);
  try {
    k.plan({rc::Array(data.data(), {2, 4, 2}), rc::Array(src.data(), {4}), rc::Array(tgt.data(), {2})});
    FAIL() << "expected ArgumentError";
  } catch (const robocache::ArgumentError& e) {
    EXPECT_EQ(e.argument(), "data") << e.what();
  }
#endif
}

}  // namespace
