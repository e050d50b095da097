// One Engine shared by many threads: each compiles and launches a mix of specs on its own data and
// checks every result; the engine must compile each spec exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine.h"

namespace fs = std::filesystem;

namespace robocache {
namespace {

constexpr int kThreads = 8;
constexpr int kIterations = 40;

struct Case {
  DType dtype;
  std::int64_t dim;
};
const Case kCases[4] = {{DType::F64, 1}, {DType::F64, 2}, {DType::F64, 3}, {DType::F32, 3}};

Spec spec_of(const Case& c) {
  ResampleSpec r;
  r.dtype = c.dtype;
  r.time_dtype = DType::F64;
  r.dim = c.dim;
  return Spec(r);
}

// Linear interpolation of data [B,S,D] at interior target times, in double.
std::vector<double> reference(const std::vector<double>& data, const std::vector<double>& src,
                              const std::vector<double>& tgt, std::int64_t B, std::int64_t S,
                              std::int64_t T, std::int64_t D) {
  std::vector<double> out(static_cast<std::size_t>(B * T * D));
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      const double x = tgt[t];
      std::int64_t i = std::upper_bound(src.begin(), src.end(), x) - src.begin() - 1;
      i = std::clamp<std::int64_t>(i, 0, S - 2);
      const double w = (x - src[i]) / (src[i + 1] - src[i]);
      for (std::int64_t d = 0; d < D; ++d) {
        const double a = data[(b * S + i) * D + d], c = data[(b * S + i + 1) * D + d];
        out[(b * T + t) * D + d] = a + w * (c - a);
      }
    }
  return out;
}

// One iteration: random data, a launch, a check. Returns the number of mismatching elements.
template <typename V>
int run_once(Engine& engine, const Case& c, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::int64_t> size(2, 40);
  const std::int64_t B = size(rng) % 5 + 1, S = size(rng), T = size(rng), D = c.dim;
  std::uniform_real_distribution<double> u(-10, 10), step(0.1, 1.0);
  std::vector<double> src(S), tgt(T), data_d(B * S * D);
  double t = u(rng);
  for (auto& s : src) s = (t += step(rng));
  std::uniform_real_distribution<double> inside(src.front(), src.back());
  for (auto& x : tgt) x = inside(rng);
  for (auto& v : data_d) v = static_cast<V>(u(rng));  // representable in V
  std::vector<V> data(data_d.begin(), data_d.end()), out(B * T * D, V(-999));

  auto kernel = engine.compile(spec_of(c), "cpu");
  ArrayView vd{data.data(), c.dtype, {B, S, D}, {}};
  ArrayView vs{src.data(), DType::F64, {S}, {}};
  ArrayView vt{tgt.data(), DType::F64, {T}, {}};
  ArrayView vo{out.data(), c.dtype, {B, T, D}, {}};
  kernel->run({vd, vs, vt}, {}, vo, nullptr, true);

  const auto want = reference(data_d, src, tgt, B, S, T, D);
  const double tol = c.dtype == DType::F32 ? 1e-4 : 1e-10;
  int bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (!(std::abs(double(out[i]) - want[i]) <= tol * (1 + std::abs(want[i])))) ++bad;
  return bad;
}

TEST(EngineConcurrency, EightThreadsFortyIterationsFourSpecsCompileOnce) {
#if !ROBOCACHE_HAVE_LLVM
  GTEST_SKIP() << "built without LLVM: no CPU backend";
#else
  const fs::path dir = fs::temp_directory_path() /
                       ("rc-engine-conc-" + std::to_string(std::random_device{}()));
  fs::remove_all(dir);
  {
    CacheOptions o;
    o.dir = dir;
    Engine engine(o);
    std::atomic<int> mismatches{0}, failures{0}, launches{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th)
      threads.emplace_back([&, th] {
        std::mt19937_64 rng(1234 + th);
        for (int it = 0; it < kIterations; ++it) {
          const Case& c = kCases[(th + it) % 4];
          try {
            mismatches += c.dtype == DType::F32 ? run_once<float>(engine, c, rng)
                                                : run_once<double>(engine, c, rng);
            ++launches;
          } catch (const std::exception& e) {
            ++failures;
            ADD_FAILURE() << "thread " << th << " iteration " << it << ": " << e.what();
          }
        }
      });
    for (auto& t : threads) t.join();
    const CacheStats s = engine.stats();
    std::printf("[ robocache ] %d threads x %d iterations = %d launches, %lld compiles, %lld memory hits, "
                "%lld disk hits\n",
                kThreads, kIterations, launches.load(), (long long)s.compiles, (long long)s.memory_hits,
                (long long)s.disk_hits);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_EQ(launches.load(), kThreads * kIterations);
    EXPECT_EQ(s.compiles, 4);
    EXPECT_EQ(s.memory_hits + s.disk_hits + s.compiles, kThreads * kIterations);
    EXPECT_EQ(s.bad_entries, 0);
  }
  fs::remove_all(dir);
#endif
}

}  // namespace
}  // namespace robocache
