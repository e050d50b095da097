// Numerics of the CPU resample kernel (ops.md §1 linear) for every value and time dtype, through
// the public pipeline: make_cpu_backend() → generate → compile → load → launch.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/resample_abi.h"

namespace robocache {
namespace {

// ---- f16 / bf16 written independently of the IR's bit tricks: scale by the quantum and let
// nearbyint (round half to even) do the rounding.

std::uint16_t f16_from_float(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return sign | 0x7e00 | ((u >> 13) & 0x3ff);
  double a = std::fabs(static_cast<double>(f));
  if (a < std::ldexp(1.0, -14)) return sign | static_cast<std::uint16_t>(std::nearbyint(a / std::ldexp(1.0, -24)));
  int e = std::ilogb(a);
  double m = std::nearbyint(a / std::ldexp(1.0, e - 10));
  if (m == 2048) ++e, m = 1024;
  if (e > 15) return sign | 0x7c00;
  return sign | static_cast<std::uint16_t>(((e + 15) << 10) | (static_cast<int>(m) - 1024));
}

float f16_to_float(std::uint16_t h) {
  int e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? std::ldexp(m, -24)
             : e == 31 ? (m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity())
                       : std::ldexp(1024 + m, e - 25);
  return static_cast<float>((h & 0x8000) ? -v : v);
}

std::uint16_t bf16_from_float(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x40);
  double a = std::fabs(static_cast<double>(f));
  if (a < std::ldexp(1.0, -126)) return sign | static_cast<std::uint16_t>(std::nearbyint(a / std::ldexp(1.0, -133)));
  int e = std::ilogb(a);
  double m = std::nearbyint(a / std::ldexp(1.0, e - 7));
  if (m == 256) ++e, m = 128;
  if (e > 127) return sign | 0x7f80;
  return sign | static_cast<std::uint16_t>(((e + 127) << 7) | (static_cast<int>(m) - 128));
}

float bf16_to_float(std::uint16_t h) {
  std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- Arrays of any dtype, read and written as doubles or raw bits.

class Buffer {
 public:
  Buffer(DType t, std::size_t n) : t_(t), bytes_(n * dtype_size(t)) {}
  void set(std::size_t i, double v) {
    switch (t_) {
      case DType::F32: put(i, static_cast<float>(v)); break;
      case DType::F64: put(i, v); break;
      case DType::F16: put(i, f16_from_float(static_cast<float>(v))); break;
      case DType::BF16: put(i, bf16_from_float(static_cast<float>(v))); break;
      default: FAIL();
    }
  }
  double get(std::size_t i) const {
    switch (t_) {
      case DType::F32: return take<float>(i);
      case DType::F64: return take<double>(i);
      case DType::F16: return f16_to_float(take<std::uint16_t>(i));
      case DType::BF16: return bf16_to_float(take<std::uint16_t>(i));
      default: return 0;
    }
  }
  std::uint64_t bits(std::size_t i) const {
    std::uint64_t b = 0;
    std::memcpy(&b, bytes_.data() + i * dtype_size(t_), dtype_size(t_));
    return b;
  }
  void set_bits(std::size_t i, std::uint64_t b) { std::memcpy(bytes_.data() + i * dtype_size(t_), &b, dtype_size(t_)); }
  void* data() { return bytes_.data(); }
  std::size_t size() const { return bytes_.size() / dtype_size(t_); }

 private:
  template <class V> void put(std::size_t i, V v) { std::memcpy(bytes_.data() + i * sizeof(V), &v, sizeof(V)); }
  template <class V> V take(std::size_t i) const {
    V v;
    std::memcpy(&v, bytes_.data() + i * sizeof(V), sizeof(V));
    return v;
  }
  DType t_;
  std::vector<unsigned char> bytes_;
};

// One resample launch: shapes, inputs (already rounded to their dtypes), and the output.
struct Problem {
  ResampleSpec spec;
  std::int64_t B = 1, S = 1, T = 1;
  bool shared_src = false, shared_tgt = false;
  Buffer data{DType::F32, 0}, src{DType::F64, 0}, tgt{DType::F64, 0};

  Problem(ResampleSpec s, std::int64_t b, std::int64_t S_, std::int64_t T_, bool share_src, bool share_tgt)
      : spec(s), B(b), S(S_), T(T_), shared_src(share_src), shared_tgt(share_tgt),
        data(s.dtype, static_cast<std::size_t>(b * S_ * s.dim)),
        src(s.time_dtype, static_cast<std::size_t>((share_src ? 1 : b) * S_)),
        tgt(s.time_dtype, static_cast<std::size_t>((share_tgt ? 1 : b) * T_)) {}
  std::size_t src_index(std::int64_t b, std::int64_t s) const { return static_cast<std::size_t>((shared_src ? 0 : b * S) + s); }
  std::size_t tgt_index(std::int64_t b, std::int64_t t) const { return static_cast<std::size_t>((shared_tgt ? 0 : b * T) + t); }
  std::size_t data_index(std::int64_t b, std::int64_t s, std::int64_t c) const {
    return static_cast<std::size_t>((b * S + s) * spec.dim + c);
  }
  std::size_t out_index(std::int64_t b, std::int64_t t, std::int64_t c) const {
    return static_cast<std::size_t>((b * T + t) * spec.dim + c);
  }
};

std::shared_ptr<Backend> cpu_backend() {
  static std::shared_ptr<Backend> backend = make_cpu_backend();
  return backend;
}

// Kernels are compiled once per spec for the whole test binary.
const LoadedKernel& kernel_for(const ResampleSpec& s) {
  static std::mutex m;
  static std::map<std::tuple<DType, DType, std::int64_t>, std::unique_ptr<LoadedKernel>> kernels;
  std::lock_guard<std::mutex> lock(m);
  auto& k = kernels[{s.dtype, s.time_dtype, s.dim}];
  if (!k) {
    Spec spec(s);
    auto backend = cpu_backend();
    k = backend->load(backend->compile(backend->generate(spec, backend->default_config(spec))));
  }
  return *k;
}

Buffer run_kernel(Problem& p) {
  namespace abi = resample_abi;
  Buffer out(p.spec.dtype, static_cast<std::size_t>(p.B * p.T * p.spec.dim));
  KernelArgs args;
  args.set_ptr(abi::kData, p.data.data());
  args.set_ptr(abi::kSrcTimes, p.src.data());
  args.set_ptr(abi::kTgtTimes, p.tgt.data());
  args.set_ptr(abi::kOut, out.data());
  args.set_int(abi::kB, p.B);
  args.set_int(abi::kS, p.S);
  args.set_int(abi::kT, p.T);
  args.set_int(abi::kSrcRowStride, p.shared_src ? 0 : p.S);
  args.set_int(abi::kTgtRowStride, p.shared_tgt ? 0 : p.T);
  kernel_for(p.spec).launch(args, WorkShape{p.B, p.T}, LaunchPlace{});
  return out;
}

std::uint64_t nan_bits(DType t) {
  switch (t) {
    case DType::F16: return 0x7e00;
    case DType::BF16: return 0x7fc0;
    case DType::F32: return 0x7fc00000u;
    default: return 0x7ff8000000000000ull;
  }
}

// Where target t of row b falls: kind 0 NaN, 1 hold (index), 2 blend between l and l+1.
struct Bracket {
  int kind;
  std::int64_t l;
};

Bracket bracket(const Problem& p, std::int64_t b, std::int64_t t) {
  double x = p.tgt.get(p.tgt_index(b, t));
  if (std::isnan(x)) return {0, 0};
  if (x <= p.src.get(p.src_index(b, 0))) return {1, 0};
  if (x >= p.src.get(p.src_index(b, p.S - 1))) return {1, p.S - 1};
  std::int64_t l = 0;  // a linear scan, deliberately not the kernel's binary search
  for (std::int64_t s = 0; s < p.S; ++s)
    if (p.src.get(p.src_index(b, s)) <= x) l = s;
  return {2, l};
}

// The kernel's arithmetic step by step in C++ (weight in the time type, one rounding to the blend
// type, one fma): what any backend must produce bit for bit.
template <class Time, class Blend>
std::uint64_t model_bits(const Problem& p, const Bracket& k, std::int64_t b, std::int64_t t, std::int64_t c) {
  if (k.kind == 0) return nan_bits(p.spec.dtype);
  if (k.kind == 1) return p.data.bits(p.data_index(b, k.l, c));
  Time x = static_cast<Time>(p.tgt.get(p.tgt_index(b, t)));
  Time tl = static_cast<Time>(p.src.get(p.src_index(b, k.l)));
  Time tr = static_cast<Time>(p.src.get(p.src_index(b, k.l + 1)));
  Time a_time = (x - tl) / (tr - tl);
  Blend a = static_cast<Blend>(a_time);
  if (a == 0) return p.data.bits(p.data_index(b, k.l, c));
  Blend vl = static_cast<Blend>(p.data.get(p.data_index(b, k.l, c)));
  Blend vr = static_cast<Blend>(p.data.get(p.data_index(b, k.l + 1, c)));
  Blend o = std::fma(a, vr - vl, vl);
  Buffer one(p.spec.dtype, 1);
  one.set(0, o);  // f32 → f16/bf16 rounds once, f32/f64 are exact
  return one.bits(0);
}

std::uint64_t model(const Problem& p, const Bracket& k, std::int64_t b, std::int64_t t, std::int64_t c) {
  bool f64_time = p.spec.time_dtype == DType::F64, f64_blend = p.spec.dtype == DType::F64;
  if (f64_time && f64_blend) return model_bits<double, double>(p, k, b, t, c);
  if (f64_time) return model_bits<double, float>(p, k, b, t, c);
  if (f64_blend) return model_bits<float, double>(p, k, b, t, c);
  return model_bits<float, float>(p, k, b, t, c);
}

// Integer distance in ulps between two values of a 16-bit float format (sign-magnitude bits).
std::int64_t ulp_distance16(std::uint64_t a, std::uint64_t b) {
  auto ordered = [](std::uint64_t v) { return (v & 0x8000) ? -static_cast<std::int64_t>(v & 0x7fff) : static_cast<std::int64_t>(v); };
  return std::llabs(ordered(a) - ordered(b));
}

// Checks every output element: bit-exact against the model, and against a float64 reference
// within the dtype's tolerance; holds, exact hits and NaN targets exactly.
void check(const Problem& p, const Buffer& out) {
  const DType dt = p.spec.dtype;
  int mismatches = 0;
  for (std::int64_t b = 0; b < p.B; ++b)
    for (std::int64_t t = 0; t < p.T; ++t) {
      Bracket k = bracket(p, b, t);
      double x = p.tgt.get(p.tgt_index(b, t));
      for (std::int64_t c = 0; c < p.spec.dim; ++c) {
        std::size_t o = p.out_index(b, t, c);
        auto where = [&] { return ::testing::PrintToString(std::make_tuple(b, t, c)) + " x=" + std::to_string(x); };
        EXPECT_EQ(out.bits(o), model(p, k, b, t, c)) << where() << " got " << out.get(o);
        if (k.kind == 0) {
          EXPECT_EQ(out.bits(o), nan_bits(dt)) << where();
          continue;
        }
        double tl = p.src.get(p.src_index(b, k.l));
        if (k.kind == 1 || x == tl) {
          EXPECT_EQ(out.bits(o), p.data.bits(p.data_index(b, k.l, c))) << where() << " should equal sample " << k.l;
          continue;
        }
        double tr = p.src.get(p.src_index(b, k.l + 1));
        double vl = p.data.get(p.data_index(b, k.l, c)), vr = p.data.get(p.data_index(b, k.l + 1, c));
        double ref = vl + (x - tl) / (tr - tl) * (vr - vl);
        double got = out.get(o);
        if (dt == DType::F16 || dt == DType::BF16) {
          Buffer r(dt, 1);
          r.set(0, static_cast<float>(ref));
          // One ulp of the rounded result, or, where v[l] and v[r] - v[l] nearly cancel, the
          // absolute error f32 arithmetic on operands of that size cannot avoid.
          int e = std::max(std::ilogb(std::fabs(ref)), dt == DType::F16 ? -14 : -126);
          double ulp = std::ldexp(1.0, e - (dt == DType::F16 ? 10 : 7));
          bool near = ulp_distance16(out.bits(o), r.bits(0)) <= 1 ||
                      std::fabs(got - ref) <= ulp + 1e-6 * (std::fabs(vl) + std::fabs(vr - vl));
          EXPECT_TRUE(near) << where() << " got " << got << " want " << ref;
        } else {
          double rtol = dt == DType::F32 ? 1e-5 : (p.spec.time_dtype == DType::F64 ? 1e-12 : 1e-6);
          EXPECT_LE(std::fabs(got - ref), rtol * (std::fabs(ref) + std::fabs(vr - vl)) + 1e-300)
              << where() << " got " << got << " want " << ref;
        }
      }
      if (::testing::Test::HasFailure() && ++mismatches > 5) return;  // keep the log readable
    }
}

class ResampleCpu : public ::testing::TestWithParam<std::tuple<DType, DType>> {
 protected:
  void SetUp() override {
    if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
  }
  ResampleSpec spec(std::int64_t dim) const {
    ResampleSpec s;
    s.dtype = std::get<0>(GetParam());
    s.time_dtype = std::get<1>(GetParam());
    s.dim = dim;
    return s;
  }
};

// Source times with plateaus (repeated timestamps) and targets that cover before-start,
// after-end, exact hits on samples (including repeated ones), NaN and random interior points.
void fill_random(Problem& p, std::uint32_t seed, double t0 = 0.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::int64_t src_rows = p.shared_src ? 1 : p.B;
  for (std::int64_t b = 0; b < src_rows; ++b) {
    double t = t0 + u(rng);
    for (std::int64_t s = 0; s < p.S; ++s) {
      p.src.set(p.src_index(b, s), t);
      if (u(rng) > 0.15) t += 0.01 + u(rng);  // ~15% repeats
    }
  }
  for (std::size_t i = 0; i < p.data.size(); ++i) p.data.set(i, (u(rng) - 0.5) * 20.0);
  std::int64_t tgt_rows = p.shared_tgt ? 1 : p.B;
  for (std::int64_t b = 0; b < tgt_rows; ++b) {
    double lo = p.src.get(p.src_index(b, 0)), hi = p.src.get(p.src_index(b, p.S - 1));
    for (std::int64_t t = 0; t < p.T; ++t) {
      double r = u(rng), x;
      if (r < 0.05)
        x = lo - 1.0 - u(rng);
      else if (r < 0.10)
        x = hi + 1.0 + u(rng);
      else if (r < 0.25)
        x = p.src.get(p.src_index(b, static_cast<std::int64_t>(u(rng) * static_cast<double>(p.S))));
      else if (r < 0.28)
        x = std::numeric_limits<double>::quiet_NaN();
      else
        x = lo + (hi - lo) * u(rng);
      p.tgt.set(p.tgt_index(b, t), x);
    }
  }
}

TEST_P(ResampleCpu, PerRowTimesManyRows) {
  Problem p(spec(5), 3, 50, 300, false, false);
  fill_random(p, 1);
  check(p, run_kernel(p));
}

TEST_P(ResampleCpu, SharedTimes) {
  for (auto [share_src, share_tgt] : {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}}) {
    SCOPED_TRACE(::testing::Message() << "shared src " << share_src << ", shared tgt " << share_tgt);
    Problem p(spec(5), 4, 40, 100, share_src, share_tgt);
    fill_random(p, 2);
    check(p, run_kernel(p));
  }
}

TEST_P(ResampleCpu, WideRowsVectorise) {
  Problem p(spec(32), 2, 30, 200, false, true);
  fill_random(p, 3);
  check(p, run_kernel(p));
}

TEST_P(ResampleCpu, LargeLaunchUsesSeveralThreads) {
  // Far more items than one grain, so the launch is split over the default pool.
  Problem p(spec(3), 2, 100, 60000, true, false);
  fill_random(p, 4);
  check(p, run_kernel(p));
}

TEST_P(ResampleCpu, HoldsAndSingleSample) {
  Problem p(spec(2), 1, 1, 4, false, false);
  p.src.set(0, 5.0);
  p.data.set(0, 1.5);
  p.data.set(1, -2.25);
  p.tgt.set(0, -100.0);
  p.tgt.set(1, 5.0);
  p.tgt.set(2, 6.0);
  p.tgt.set(3, std::numeric_limits<double>::infinity());
  Buffer out = run_kernel(p);
  for (std::int64_t t = 0; t < 4; ++t) {
    EXPECT_EQ(out.bits(p.out_index(0, t, 0)), p.data.bits(0));
    EXPECT_EQ(out.bits(p.out_index(0, t, 1)), p.data.bits(1));
  }
}

TEST_P(ResampleCpu, RepeatedTimestampsPickTheLastEqualSample) {
  Problem p(spec(1), 1, 5, 5, false, false);
  const double t[] = {0, 1, 1, 1, 2}, v[] = {0, 10, 20, 30, 40};
  for (int i = 0; i < 5; ++i) p.src.set(i, t[i]), p.data.set(i, v[i]);
  const double x[] = {0.5, 1.0, 1.5, 2.0, -std::numeric_limits<double>::infinity()};
  for (int i = 0; i < 5; ++i) p.tgt.set(i, x[i]);
  Buffer out = run_kernel(p);
  EXPECT_EQ(out.get(0), 5.0);   // between t[0] and t[1]
  EXPECT_EQ(out.get(1), 30.0);  // l = 3, the last of the repeated 1s
  EXPECT_EQ(out.get(2), 35.0);  // between t[3] and t[4]
  EXPECT_EQ(out.get(3), 40.0);
  EXPECT_EQ(out.get(4), 0.0);
  check(p, out);
}

TEST_P(ResampleCpu, ExactHitsKeepSignedZeroAndInfinityNeighbours) {
  Problem p(spec(3), 1, 3, 3, false, false);
  const double inf = std::numeric_limits<double>::infinity();
  const double v[3][3] = {{1, 2, 3}, {-0.0, inf, -inf}, {4, 5, 6}};
  for (int s = 0; s < 3; ++s) {
    p.src.set(s, s);
    for (int c = 0; c < 3; ++c) p.data.set(p.data_index(0, s, c), v[s][c]);
  }
  p.tgt.set(0, 1.0);  // exact hit on the sample holding -0 and ±inf
  p.tgt.set(1, 0.5);
  p.tgt.set(2, 1.5);
  Buffer out = run_kernel(p);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(out.bits(p.out_index(0, 0, c)), p.data.bits(p.data_index(0, 1, c)));
  EXPECT_TRUE(std::signbit(out.get(p.out_index(0, 0, 0))));
  EXPECT_EQ(out.get(p.out_index(0, 1, 1)), inf);   // 2 + a*(inf - 2)
  EXPECT_EQ(out.get(p.out_index(0, 1, 2)), -inf);  // 3 + a*(-inf - 3)
  EXPECT_EQ(out.get(p.out_index(0, 2, 0)), 2.0);   // -0 + 0.5*(4 - -0)
}

TEST_P(ResampleCpu, NanTargetGivesNanRow) {
  Problem p(spec(4), 2, 3, 2, true, false);
  for (int s = 0; s < 3; ++s) p.src.set(s, s);
  for (std::size_t i = 0; i < p.data.size(); ++i) p.data.set(i, static_cast<double>(i));
  p.tgt.set(0, std::numeric_limits<double>::quiet_NaN());
  p.tgt.set(1, 1.25);
  p.tgt.set(2, 0.5);
  p.tgt.set(3, -std::numeric_limits<double>::quiet_NaN());
  Buffer out = run_kernel(p);
  for (int c = 0; c < 4; ++c) {
    EXPECT_TRUE(std::isnan(out.get(p.out_index(0, 0, c))));
    EXPECT_FALSE(std::isnan(out.get(p.out_index(0, 1, c))));
    EXPECT_TRUE(std::isnan(out.get(p.out_index(1, 1, c))));
  }
  check(p, out);
}

// The kernel starts each bracket search from the previous target's bracket: targets in every
// order (ascending, descending, random, sorted runs that jump back, long constant stretches,
// every repeated source timestamp), with holds and NaN mixed in, must give the same bits as a
// search from scratch. Several rows and a shared target row, so items carry hints across rows.
void fill_orders(Problem& p, std::uint32_t seed) {
  fill_random(p, seed);
  std::mt19937 rng(seed + 1000);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::int64_t tgt_rows = p.shared_tgt ? 1 : p.B;
  for (std::int64_t b = 0; b < tgt_rows; ++b) {
    std::vector<double> row(static_cast<std::size_t>(p.T));
    for (std::int64_t t = 0; t < p.T; ++t) row[t] = p.tgt.get(p.tgt_index(b, t));
    auto by_value = [](double a, double c) { return std::isnan(c) ? !std::isnan(a) : a < c; };  // NaN last
    switch ((b + seed) % 6) {
      case 0: std::sort(row.begin(), row.end(), by_value); break;
      case 1: std::sort(row.rbegin(), row.rend(), by_value); break;
      case 2: break;  // random order
      case 3:         // sorted runs of random length, each starting anywhere
        for (std::size_t i = 0; i < row.size();) {
          std::size_t n = std::min(row.size() - i, 1 + static_cast<std::size_t>(u(rng) * 40));
          std::sort(row.begin() + i, row.begin() + i + n, by_value);
          i += n;
        }
        break;
      case 4:  // sorted, then NaN and out-of-range values sprinkled back in at random places
        std::sort(row.begin(), row.end(), by_value);
        for (std::size_t i = 0; i < row.size(); i += 1 + static_cast<std::size_t>(u(rng) * 9))
          row[i] = u(rng) < 0.5 ? std::numeric_limits<double>::quiet_NaN() : (u(rng) < 0.5 ? -1e300 : 1e300);
        break;
      case 5: {  // every source timestamp in order, each several times, then a few in between
        std::int64_t sb = p.shared_src ? 0 : (p.shared_tgt ? 0 : b);
        for (std::int64_t t = 0; t < p.T; ++t) {
          std::int64_t s = std::min<std::int64_t>(p.S - 1, t / 3);
          row[t] = t % 5 == 4 ? p.src.get(p.src_index(sb, s)) + 0.004 : p.src.get(p.src_index(sb, s));
        }
        break;
      }
    }
    for (std::int64_t t = 0; t < p.T; ++t) p.tgt.set(p.tgt_index(b, t), row[t]);
  }
}

TEST_P(ResampleCpu, TargetsInAnyOrderMatchAFreshSearch) {
  for (std::uint32_t seed = 0; seed < 6; ++seed) {
    Problem p(spec(3), 7, 64, 200, false, false);
    fill_orders(p, 40 + seed);
    check(p, run_kernel(p));
    if (::testing::Test::HasFailure()) return;
  }
  for (bool share_src : {false, true}) {
    Problem p(spec(2), 5, 300, 400, share_src, true);
    fill_orders(p, 50 + share_src);
    check(p, run_kernel(p));
  }
  // Many rows of few samples and a large launch: hints cross rows and thread chunks.
  Problem p(spec(1), 400, 3, 60, false, false);
  fill_orders(p, 60);
  check(p, run_kernel(p));
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<DType, DType>>& info) {
  return std::string(dtype_name(std::get<0>(info.param))) + "_time_" + std::string(dtype_name(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, ResampleCpu,
                         ::testing::Combine(::testing::Values(DType::F32, DType::F16, DType::BF16, DType::F64),
                                            ::testing::Values(DType::F32, DType::F64)),
                         param_name);

class ResampleCpuCases : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
  }
};

TEST_F(ResampleCpuCases, EpochSecondsKeepSubMillisecondResolution) {
  // Robot logs at ~1.7e9 s: f32 would see 128 s steps; f64 times must interpolate 100 Hz data.
  ResampleSpec s;
  s.dtype = DType::F32;
  s.time_dtype = DType::F64;
  s.dim = 2;
  Problem p(s, 2, 200, 500, false, false);
  fill_random(p, 5, 1.7e9);
  check(p, run_kernel(p));
  Problem q(s, 1, 2, 1, false, false);
  q.src.set(0, 1.7e9);
  q.src.set(1, 1.7e9 + 0.01);
  q.data.set(0, 0.0), q.data.set(1, 0.0), q.data.set(2, 100.0), q.data.set(3, -100.0);
  q.tgt.set(0, 1.7e9 + 0.0025);
  Buffer out = run_kernel(q);
  EXPECT_NEAR(out.get(0), 25.0, 1e-3);
  EXPECT_NEAR(out.get(1), -25.0, 1e-3);
}

// Every 16-bit pattern through the blend: out = fma(0.5, 0 - v, v) = v/2 in f32, then rounded
// to the 16-bit format, which exercises exact widening and every rounding case (subnormal ties).
void exhaustive_half(DType dtype) {
  ResampleSpec s;
  s.dtype = dtype;
  s.time_dtype = DType::F32;
  s.dim = 1 << 16;
  Problem p(s, 1, 2, 1, false, false);
  p.src.set(0, 0.0);
  p.src.set(1, 2.0);
  p.tgt.set(0, 1.0);
  for (std::uint32_t h = 0; h < (1u << 16); ++h) {
    p.data.set_bits(h, h);
    p.data.set_bits((1u << 16) + h, 0);
  }
  Buffer out = run_kernel(p);
  for (std::uint32_t h = 0; h < (1u << 16); ++h) {
    float v = dtype == DType::F16 ? f16_to_float(static_cast<std::uint16_t>(h)) : bf16_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(out.get(h))) << std::hex << h;
      continue;
    }
    float want = std::isinf(v) ? std::numeric_limits<float>::quiet_NaN() : std::fma(0.5f, 0.0f - v, v);
    std::uint16_t bits = dtype == DType::F16 ? f16_from_float(want) : bf16_from_float(want);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(out.get(h))) << std::hex << h;
    else
      ASSERT_EQ(out.bits(h), bits) << std::hex << "input 0x" << h;
  }
}

