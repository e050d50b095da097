// Runs templates/resample.cuh itself on the host: one host thread per CUDA thread of a block and
// a barrier for __syncthreads, so its tiling, shared-memory hand-off, grid-stride loop and
// numerics are checked on machines without a GPU. Device-only details (inline PTX, the actual
// launch) are covered by the Gpu* tests.
#include <gtest/gtest.h>

#include <barrier>
#include <bit>
#include <cmath>
#include <thread>

#include "compiler/backend.h"
#include "compiler/resample_abi.h"
#include "tests/cpp/compiler/nvrtc/resample_problem.h"

// The CUDA spellings the template uses, as host code.
struct EmulatedDim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local EmulatedDim3 threadIdx, blockIdx;
inline EmulatedDim3 gridDim;
inline thread_local std::barrier<>* emulated_block_barrier = nullptr;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static  // one block runs at a time, so function statics are its shared memory
#define __launch_bounds__(...)
#define __syncthreads() emulated_block_barrier->arrive_and_wait()

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

#include "templates/resample.cuh"

#undef __syncthreads
#undef __launch_bounds__
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
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock>
std::vector<V> emulate(const Problem<V, Time>& p, unsigned grid) {
  using K = typename KernelType<V>::type;
  std::vector<K> data = as_storage<K>(p.data);
  std::vector<K> out(static_cast<std::size_t>(p.B * p.T * p.D));
  namespace abi = resample_abi;
  KernelArgs a;
  a.set_ptr(abi::kData, data.data());
  a.set_ptr(abi::kSrcTimes, p.src.data());
  a.set_ptr(abi::kTgtTimes, p.tgt.data());
  a.set_ptr(abi::kOut, out.data());
  a.set_int(abi::kB, p.B);
  a.set_int(abi::kS, p.S);
  a.set_int(abi::kT, p.T);
  a.set_int(abi::kSrcRowStride, p.shared_src ? 0 : p.S);
  a.set_int(abi::kTgtRowStride, p.shared_tgt ? 0 : p.T);
  RcArgs args;
  static_assert(sizeof(args) == sizeof(a.slots), "RcArgs mirrors KernelArgs::slots");
  std::memcpy(&args, a.slots.data(), sizeof(args));

  gridDim.x = grid;
  std::barrier<> barrier(BlockThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < BlockThreads; ++t) {
    threads.emplace_back([&, t] {
      threadIdx.x = static_cast<unsigned>(t);
      emulated_block_barrier = &barrier;
      for (unsigned b = 0; b < grid; ++b) {
        blockIdx.x = b;
        resample_linear<K, Time, D, BlockThreads, TargetsPerBlock>(args);
        barrier.arrive_and_wait();  // the next block reuses the statics
      }
    });
  }
  for (auto& th : threads) th.join();
  return as_storage<V>(out);
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

}  // namespace
}  // namespace robocache
