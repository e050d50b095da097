// Element counts that overflow int64 (or the 2^60 index budget) are rejected with ArgumentError
// before anything launches. The views carry fake pointers: nothing is allocated or read.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "support/errors.h"
#include "runtime/array_checks.h"
#include "runtime/op_binding.h"

namespace robocache {
namespace {

const void* fake(std::uintptr_t p = 0x1000) { return reinterpret_cast<const void*>(p); }
constexpr std::int64_t kBig = std::int64_t(1) << 40;  // each fits; their products do not
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

template <typename F>
std::string argument_of(F&& f) {
  try {
    f();
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find(e.argument()), std::string::npos);
    return e.argument();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ArgumentError, got: " << e.what();
    return "<other>";
  }
  ADD_FAILURE() << "expected ArgumentError, nothing was thrown";
  return "<none>";
}

TEST(Limits, ElementCount) {
  EXPECT_EQ(checks::element_count("x", {}), 1);
  EXPECT_EQ(checks::element_count("x", {2, 3, 4}), 24);
  EXPECT_EQ(checks::element_count("x", {kMax, 0}), 0);
  EXPECT_EQ(checks::element_count("x", {checks::kMaxElements}), checks::kMaxElements);
  EXPECT_EQ(argument_of([] { checks::element_count("x", {checks::kMaxElements + 1}); }), "x");
  EXPECT_EQ(argument_of([] { checks::element_count("x", {kBig, kBig}); }), "x");
  EXPECT_EQ(argument_of([] { checks::element_count("x", {kMax, kMax, kMax}); }), "x");
  EXPECT_EQ(argument_of([] { checks::element_count("x", {3, -1}); }), "x");
  // 2^32 * 2^32 wraps to 0 in int64 arithmetic: must not pass as "empty".
  EXPECT_EQ(argument_of([] { checks::element_count("x", {std::int64_t(1) << 32, std::int64_t(1) << 32}); }), "x");
}

Spec resample_spec(std::int64_t dim) {
  ResampleSpec r;
  r.dim = dim;
  return Spec(r);
}

TEST(Limits, ResampleInputShapeOverflow) {
  const Spec spec = resample_spec(4);
  ArrayView data{fake(), DType::F32, {kBig, kBig, 4}, {}};
  ArrayView src{fake(), DType::F64, {kBig}, {}};
  ArrayView tgt{fake(), DType::F64, {8}, {}};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {data, src, tgt}, {}); }), "data");
}

TEST(Limits, ResampleOutputOverflow) {
  // Inputs are each modest; the output B * T * D is not.
  const Spec spec = resample_spec(1 << 16);
  ArrayView data{fake(), DType::F32, {1 << 16, 2, 1 << 16}, {}};
  ArrayView src{fake(), DType::F64, {2}, {}};
  ArrayView tgt{fake(), DType::F64, {std::int64_t(1) << 31}, {}};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {data, src, tgt}, {}); }), "out");
  ArrayView out{fake(), DType::F32, {1 << 16, std::int64_t(1) << 31, 1 << 16}, {}};
  EXPECT_EQ(argument_of([&] { bind_launches(spec, {data, src, tgt}, {}, out, false); }), "out");
}

TEST(Limits, ResampleTimesOverflow) {
  const Spec spec = resample_spec(1);
  ArrayView data{fake(), DType::F32, {2, 2, 1}, {}};
  ArrayView src{fake(), DType::F64, {2}, {}};
  ArrayView tgt{fake(), DType::F64, {kBig, kBig}, {}};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {data, src, tgt}, {}); }), "tgt_times");
}

TEST(Limits, FuseSumOfDimsTimesBT) {
  FuseSpec f;
  f.modalities = {{1 << 15, Interp::Linear}, {1 << 15, Interp::Linear}};  // sum 2^16
  const Spec spec(f);
  const std::int64_t B = std::int64_t(1) << 20, T = std::int64_t(1) << 25;  // B*T*2^16 = 2^61
  ArrayView tgt{fake(), DType::F64, {T}, {}};
  ArrayView d0{fake(), DType::F32, {B, 1, 1 << 15}, {}}, d1 = d0;
  ArrayView t0{fake(), DType::F64, {1}, {}}, t1 = t0;
  ArrayView none{};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {tgt, d0, t0, none, d1, t1, none}, {}); }), "out");
  ArrayView huge{fake(), DType::F32, {kBig, kBig, 1 << 15}, {}};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {tgt, huge, t0, none, d1, t1, none}, {}); }),
            "streams[0].data");
}

TEST(Limits, VoxelizeGridAndBatch) {
  VoxelizeSpec v;
  v.mode = VoxelMode::Mean;
  v.features = 8;
  const Spec spec(v);
  ArrayView pts{fake(), DType::F32, {16, 3}, {}};
  ArrayView feats{fake(), DType::F32, {16, 8}, {}};
  ArrayView none{};
  auto grid = [](double x, double y, double z) { return std::vector<double>{0, 0, 0, 1, 1, 1, x, y, z}; };
  EXPECT_NO_THROW(plan_output(spec, {pts, feats, none, none}, grid(4, 4, 4)));
  EXPECT_EQ(argument_of([&] { plan_output(spec, {pts, feats, none, none}, grid(1 << 20, 1 << 20, 1 << 20)); }),
            "grid_shape");
  EXPECT_EQ(argument_of([&] { plan_output(spec, {pts, feats, none, none}, grid(1e30, 1, 1)); }), "grid_shape");
  EXPECT_EQ(argument_of([&] { plan_output(spec, {pts, feats, none, none}, grid(1e300, 1e300, 1e300)); }),
            "grid_shape");
  // A batch with no points: B is bounded only by the B * cells * F check.
  ArrayView bpts{fake(), DType::F32, {std::int64_t(1) << 60, 0, 3}, {}};
  ArrayView bfeats{fake(), DType::F32, {std::int64_t(1) << 60, 0, 8}, {}};
  const std::string arg = argument_of([&] { plan_output(spec, {bpts, bfeats, none, none}, grid(2, 2, 2)); });
  EXPECT_TRUE(arg == "points" || arg == "grid_shape") << arg;
  ArrayView many{fake(), DType::F32, {kBig, kBig, 3}, {}};
  EXPECT_EQ(argument_of([&] { plan_output(spec, {many, feats, none, none}, grid(2, 2, 2)); }), "points");
}

}  // namespace
}  // namespace robocache