TEST_F(ResampleCpuCases, F16EveryBitPatternRoundsToNearestEven) { exhaustive_half(DType::F16); }

TEST_F(ResampleCpuCases, Bf16EveryBitPatternRoundsToNearestEven) { exhaustive_half(DType::BF16); }

TEST_F(ResampleCpuCases, F16OverflowAndBf16NanStayInRange) {
  // 65504 + a*(65535 - 65504) rounds past the largest f16 to inf; a bf16 NaN sample stays NaN.
  for (DType dt : {DType::F16, DType::BF16}) {
    ResampleSpec s;
    s.dtype = dt;
    s.time_dtype = DType::F64;
    s.dim = 2;
    Problem p(s, 1, 2, 1, false, false);
    p.src.set(0, 0.0);
    p.src.set(1, 1.0);
    p.tgt.set(0, 0.5);
    if (dt == DType::F16) {
      p.data.set_bits(0, 0x7bff);  // 65504
      p.data.set_bits(2, 0x7c00);  // inf
      p.data.set_bits(1, 0x0001);
      p.data.set_bits(3, 0x0002);
    } else {
      p.data.set_bits(0, 0x7fc1);  // NaN
      p.data.set_bits(2, 0x3f80);
      p.data.set_bits(1, 0xff81);  // -NaN (signalling payload)
      p.data.set_bits(3, 0x3f80);
    }
    Buffer out = run_kernel(p);
    if (dt == DType::F16) {
      EXPECT_EQ(out.bits(0), 0x7c00u);
      EXPECT_EQ(out.bits(1), 0x0002u);  // 1.5 subnormal ulps: tie to even
    } else {
      EXPECT_TRUE(std::isnan(out.get(0)));
      EXPECT_TRUE(std::isnan(out.get(1)));
    }
  }
}

}  // namespace
}  // namespace robocache
