// Code size of the CPU backend's resample IR against the number of channel groups (issue 14,
// item 4): the generated IR grows linearly with the groups, and runs of one mode (16384 slerp
// quaternions at the documented maximum of 65536 channels) cost one loop, not one copy each.
// Compile time itself is a benchmark (bench/compile_groups.py), not a test.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/backend.h"

namespace robocache {
namespace {

class ResampleIrSize : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
    backend = make_cpu_backend();
  }

  // Instructions in the generated (unoptimised) IR: its indented lines.
  std::size_t ir_instructions(const ResampleSpec& s) {
    Spec spec(s);
    const std::string text = backend->generate(spec, backend->default_config(spec)).text;
    std::size_t n = 0;
    for (std::size_t at = text.find("\n  "); at != std::string::npos; at = text.find("\n  ", at + 1)) ++n;
    return n;
  }

  // `pairs` repetitions of (one previous channel, one slerp quaternion): every group starts a new run.
  static ResampleSpec alternating(std::int64_t pairs) {
    ResampleSpec s;
    s.dim = pairs * 5;
    for (std::int64_t i = 0; i < pairs; ++i) {
      s.groups.push_back({i * 5, 1, Interp::Previous});
      s.groups.push_back({i * 5 + 1, 4, Interp::Slerp});
    }
    return s;
  }

  static ResampleSpec slerps(std::int64_t quaternions) {
    ResampleSpec s;
    s.dim = quaternions * 4;
    for (std::int64_t i = 0; i < quaternions; ++i) s.groups.push_back({i * 4, 4, Interp::Slerp});
    return s;
  }

  std::shared_ptr<Backend> backend;
};

TEST_F(ResampleIrSize, GrowsLinearlyWithAlternatingGroups) {
  const std::size_t n64 = ir_instructions(alternating(64));
  const std::size_t n128 = ir_instructions(alternating(128));
  const std::size_t n256 = ir_instructions(alternating(256));
  // Each extra pair of groups adds the same amount of code: the step from 128 to 256 pairs is
  // twice the step from 64 to 128 (a quadratic generator would make it four times).
  const double step1 = static_cast<double>(n128 - n64), step2 = static_cast<double>(n256 - n128);
  ASSERT_GT(step1, 0.0);
  EXPECT_NEAR(step2 / step1, 2.0, 0.05) << n64 << " " << n128 << " " << n256;
  // And the per-pair cost is bounded (a slerp and a copy loop), independent of the spec's size.
  EXPECT_LT(step2 / 128.0, 200.0);
}

TEST_F(ResampleIrSize, RunsOfOneModeCostOneLoop) {
  const std::size_t two = ir_instructions(slerps(2));
  const std::size_t at_the_maximum = ir_instructions(slerps(16384));  // dim 65536, the documented maximum
  EXPECT_EQ(at_the_maximum, two);
  ResampleSpec linear_groups;
  linear_groups.dim = 4096;
  for (std::int64_t i = 0; i < 4096; ++i) linear_groups.groups.push_back({i, 1, Interp::Linear});
  ResampleSpec one_group;
  one_group.dim = 4096;
  EXPECT_EQ(ir_instructions(linear_groups), ir_instructions(one_group));
}

}  // namespace
}  // namespace robocache
