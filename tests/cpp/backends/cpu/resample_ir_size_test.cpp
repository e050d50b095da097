// Code size of the CPU backend's resample IR against the number of channel groups (issue 14,
// item 4): the generated IR grows linearly with the groups (code per run of one mode up to 32
// runs, then a table row per run), and a run of one mode (16384 slerp quaternions at the
// documented maximum of 65536 channels) costs one loop, not one copy per group.
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

  std::string ir(const ResampleSpec& s) {
    Spec spec(s);
    return backend->generate(spec, backend->default_config(spec)).text;
  }
  std::size_t ir_bytes(const ResampleSpec& s) { return ir(s).size(); }

  // Instructions in the generated (unoptimised) IR: its indented lines.
  std::size_t ir_instructions(const ResampleSpec& s) {
    const std::string text = ir(s);
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

TEST_F(ResampleIrSize, GrowsLinearlyWithFewModeChanges) {
  // Up to 32 runs of one mode each run gets its own code: each extra pair of groups adds the same
  // amount, so the step from 8 to 16 pairs is twice the step from 4 to 8 (a quadratic generator
  // would make it four times).
  const std::size_t n4 = ir_instructions(alternating(4));
  const std::size_t n8 = ir_instructions(alternating(8));
  const std::size_t n16 = ir_instructions(alternating(16));
  const double step1 = static_cast<double>(n8 - n4), step2 = static_cast<double>(n16 - n8);
  ASSERT_GT(step1, 0.0);
  EXPECT_NEAR(step2 / step1, 2.0, 0.05) << n4 << " " << n8 << " " << n16;
}

TEST_F(ResampleIrSize, ManyModeChangesShareOneLoopOverATableThatGrowsLinearly) {
  // Past 32 runs one loop walks a table of runs: the instructions stop growing, and the text
  // (which holds the table, one row per run) grows linearly.
  EXPECT_EQ(ir_instructions(alternating(64)), ir_instructions(alternating(4096)));
  const double b1 = static_cast<double>(ir_bytes(alternating(1024))), b2 = static_cast<double>(ir_bytes(alternating(2048))),
               b4 = static_cast<double>(ir_bytes(alternating(4096)));
  EXPECT_NEAR((b4 - b2) / (b2 - b1), 2.0, 0.1) << b1 << " " << b2 << " " << b4;
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
