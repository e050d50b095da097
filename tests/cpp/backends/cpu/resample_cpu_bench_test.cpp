// Kernel timings of the CPU resample for targets.md's C1-C3 (f32 data, f64 times, linear), and
// the cold compile time of one spec. Prints only: a speed target belongs in a benchmark, never in
// a timed test. Skipped unless ROBOCACHE_CPU_BENCH is set; the pool's thread count comes from
// ROBOCACHE_NUM_THREADS. ROBOCACHE_CPU_BENCH_ASM=path also writes the C1 kernel's assembly.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/backend.h"
#include "compiler/resample_abi.h"

namespace robocache {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Case {
  const char* name;
  std::int64_t B, S, T, D;
};

TEST(ResampleCpuBench, PrintsKernelTimes) {
  if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
  if (!std::getenv("ROBOCACHE_CPU_BENCH")) GTEST_SKIP() << "set ROBOCACHE_CPU_BENCH=1 to run";
  auto backend = make_cpu_backend();
  const Case cases[] = {{"C1", 64, 4096, 1024, 32}, {"C2", 32, 500, 256, 256}, {"C3", 1, 100, 50, 7}};
  for (const Case& c : cases) {
    ResampleSpec rs;
    rs.dtype = DType::F32;
    rs.time_dtype = DType::F64;
    rs.dim = c.D;
    rs.interp = Interp::Linear;
    Spec spec(rs);
    auto t0 = Clock::now();
    KernelSource source = backend->generate(spec, backend->default_config(spec));
    double gen_ms = ms_since(t0);
    auto t1 = Clock::now();
    ObjectCode code = backend->compile(source);
    double compile_ms = ms_since(t1);
    auto t2 = Clock::now();
    auto kernel = backend->load(code);
    double load_ms = ms_since(t2);
    if (const char* path = std::getenv("ROBOCACHE_CPU_BENCH_ASM"); path && c.D == 32) {
      std::ofstream(path) << backend->emit(source, "asm");
    }

    std::mt19937_64 rng(1234);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> data(static_cast<std::size_t>(c.B * c.S * c.D));
    for (float& v : data) v = static_cast<float>(u(rng) * 2 - 1);
    std::vector<double> src(static_cast<std::size_t>(c.B * c.S)), tgt(static_cast<std::size_t>(c.B * c.T));
    for (std::int64_t b = 0; b < c.B; ++b) {
      for (std::int64_t s = 0; s < c.S; ++s) src[b * c.S + s] = u(rng);
      for (std::int64_t t = 0; t < c.T; ++t) tgt[b * c.T + t] = u(rng);
      std::sort(src.begin() + b * c.S, src.begin() + (b + 1) * c.S);
      std::sort(tgt.begin() + b * c.T, tgt.begin() + (b + 1) * c.T);
    }
    std::vector<float> out(static_cast<std::size_t>(c.B * c.T * c.D));
    namespace abi = resample_abi;
    KernelArgs args;
    args.set_ptr(abi::kData, data.data());
    args.set_ptr(abi::kSrcTimes, src.data());
    args.set_ptr(abi::kTgtTimes, tgt.data());
    args.set_ptr(abi::kOut, out.data());
    args.set_int(abi::kB, c.B);
    args.set_int(abi::kS, c.S);
    args.set_int(abi::kT, c.T);
    args.set_int(abi::kSrcRowStride, c.S);
    args.set_int(abi::kTgtRowStride, c.T);
    args.set_ptr(abi::kLengths, nullptr);
    for (int i = 0; i < 3; ++i) kernel->launch(args, WorkShape{c.B, c.T}, LaunchPlace{});
    std::vector<double> times;
    auto bench_start = Clock::now();
    while (times.size() < 2000 && (times.size() < 20 || ms_since(bench_start) < 1500)) {
      auto s = Clock::now();
      kernel->launch(args, WorkShape{c.B, c.T}, LaunchPlace{});
      times.push_back(ms_since(s));
    }
    std::sort(times.begin(), times.end());
    double checksum = 0;
    for (std::size_t i = 0; i < out.size(); i += 97) checksum += out[i];
    std::printf("[bench] %s B%lld S%lld T%lld D%lld threads=%s: median %.4f ms, min %.4f ms (%zu reps) | "
                "generate %.1f ms, compile %.1f ms, load %.1f ms | checksum %.6f\n",
                c.name, static_cast<long long>(c.B), static_cast<long long>(c.S), static_cast<long long>(c.T),
                static_cast<long long>(c.D), std::getenv("ROBOCACHE_NUM_THREADS") ? std::getenv("ROBOCACHE_NUM_THREADS") : "default",
                times[times.size() / 2], times.front(), times.size(), gen_ms, compile_ms, load_ms, checksum);
  }
}

}  // namespace
}  // namespace robocache
