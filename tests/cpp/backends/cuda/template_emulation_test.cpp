// Runs templates/resample.cuh itself on the host: one host thread per CUDA thread of a block and
// a barrier for __syncthreads, so its tiling, shared-memory hand-off, grid-stride loop and
// numerics are checked on machines without a GPU. Device-only details (inline PTX, the actual
// launch) are covered by the Gpu* tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <memory>
#include <bit>
#include <cmath>
#include <thread>

#include "compiler/backend.h"
#include "compiler/fuse_abi.h"
#include "compiler/resample_abi.h"
#include "tests/cpp/backends/cuda/mode_reference.h"
#include "tests/cpp/backends/cuda/resample_problem.h"

// The CUDA spellings the template uses, as host code.
struct EmulatedDim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local EmulatedDim3 threadIdx, blockIdx;
inline EmulatedDim3 gridDim;
inline thread_local std::barrier<>* emulated_block_barrier = nullptr;
// __syncwarp: the 32 threads of a warp meet.
inline thread_local std::barrier<>* emulated_warp_barrier = nullptr;
inline void __syncwarp() { emulated_warp_barrier->arrive_and_wait(); }
// __syncthreads_or: every thread posts its predicate, the block meets, all read, and meet again
// before thread 0 clears the slot for the next call.
inline std::atomic<int> emulated_block_or{0};
inline int __syncthreads_or(int pred) {
  if (pred) emulated_block_or.store(1);
  emulated_block_barrier->arrive_and_wait();
  const int any = emulated_block_or.load();
  emulated_block_barrier->arrive_and_wait();
  if (threadIdx.x == 0) emulated_block_or.store(0);
  emulated_block_barrier->arrive_and_wait();
  return any;
}
inline void __threadfence_system() {}
// Dynamic shared memory of the emulated launch (0 bytes: nothing staged).
inline unsigned emulated_dynamic_smem_bytes = 0;
alignas(16) inline unsigned char emulated_dynamic_smem[49152];

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static  // one block runs at a time, so function statics are its shared memory
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __syncthreads() emulated_block_barrier->arrive_and_wait()

inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
using std::acos;
using std::sin;
inline float __fsub_rn(float a, float b) { return a - b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float __double2float_rn(double d) { return static_cast<float>(d); }
inline float __int_as_float(int i) { return std::bit_cast<float>(i); }
inline float __uint_as_float(unsigned u) { return std::bit_cast<float>(u); }
inline unsigned __float_as_uint(float f) { return std::bit_cast<unsigned>(f); }
inline double __longlong_as_double(long long i) { return std::bit_cast<double>(i); }

#include "templates/common.cuh"
#include "templates/resample.cuh"

#undef __syncthreads
#undef __launch_bounds__
#undef __restrict__
#undef __shared__
#undef __forceinline__
#undef __device__
#undef __global__

namespace robocache {
namespace {

using testing::BF16Bits;
using testing::F16Bits;
using testing::Problem;

template <class V> struct KernelType { using type = V; };
template <> struct KernelType<F16Bits> { using type = robocache::f16; };
template <> struct KernelType<BF16Bits> { using type = robocache::bf16; };

// Copies host values into the storage type the template names (same bits, no aliasing).
template <class To, class From>
std::vector<To> as_storage(const std::vector<From>& in) {
  static_assert(sizeof(To) == sizeof(From));
  std::vector<To> out(in.size());
  if (!in.empty()) std::memcpy(out.data(), in.data(), in.size() * sizeof(From));
  return out;
}

// Runs grid blocks of BlockThreads threads one block after another, as a GPU may.
template <int BlockThreads>
void run_blocks(void (*kernel)(RcArgs), const KernelArgs& a, unsigned grid) {
  RcArgs args;
  static_assert(sizeof(args) == sizeof(a.slots), "RcArgs mirrors KernelArgs::slots");
  std::memcpy(&args, a.slots.data(), sizeof(args));
  static_assert(BlockThreads % 32 == 0, "whole warps");
  gridDim.x = grid;
  std::barrier<> barrier(BlockThreads);
  std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
  for (int w = 0; w < BlockThreads / 32; ++w) warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
  std::vector<std::thread> threads;
  for (int t = 0; t < BlockThreads; ++t) {
    threads.emplace_back([&, t] {
      threadIdx.x = static_cast<unsigned>(t);
      emulated_block_barrier = &barrier;
      emulated_warp_barrier = warp_barriers[static_cast<std::size_t>(t / 32)].get();
      for (unsigned b = 0; b < grid; ++b) {
        blockIdx.x = b;
        kernel(args);
        barrier.arrive_and_wait();  // the next block reuses the statics
      }
    });
  }
  for (auto& th : threads) th.join();
}

template <class V, class Time>
KernelArgs resample_args(const Problem<V, Time>& p, const void* data, void* out) {
  namespace abi = resample_abi;
  KernelArgs a;
  a.set_ptr(abi::kData, data);
  a.set_ptr(abi::kSrcTimes, p.src.data());
  a.set_ptr(abi::kTgtTimes, p.tgt.data());
  a.set_ptr(abi::kOut, out);
  a.set_int(abi::kB, p.B);
  a.set_int(abi::kS, p.S);
  a.set_int(abi::kT, p.T);
  a.set_int(abi::kSrcRowStride, p.shared_src ? 0 : p.S);
  a.set_int(abi::kTgtRowStride, p.shared_tgt ? 0 : p.T);
  a.set_ptr(abi::kLengths, p.lengths.empty() ? nullptr : p.lengths.data());
  return a;
}

// Runs the resample template with channel groups Gs, W channels per access and search strategy
// Search on p. `misalign` shifts the data and output arrays by that many elements, so W-wide
// accesses are not aligned and the kernel must take its one-channel path.
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock, int W, int Search, class... Gs>
std::vector<V> emulate_with(const Problem<V, Time>& p, unsigned grid, std::size_t misalign = 0) {
  using K = typename KernelType<V>::type;
  std::vector<K> data(misalign);
  const std::vector<K> values = as_storage<K>(p.data);
  data.insert(data.end(), values.begin(), values.end());
  std::vector<K> out(misalign + static_cast<std::size_t>(p.B * p.T * p.D));
  run_blocks<BlockThreads>(&resample<K, Time, D, BlockThreads, TargetsPerBlock, W, Search, Gs...>,
                           resample_args(p, data.data() + misalign, out.data() + misalign), grid);
  return as_storage<V>(std::vector<K>(out.begin() + static_cast<std::ptrdiff_t>(misalign), out.end()));
}

// The binary search, one channel per access.
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock, class... Gs>
std::vector<V> emulate_groups(const Problem<V, Time>& p, unsigned grid) {
  return emulate_with<V, Time, D, BlockThreads, TargetsPerBlock, 1, search_mode::kBinary, Gs...>(p, grid);
}

// The linear kernel (one group of every channel).
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock>
std::vector<V> emulate(const Problem<V, Time>& p, unsigned grid) {
  return emulate_groups<V, Time, D, BlockThreads, TargetsPerBlock, RsGroup<0, D, interp_mode::kLinear>>(p, grid);
}

template <class V, class Time>
void expect_matches(const Problem<V, Time>& p, const std::vector<V>& out) {
  int failures = 0;
  for (std::int64_t b = 0; b < p.B; ++b)
    for (std::int64_t i = 0; i < p.T; ++i)
      for (std::int64_t c = 0; c < p.D; ++c) {
        auto r = testing::check_element(p, b, i, c, out[static_cast<std::size_t>((b * p.T + i) * p.D + c)]);
        if (!r && failures++ < 10) ADD_FAILURE() << r.message();
      }
  EXPECT_EQ(failures, 0);
}

template <class V, class Time>
void check_dtype_pair() {
  SCOPED_TRACE(::testing::Message() << dtype_name(testing::kValueDType<V>) << "/"
                                    << dtype_name(testing::kTimeDType<Time>));
  // Per-row times; grids of one block (everything through the grid-stride loop), three, and
  // exactly one block per tile (3 rows * 13 tiles).
  auto p = testing::make_problem<V, Time>(3, 37, 203, 5, false, false);
  for (unsigned grid : {1u, 3u, 39u}) {
    SCOPED_TRACE(::testing::Message() << "grid " << grid);
    expect_matches(p, emulate<V, Time, 5, 32, 16>(p, grid));
  }
  // Shared times, a tile wider than the block (each thread searches several targets).
  auto q = testing::make_problem<V, Time>(2, 20, 250, 1, true, true);
  expect_matches(q, emulate<V, Time, 1, 32, 100>(q, 2));
  // One target per tile, channels spread over the block, mixed sharing.
  auto r = testing::make_problem<V, Time>(2, 9, 7, 70, true, false);
  expect_matches(r, emulate<V, Time, 70, 64, 1>(r, 5));
}

TEST(ResampleTemplateOnHost, F32) {
  check_dtype_pair<float, float>();
  check_dtype_pair<float, double>();
}

TEST(ResampleTemplateOnHost, F64) {
  check_dtype_pair<double, float>();
  check_dtype_pair<double, double>();
}

TEST(ResampleTemplateOnHost, F16) {
  check_dtype_pair<F16Bits, float>();
  check_dtype_pair<F16Bits, double>();
}

TEST(ResampleTemplateOnHost, BF16) {
  check_dtype_pair<BF16Bits, float>();
  check_dtype_pair<BF16Bits, double>();
}

TEST(ResampleTemplateOnHost, EpochSecondsInF64) {
  auto p = testing::make_problem<float, double>(2, 300, 200, 4, false, false, 1.7e9, 0.01);
  expect_matches(p, emulate<float, double, 4, 32, 32>(p, 4));
}

TEST(ResampleTemplateOnHost, SingleSampleHolds) {
  auto p = testing::make_problem<BF16Bits, float>(2, 1, 40, 2, false, true);
  expect_matches(p, emulate<BF16Bits, float, 2, 32, 16>(p, 2));
}

// Targets sorted within each row (NaN targets dropped): the case the narrow search stages.
template <class V, class Time>
Problem<V, Time> sorted_targets(Problem<V, Time> p) {
  const std::int64_t rows = p.shared_tgt ? 1 : p.B;
  std::vector<Time> tgt;
  for (std::int64_t b = 0; b < rows; ++b) {
    std::vector<Time> row;
    for (std::int64_t i = 0; i < p.T; ++i) {
      const Time x = p.tgt[static_cast<std::size_t>(b * p.T + i)];
      row.push_back(x != x ? Time(0) : x);
    }
    std::sort(row.begin(), row.end());
    tgt.insert(tgt.end(), row.begin(), row.end());
  }
  p.tgt = tgt;
  return p;
}

template <class V, class Time>
void check_narrow_and_vectors() {
  SCOPED_TRACE(::testing::Message() << dtype_name(testing::kValueDType<V>) << "/"
                                    << dtype_name(testing::kTimeDType<Time>));
  namespace m = interp_mode;
  constexpr int kNarrow = search_mode::kNarrow;
  // Unsorted targets with NaN and holds (most fall outside the staged range), and sorted ones.
  auto u = testing::make_problem<V, Time>(3, 37, 203, 8, false, false);
  auto s = sorted_targets(u);
  for (const auto* p : {&u, &s}) {
    expect_matches(*p, emulate_with<V, Time, 8, 64, 16, 1, kNarrow, RsGroup<0, 8, m::kLinear>>(*p, 5));
    expect_matches(*p, emulate_with<V, Time, 8, 64, 16, 4, kNarrow, RsGroup<0, 8, m::kLinear>>(*p, 5));
    expect_matches(*p, emulate_with<V, Time, 8, 32, 16, 8, search_mode::kBinary, RsGroup<0, 8, m::kLinear>>(*p, 3));
    expect_matches(*p, emulate_with<V, Time, 8, 32, 16, 4, search_mode::kInterpolation, RsGroup<0, 8, m::kLinear>>(*p, 3));
    // Unaligned arrays: the kernel falls back to one channel per access.
    expect_matches(*p, emulate_with<V, Time, 8, 64, 16, 4, kNarrow, RsGroup<0, 8, m::kLinear>>(*p, 5, 1));
  }
  // Every mode through the narrow search with 2-wide accesses where the groups allow it.
  auto g = s;
  g.lengths = {37, 20, 2};
  const std::vector<ChannelGroup> groups = {{0, 2, Interp::Cubic}, {2, 2, Interp::Nearest},
                                            {4, 4, Interp::Slerp}, {8, 2, Interp::Previous}};
  auto q = testing::make_problem<V, Time>(3, 40, 150, 10, false, false);
  q.lengths = {40, 9, 2};
  testing::make_quaternions(q, groups);
  auto qs = sorted_targets(q);
  EXPECT_TRUE(testing::check_groups(
      qs, groups,
      emulate_with<V, Time, 10, 64, 32, 2, kNarrow, RsGroup<0, 2, m::kCubic>, RsGroup<2, 2, m::kNearest>,
                   RsGroup<4, 4, m::kSlerp>, RsGroup<8, 2, m::kPrevious>>(qs, 4)));
  EXPECT_TRUE(testing::check_groups(
      qs, groups,
      emulate_with<V, Time, 10, 32, 32, 2, search_mode::kInterpolation, RsGroup<0, 2, m::kCubic>,
                   RsGroup<2, 2, m::kNearest>, RsGroup<4, 4, m::kSlerp>, RsGroup<8, 2, m::kPrevious>>(qs, 4)));
  // Irregular clocks (bursts of repeats and gaps) make the interpolation guess land far off: the
  // gallop must still find the bracket.
  auto bursty = testing::make_problem<V, Time>(2, 400, 300, 2, false, false, 0.0, 1.0, 11);
  for (std::int64_t b = 0; b < bursty.B; ++b)  // squeeze the first half of each row into a burst
    for (std::int64_t s = 0; s < 200; ++s) {
      auto& v = bursty.src[static_cast<std::size_t>(b * 400 + s)];
      v = static_cast<Time>(static_cast<double>(bursty.src[static_cast<std::size_t>(b * 400)]) + 0.001 * static_cast<double>(s));
    }
  expect_matches(bursty, emulate_with<V, Time, 2, 32, 64, 2, search_mode::kInterpolation, RsGroup<0, 2, m::kLinear>>(bursty, 3));
  // A tile whose bracket range is longer than the staging area: the global fallback.
  auto longrow = sorted_targets(testing::make_problem<V, Time>(1, 6000, 12, 2, false, false));
  expect_matches(longrow, emulate_with<V, Time, 2, 64, 16, 2, kNarrow, RsGroup<0, 2, m::kLinear>>(longrow, 1));
}

TEST(ResampleTemplateOnHost, NarrowSearchAndVectorWidthsMatchTheReference) {
  check_narrow_and_vectors<float, double>();
  check_narrow_and_vectors<double, float>();
  check_narrow_and_vectors<BF16Bits, float>();
  check_narrow_and_vectors<F16Bits, double>();
}

TEST(ResampleTemplateOnHost, F16ConversionsAreExactAndRoundToNearestEven) {
  // Every f16 value widens exactly; narrowing agrees with the reference on a sweep of f32 bits.
  for (unsigned h = 0; h < 0x10000; ++h) {
    const float w = ValueOps<f16>::widen(f16{static_cast<unsigned short>(h)});
    if (std::isnan(w)) continue;
    ASSERT_EQ(std::bit_cast<unsigned>(w), std::bit_cast<unsigned>(testing::f16_to_float(static_cast<std::uint16_t>(h))))
        << std::hex << h;
  }
  for (std::uint64_t u = 0; u < (1ull << 32); u += 9973) {
    const float f = std::bit_cast<float>(static_cast<std::uint32_t>(u));
    if (std::isnan(f)) continue;
    ASSERT_EQ(ValueOps<f16>::narrow(f).bits, testing::float_to_f16(f)) << std::hex << u;
    ASSERT_EQ(ValueOps<bf16>::narrow(f).bits, testing::float_to_bf16(f)) << std::hex << u;
  }
}


// Every mode and grouped channels, with per-row lengths (the last row uses only 2 samples).
template <class V, class Time>
void check_modes() {
  SCOPED_TRACE(::testing::Message() << dtype_name(testing::kValueDType<V>) << "/"
                                    << dtype_name(testing::kTimeDType<Time>));
  namespace m = interp_mode;
  auto one = [](Interp mode, std::int64_t d) { return std::vector<ChannelGroup>{{0, d, mode}}; };
  auto p = testing::make_problem<V, Time>(3, 37, 203, 5, false, false);
  p.lengths = {37, 20, 2};
  EXPECT_TRUE(testing::check_groups(p, one(Interp::Linear, 5), emulate_groups<V, Time, 5, 32, 16, RsGroup<0, 5, m::kLinear>>(p, 3)));
  EXPECT_TRUE(testing::check_groups(p, one(Interp::Nearest, 5), emulate_groups<V, Time, 5, 32, 16, RsGroup<0, 5, m::kNearest>>(p, 3)));
  EXPECT_TRUE(testing::check_groups(p, one(Interp::Previous, 5), emulate_groups<V, Time, 5, 32, 16, RsGroup<0, 5, m::kPrevious>>(p, 3)));
  EXPECT_TRUE(testing::check_groups(p, one(Interp::Cubic, 5), emulate_groups<V, Time, 5, 32, 16, RsGroup<0, 5, m::kCubic>>(p, 7)));
  // Grouped: position linear, orientation slerp, gripper previous; shared times.
  const std::vector<ChannelGroup> groups = {{0, 3, Interp::Linear}, {3, 4, Interp::Slerp}, {7, 1, Interp::Previous}};
  auto q = testing::make_problem<V, Time>(2, 40, 150, 8, true, true);
  q.lengths = {40, 9};
  testing::make_quaternions(q, groups);
  EXPECT_TRUE(testing::check_groups(
      q, groups,
      emulate_groups<V, Time, 8, 64, 32, RsGroup<0, 3, m::kLinear>, RsGroup<3, 4, m::kSlerp>, RsGroup<7, 1, m::kPrevious>>(q, 4)));
  // Slerp alone, and cubic mixed with nearest.
  auto r = testing::make_problem<V, Time>(2, 25, 90, 4, false, true);
  testing::make_quaternions(r, one(Interp::Slerp, 4));
  EXPECT_TRUE(testing::check_groups(r, one(Interp::Slerp, 4), emulate_groups<V, Time, 4, 32, 8, RsGroup<0, 4, m::kSlerp>>(r, 2)));
  const std::vector<ChannelGroup> cn = {{0, 2, Interp::Cubic}, {2, 1, Interp::Nearest}};
  auto u = testing::make_problem<V, Time>(2, 30, 70, 3, true, false);
  EXPECT_TRUE(testing::check_groups(u, cn, emulate_groups<V, Time, 3, 32, 64, RsGroup<0, 2, m::kCubic>, RsGroup<2, 1, m::kNearest>>(u, 2)));
}

TEST(ResampleTemplateOnHost, ModesAndGroupsF32) {
  check_modes<float, double>();
  check_modes<float, float>();
}
TEST(ResampleTemplateOnHost, ModesAndGroupsF64) {
  check_modes<double, double>();
  check_modes<double, float>();
}
TEST(ResampleTemplateOnHost, ModesAndGroups16Bit) {
  check_modes<F16Bits, double>();
  check_modes<BF16Bits, float>();
}

TEST(ResampleTemplateOnHost, NearestTieGoesToTheEarlierSample) {
  Problem<float, double> p;
  p.B = 1, p.S = 3, p.T = 4, p.D = 1;
  p.src = {0.0, 1.0, 2.0};
  p.tgt = {0.5, 0.5000001, 1.5, 1.75};
  p.data = {10.f, 20.f, 30.f};
  auto out = emulate_groups<float, double, 1, 32, 32, RsGroup<0, 1, interp_mode::kNearest>>(p, 1);
  EXPECT_EQ(out, (std::vector<float>{10.f, 20.f, 20.f, 30.f}));
  auto prev = emulate_groups<float, double, 1, 32, 32, RsGroup<0, 1, interp_mode::kPrevious>>(p, 1);
  EXPECT_EQ(prev, (std::vector<float>{10.f, 10.f, 20.f, 20.f}));
}

TEST(ResampleTemplateOnHost, CubicIsExactOnACubicWithExactTangents) {
  // Quadratic data on a uniform grid: central differences are exact, so is the Hermite spline.
  Problem<double, double> p;
  p.B = 1, p.S = 6, p.T = 5, p.D = 1;
  for (int i = 0; i < 6; ++i) p.src.push_back(i), p.data.push_back(double(i) * i);
  p.tgt = {1.5, 2.25, 3.75, 1.0, 2.5};
  auto out = emulate_groups<double, double, 1, 32, 32, RsGroup<0, 1, interp_mode::kCubic>>(p, 1);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(out[i], p.tgt[i] * p.tgt[i], 1e-12) << i;
}

// A spec of many groups names one table-driven group type (the generator writes its table; here the
// test does): the same modes per chunk must give the same bits as the groups as template arguments.
struct TableOfFiveChunks {
  static constexpr int kStart = 0;
  static constexpr int kSize = 10;
  static constexpr int kMode = -1;
  static constexpr int kModes = (1 << interp_mode::kCubic) | (1 << interp_mode::kNearest) |
                                (1 << interp_mode::kSlerp) | (1 << interp_mode::kPrevious);
  static constexpr bool kTable = true;
  // 2-channel chunks: cubic, nearest, slerp (first chunk +8), slerp, previous.
  static unsigned code(int chunk) {
    static constexpr unsigned char codes[5] = {3, 1, 4 + 8, 4, 2};
    return codes[chunk];
  }
};

TEST(ResampleTemplateOnHost, GroupTableEqualsGroupTemplateArguments) {
  namespace m = interp_mode;
  const std::vector<ChannelGroup> groups = {{0, 2, Interp::Cubic}, {2, 2, Interp::Nearest},
                                            {4, 4, Interp::Slerp}, {8, 2, Interp::Previous}};
  auto q = testing::make_problem<float, double>(3, 40, 150, 10, false, false);
  q.lengths = {40, 9, 2};
  testing::make_quaternions(q, groups);
  const auto args = emulate_with<float, double, 10, 64, 32, 2, search_mode::kInterpolation, RsGroup<0, 2, m::kCubic>,
                                 RsGroup<2, 2, m::kNearest>, RsGroup<4, 4, m::kSlerp>, RsGroup<8, 2, m::kPrevious>>(q, 4);
  const auto table = emulate_with<float, double, 10, 64, 32, 2, search_mode::kInterpolation, TableOfFiveChunks>(q, 4);
  EXPECT_TRUE(testing::check_groups(q, groups, table));
  EXPECT_EQ(0, std::memcmp(args.data(), table.data(), args.size() * sizeof(float)));
}

// Staging the row's times in (emulated) dynamic shared memory and a tile size chosen at launch
// change where the search reads and how blocks split the row, never the bits.
TEST(ResampleTemplateOnHost, StagedTimesAndLaunchTilesGiveTheSameBits) {
  namespace m = interp_mode;
  auto p = testing::make_problem<BF16Bits, double>(3, 57, 203, 8, false, false);
  p.lengths = {57, 20, 1};
  const auto plain = emulate_with<BF16Bits, double, 8, 64, 32, 4, search_mode::kInterpolation,
                                  RsGroup<0, 8, m::kLinear>>(p, 4);
  expect_matches(p, plain);
  struct Restore {
    ~Restore() { emulated_dynamic_smem_bytes = 0; }
  } restore;
  emulated_dynamic_smem_bytes = sizeof(emulated_dynamic_smem);
  for (long long tile : {32LL, 64LL, 96LL}) {
    SCOPED_TRACE(::testing::Message() << "tile " << tile);
    using K = robocache::bf16;
    std::vector<K> data = as_storage<K>(p.data), out(static_cast<std::size_t>(p.B * p.T * p.D));
    KernelArgs a = resample_args(p, data.data(), out.data());
    a.set_int(resample_abi::kTileTargets, tile);
    run_blocks<64>(&resample<K, double, 8, 64, 32, 4, search_mode::kInterpolation, RsGroup<0, 8, m::kLinear>>, a, 5);
    const auto got = as_storage<BF16Bits>(out);
    EXPECT_EQ(0, std::memcmp(got.data(), plain.data(), got.size() * sizeof(BF16Bits)));
  }
}

// With validation on, a row whose length is out of range, or whose times hold a NaN or decrease,
// is written as NaN and reported in the error word; the other rows are untouched. Off, nothing
// is reported (and still nothing past a row's length is read: lengths are the caller's word).
TEST(ResampleTemplateOnHost, DeviceChecksWriteBadRowsAsNaNAndReportTheFirst) {
  namespace m = interp_mode;
  for (unsigned smem : {0u, static_cast<unsigned>(sizeof(emulated_dynamic_smem))}) {
    SCOPED_TRACE(::testing::Message() << "staging bytes " << smem);
    emulated_dynamic_smem_bytes = smem;
    auto good = testing::make_problem<float, double>(4, 30, 40, 3, false, false);
    good.lengths = {30, 30, 30, 30};
    const auto want = emulate_with<float, double, 3, 64, 16, 1, search_mode::kInterpolation,
                                   RsGroup<0, 3, m::kLinear>>(good, 3);
    struct Case {
      const char* what;
      std::uint64_t reason;
      std::int64_t row;
      void (*spoil)(testing::Problem<float, double>&);
    };
    const Case cases[] = {
        {"length 0", 1, 1, [](testing::Problem<float, double>& q) { q.lengths[1] = 0; }},
        {"length past S", 1, 2, [](testing::Problem<float, double>& q) { q.lengths[2] = 31; }},
        {"decreasing", 2, 3, [](testing::Problem<float, double>& q) { std::swap(q.src[3 * 30 + 4], q.src[3 * 30 + 20]); }},
        {"NaN time", 3, 0, [](testing::Problem<float, double>& q) { q.src[7] = std::nan(""); }},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.what);
      auto q = good;
      c.spoil(q);
      std::vector<float> out(static_cast<std::size_t>(q.B * q.T * q.D), -1.f);
      unsigned long long word = 0;
      KernelArgs a = resample_args(q, q.data.data(), out.data());
      a.set_int(resample_abi::kValidate, 1);
      a.set_ptr(resample_abi::kErrorFlag, &word);
      run_blocks<64>(&resample<float, double, 3, 64, 16, 1, search_mode::kInterpolation, RsGroup<0, 3, m::kLinear>>,
                     a, 3);
      EXPECT_EQ(word & 0xf, c.reason);
      EXPECT_EQ((word >> 4) & 0xf, 1u);  // resample
      EXPECT_EQ(word >> 16, static_cast<std::uint64_t>(c.row));
      for (std::int64_t b = 0; b < q.B; ++b)
        for (std::int64_t i = 0; i < q.T * q.D; ++i) {
          const std::size_t k = static_cast<std::size_t>(b * q.T * q.D + i);
          if (b == c.row) {
            ASSERT_TRUE(std::isnan(out[k])) << "row " << b << " element " << i;
          } else {
            ASSERT_EQ(0, std::memcmp(&out[k], &want[k], sizeof(float))) << "row " << b << " element " << i;
          }
        }
      // Validation off: the spoiled times are used as they are and nothing is reported.
      if (c.reason != 1) {
        word = 0;
        a.set_int(resample_abi::kValidate, 0);
        run_blocks<64>(&resample<float, double, 3, 64, 16, 1, search_mode::kInterpolation, RsGroup<0, 3, m::kLinear>>,
                       a, 3);
        EXPECT_EQ(word, 0u);
      }
    }
  }
  emulated_dynamic_smem_bytes = 0;
}

// Fuse: modality i must equal resampling modality i on its own, bit for bit, at its offset.
TEST(FuseTemplateOnHost, EqualsPerModalityResample) {
  namespace m = interp_mode;
  using V = float;
  using Time = double;
  auto a = testing::make_problem<V, Time>(3, 30, 111, 3, false, false, 0.0, 1.0, 1);
  auto q = testing::make_problem<V, Time>(3, 17, 111, 4, true, false, 0.3, 2.0, 2);
  auto g = testing::make_problem<V, Time>(3, 50, 111, 2, false, false, -1.0, 0.5, 3);
  q.tgt = a.tgt;
  g.tgt = a.tgt;
  testing::make_quaternions(q, {{0, 4, Interp::Slerp}});
  g.lengths = {50, 3, 1};
  constexpr int DT = 9;
  std::vector<float> out(static_cast<std::size_t>(3 * 111 * DT), -1.f);
  namespace abi = fuse_abi;
  KernelArgs k;
  k.set_ptr(abi::kOut, out.data());
  k.set_ptr(abi::kTgtTimes, a.tgt.data());
  k.set_int(abi::kB, 3);
  k.set_int(abi::kT, 111);
  k.set_int(abi::kTgtRowStride, 111);
  auto set = [&](int i, const auto& p) {
    k.set_ptr(abi::modality_slot(i, abi::kData), p.data.data());
    k.set_ptr(abi::modality_slot(i, abi::kTimes), p.src.data());
    k.set_int(abi::modality_slot(i, abi::kS), p.S);
    k.set_int(abi::modality_slot(i, abi::kTimesRowStride), p.shared_src ? 0 : p.S);
    k.set_ptr(abi::modality_slot(i, abi::kLengths), p.lengths.empty() ? nullptr : p.lengths.data());
  };
  set(0, a);
  set(1, q);
  set(2, g);
  run_blocks<32>(&fuse<V, Time, DT, 32, 16, search_mode::kBinary, FuseMod<0, 0, 3, m::kLinear>,
                       FuseMod<1, 3, 4, m::kSlerp>, FuseMod<2, 7, 2, m::kCubic>>,
                 k, 5);
  // The narrow search gives the same bits.
  std::vector<float> narrow(out.size(), -1.f);
  k.set_ptr(abi::kOut, narrow.data());
  run_blocks<64>(&fuse<V, Time, DT, 64, 16, search_mode::kNarrow, FuseMod<0, 0, 3, m::kLinear>,
                       FuseMod<1, 3, 4, m::kSlerp>, FuseMod<2, 7, 2, m::kCubic>>,
                 k, 5);
  EXPECT_EQ(0, std::memcmp(narrow.data(), out.data(), out.size() * sizeof(float)));
  auto ra = emulate_groups<V, Time, 3, 32, 16, RsGroup<0, 3, m::kLinear>>(a, 3);
  auto rq = emulate_groups<V, Time, 4, 32, 16, RsGroup<0, 4, m::kSlerp>>(q, 3);
  auto rg = emulate_groups<V, Time, 2, 32, 16, RsGroup<0, 2, m::kCubic>>(g, 3);
  int failures = 0;
  for (std::int64_t r = 0; r < 3 * 111; ++r) {
    for (int c = 0; c < DT; ++c) {
      const float want = c < 3 ? ra[r * 3 + c] : c < 7 ? rq[r * 4 + c - 3] : rg[r * 2 + c - 7];
      const float got = out[static_cast<std::size_t>(r * DT + c)];
      if (std::memcmp(&want, &got, 4) != 0 && failures++ < 10) ADD_FAILURE() << "row " << r << " channel " << c << ": " << got << " vs " << want;
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(testing::check_groups(g, {{0, 2, Interp::Cubic}}, rg));
}

}  // namespace
}  // namespace robocache
