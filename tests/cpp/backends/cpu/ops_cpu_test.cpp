// The CPU backend's resample modes, channel groups and lengths (ops.md §1), fuse (§2) and
// voxelize (§3), through the public pipeline: make_cpu_backend() → generate → compile → load →
// launch, against float64 references written independently of the IR.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/backend.h"
#include "compiler/fuse_abi.h"
#include "compiler/resample_abi.h"
#include "compiler/voxelize_abi.h"

namespace robocache {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::shared_ptr<Backend> cpu_backend() {
  static std::shared_ptr<Backend> backend = make_cpu_backend();
  return backend;
}

const LoadedKernel& kernel_for(const Spec& spec) {
  static std::mutex m;
  static std::map<std::string, std::unique_ptr<LoadedKernel>> kernels;
  std::lock_guard<std::mutex> lock(m);
  auto& k = kernels[spec.canonical_json()];
  if (!k) {
    auto backend = cpu_backend();
    k = backend->load(backend->compile(backend->generate(spec, backend->default_config(spec))));
  }
  return *k;
}

template <class V> constexpr DType dtype_of() { return sizeof(V) == 4 ? DType::F32 : DType::F64; }

// One resample problem with float or double values and times; times per row, or shared.
template <class V, class Tm>
struct Problem {
  std::int64_t B, S, T, D;
  bool shared_src = false, shared_tgt = false;
  std::vector<V> data;
  std::vector<Tm> src, tgt;
  std::vector<std::int64_t> lengths;  // empty: all S

  Problem(std::int64_t b, std::int64_t s, std::int64_t t, std::int64_t d, bool share_src = false, bool share_tgt = false)
      : B(b), S(s), T(t), D(d), shared_src(share_src), shared_tgt(share_tgt),
        data(static_cast<std::size_t>(b * s * d)), src(static_cast<std::size_t>((share_src ? 1 : b) * s)),
        tgt(static_cast<std::size_t>((share_tgt ? 1 : b) * t)) {}
  double t_src(std::int64_t b, std::int64_t s) const { return src[(shared_src ? 0 : b * S) + s]; }
  double t_tgt(std::int64_t b, std::int64_t t) const { return tgt[(shared_tgt ? 0 : b * T) + t]; }
  double v(std::int64_t b, std::int64_t s, std::int64_t c) const { return data[(b * S + s) * D + c]; }
  V& at(std::int64_t b, std::int64_t s, std::int64_t c) { return data[(b * S + s) * D + c]; }
  std::int64_t L(std::int64_t b) const { return lengths.empty() ? S : lengths[b]; }
};

ResampleSpec make_spec(DType dtype, DType time, std::int64_t dim, Interp mode, std::vector<ChannelGroup> groups = {}) {
  ResampleSpec s;
  s.dtype = dtype;
  s.time_dtype = time;
  s.dim = dim;
  s.interp = mode;
  s.groups = std::move(groups);
  return s;
}

template <class V, class Tm>
std::vector<V> run_resample(const ResampleSpec& spec, Problem<V, Tm>& p) {
  namespace abi = resample_abi;
  std::vector<V> out(static_cast<std::size_t>(p.B * p.T * p.D), static_cast<V>(-12345));
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
  args.set_ptr(abi::kLengths, p.lengths.empty() ? nullptr : p.lengths.data());
  kernel_for(Spec(spec)).launch(args, WorkShape{p.B, p.T}, LaunchPlace{});
  return out;
}

// ---- float64 reference of ops.md §1 for one row and target.

struct RefBracket {
  int kind;  // 0 NaN, 1 hold l, 2 interior [l, l+1]
  std::int64_t l;
  double a;
};

template <class V, class Tm>
RefBracket ref_bracket(const Problem<V, Tm>& p, std::int64_t b, double x) {
  std::int64_t L = p.L(b);
  if (std::isnan(x)) return {0, 0, 0};
  if (x <= p.t_src(b, 0)) return {1, 0, 0};
  if (x >= p.t_src(b, L - 1)) return {1, L - 1, 0};
  std::int64_t l = 0;
  for (std::int64_t s = 0; s < L; ++s)
    if (p.t_src(b, s) <= x) l = s;
  double tl = p.t_src(b, l), tr = p.t_src(b, l + 1);
  return {2, l, (x - tl) / (tr - tl)};
}

template <class V, class Tm>
std::vector<double> ref_row(const Problem<V, Tm>& p, const std::vector<ChannelGroup>& groups, std::int64_t b, std::int64_t t) {
  double x = p.t_tgt(b, t);
  RefBracket k = ref_bracket(p, b, x);
  std::vector<double> out(static_cast<std::size_t>(p.D));
  std::int64_t L = p.L(b);
  for (std::int64_t c = 0; c < p.D; ++c) out[c] = k.kind == 0 ? kNaN : p.v(b, k.l, c);
  if (k.kind != 2) return out;
  std::int64_t l = k.l, r = l + 1;
  double a = k.a, tl = p.t_src(b, l), tr = p.t_src(b, r);
  for (const ChannelGroup& g : groups) {
    for (std::int64_t c = g.start; c < g.start + g.size; ++c) {
      double vl = p.v(b, l, c), vr = p.v(b, r, c);
      switch (g.interp) {
        case Interp::Linear: out[c] = vl + a * (vr - vl); break;
        case Interp::Nearest: out[c] = (x - tl <= tr - x) ? vl : vr; break;
        case Interp::Previous: out[c] = vl; break;
        case Interp::Cubic: {
          auto tangent = [&](std::int64_t i) {
            std::int64_t lo = std::max<std::int64_t>(i - 1, 0), hi = std::min<std::int64_t>(i + 1, L - 1);
            double dt = p.t_src(b, hi) - p.t_src(b, lo);
            return dt == 0 ? 0.0 : (p.v(b, hi, c) - p.v(b, lo, c)) / dt;
          };
          double h = tr - tl, s = a, s2 = s * s, s3 = s2 * s;
          out[c] = (2 * s3 - 3 * s2 + 1) * vl + (s3 - 2 * s2 + s) * h * tangent(l) + (-2 * s3 + 3 * s2) * vr +
                   (s3 - s2) * h * tangent(r);
          break;
        }
        case Interp::Slerp: break;
      }
    }
    if (g.interp == Interp::Slerp) {
      double ql[4], qr[4], q[4], d = 0;
      for (int i = 0; i < 4; ++i) ql[i] = p.v(b, l, g.start + i), qr[i] = p.v(b, r, g.start + i), d += ql[i] * qr[i];
      if (d < 0) {
        d = -d;
        for (double& e : qr) e = -e;
      }
      double theta = std::acos(std::min(d, 1.0));
      for (int i = 0; i < 4; ++i)
        q[i] = theta < 1e-6 ? ql[i] + a * (qr[i] - ql[i])
                            : (std::sin((1 - a) * theta) * ql[i] + std::sin(a * theta) * qr[i]) / std::sin(theta);
      double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
      for (int i = 0; i < 4; ++i) out[g.start + i] = q[i] / n;
    }
  }
  return out;
}

// Compares every output with the reference within tol*(1+|ref|); NaN must be NaN.
template <class V, class Tm>
void check_against_reference(const Problem<V, Tm>& p, const std::vector<ChannelGroup>& groups, const std::vector<V>& out,
                             double tol) {
  int failures = 0;
  for (std::int64_t b = 0; b < p.B; ++b)
    for (std::int64_t t = 0; t < p.T; ++t) {
      std::vector<double> ref = ref_row(p, groups, b, t);
      for (std::int64_t c = 0; c < p.D; ++c) {
        double got = out[(b * p.T + t) * p.D + c];
        if (std::isnan(ref[c])) {
          EXPECT_TRUE(std::isnan(got)) << b << "," << t << "," << c;
          continue;
        }
        EXPECT_NEAR(got, ref[c], tol * (1 + std::fabs(ref[c]))) << "row " << b << " target " << t << " (x=" << p.t_tgt(b, t)
                                                                << ") channel " << c;
      }
      if (::testing::Test::HasFailure() && ++failures > 5) return;
    }
}

class OpsCpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
  }
};

// Strictly increasing random times with uneven spacing, and targets covering the whole span,
// before/after, exact hits and NaN.
template <class V, class Tm>
void fill(Problem<V, Tm>& p, std::uint32_t seed, bool quaternions_from = false, std::int64_t quat_start = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::int64_t b = 0; b < (p.shared_src ? 1 : p.B); ++b) {
    double t = u(rng);
    for (std::int64_t s = 0; s < p.S; ++s) p.src[b * p.S + s] = static_cast<Tm>(t), t += 0.05 + u(rng);
  }
  for (auto& v : p.data) v = static_cast<V>(u(rng) * 20 - 10);
  if (quaternions_from)
    for (std::int64_t b = 0; b < p.B; ++b)
      for (std::int64_t s = 0; s < p.S; ++s) {
        double q[4], n = 0;
        for (double& e : q) e = u(rng) * 2 - 1, n += e * e;
        n = std::sqrt(n);
        double sign = (s % 3 == 1) ? -1.0 : 1.0;  // some neighbours on the far hemisphere
        for (int i = 0; i < 4; ++i) p.at(b, s, quat_start + i) = static_cast<V>(sign * q[i] / n);
      }
  for (std::int64_t b = 0; b < (p.shared_tgt ? 1 : p.B); ++b) {
    std::int64_t sb = p.shared_src ? 0 : b;
    double lo = p.src[sb * p.S] - 0.5, hi = p.src[sb * p.S + p.S - 1] + 0.5;
    for (std::int64_t t = 0; t < p.T; ++t) {
      double x = lo + (hi - lo) * u(rng);
      if (t % 7 == 3) x = p.src[sb * p.S + (t / 7) % p.S];  // exact hit
      if (t == p.T - 1) x = kNaN;
      p.tgt[b * p.T + t] = static_cast<Tm>(x);
    }
  }
}

TEST_F(OpsCpu, NearestTieGoesToTheEarlierSample) {
  for (DType time : {DType::F64, DType::F32}) {
    Problem<float, double> p(1, 3, 8, 2);
    p.src = {0.0, 1.0, 2.0};
    p.data = {10, -1, 20, -2, 30, -3};
    p.tgt = {0.5, 0.6, 1.4, 1.5, 1.75, -1.0, 5.0, 0.25};
    std::vector<float> expect = {10, -1, 20, -2, 20, -2, 20, -2, 30, -3, 10, -1, 30, -3, 10, -1};
    std::vector<float> out;
    if (time == DType::F64) {
      out = run_resample(make_spec(DType::F32, DType::F64, 2, Interp::Nearest), p);
    } else {
      Problem<float, float> q(1, 3, 8, 2);
      q.src = {0.0f, 1.0f, 2.0f};
      q.data = p.data;
      for (std::size_t i = 0; i < p.tgt.size(); ++i) q.tgt[i] = static_cast<float>(p.tgt[i]);
      out = run_resample(make_spec(DType::F32, DType::F32, 2, Interp::Nearest), q);
    }
    for (std::size_t i = 0; i < expect.size(); ++i) EXPECT_EQ(out[i], expect[i]) << dtype_name(time) << " " << i;
  }
}

TEST_F(OpsCpu, NearestAndPreviousCopySamplesBitForBit) {
  for (Interp mode : {Interp::Nearest, Interp::Previous}) {
    Problem<double, double> p(3, 9, 40, 5);
    fill(p, 11);
    p.at(1, 2, 0) = -0.0;
    auto out = run_resample(make_spec(DType::F64, DType::F64, 5, mode), p);
    std::vector<ChannelGroup> groups = {{0, 5, mode}};
    for (std::int64_t b = 0; b < p.B; ++b)
      for (std::int64_t t = 0; t < p.T; ++t) {
        std::vector<double> ref = ref_row(p, groups, b, t);
        for (std::int64_t c = 0; c < p.D; ++c) {
          double got = out[(b * p.T + t) * p.D + c];
          if (std::isnan(ref[c])) {
            EXPECT_TRUE(std::isnan(got));
          } else {
            EXPECT_EQ(std::signbit(got), std::signbit(ref[c]));
            EXPECT_EQ(got, ref[c]) << interp_name(mode) << " " << b << "," << t << "," << c;
          }
        }
      }
  }
}

TEST_F(OpsCpu, PreviousHoldsTheLastSampleAtOrBefore) {
  Problem<float, double> p(1, 4, 6, 1);
  p.src = {0, 1, 1, 3};  // repeated timestamp: the later of the equal samples wins
  p.data = {1, 2, 3, 4};
  p.tgt = {-1, 0.99, 1.0, 2.5, 3.0, 9};
  auto out = run_resample(make_spec(DType::F32, DType::F64, 1, Interp::Previous), p);
  EXPECT_EQ(out, (std::vector<float>{1, 1, 3, 3, 4, 4}));
}

TEST_F(OpsCpu, CubicMatchesAFloat64HermiteReference) {
  {
    Problem<float, double> p(4, 13, 60, 3);
    fill(p, 21);
    check_against_reference(p, {{0, 3, Interp::Cubic}}, run_resample(make_spec(DType::F32, DType::F64, 3, Interp::Cubic), p),
                            1e-4);
  }
  {
    Problem<double, double> p(2, 7, 50, 2, true, false);
    fill(p, 22);
    check_against_reference(p, {{0, 2, Interp::Cubic}}, run_resample(make_spec(DType::F64, DType::F64, 2, Interp::Cubic), p),
                            1e-10);
  }
  {
    Problem<float, float> p(2, 5, 30, 1);
    fill(p, 23);
    check_against_reference(p, {{0, 1, Interp::Cubic}}, run_resample(make_spec(DType::F32, DType::F32, 1, Interp::Cubic), p),
                            1e-4);
  }
}

TEST_F(OpsCpu, CubicReproducesACubicPolynomialInside) {
  // Hermite with exact tangents would reproduce any cubic; finite differences reproduce a line.
  Problem<double, double> p(1, 6, 20, 1);
  for (int s = 0; s < 6; ++s) p.src[s] = s * 0.5, p.data[s] = 3 * s * 0.5 - 2;
  for (int t = 0; t < 20; ++t) p.tgt[t] = -0.2 + t * 0.15;
  auto out = run_resample(make_spec(DType::F64, DType::F64, 1, Interp::Cubic), p);
  for (int t = 0; t < 20; ++t) {
    double x = std::clamp(p.tgt[t], 0.0, 2.5);
    EXPECT_NEAR(out[t], 3 * x - 2, 1e-12) << t;
  }
}

TEST_F(OpsCpu, SlerpMatchesAFloat64ReferenceAlongTheShorterArc) {
  {
    Problem<float, double> p(3, 10, 64, 4);
    fill(p, 31, true, 0);
    auto out = run_resample(make_spec(DType::F32, DType::F64, 4, Interp::Slerp), p);
    check_against_reference(p, {{0, 4, Interp::Slerp}}, out, 2e-6);
    for (std::int64_t i = 0; i < p.B * p.T; ++i) {
      if (i % p.T == p.T - 1) continue;  // NaN target
      double n = 0;
      for (int c = 0; c < 4; ++c) n += static_cast<double>(out[i * 4 + c]) * out[i * 4 + c];
      EXPECT_NEAR(std::sqrt(n), 1.0, 1e-6) << i;
    }
  }
  {
    Problem<double, double> p(2, 8, 64, 4);
    fill(p, 32, true, 0);
    check_against_reference(p, {{0, 4, Interp::Slerp}}, run_resample(make_spec(DType::F64, DType::F64, 4, Interp::Slerp), p),
                            1e-12);
  }
  {
    // Shorter arc: q and -q are the same rotation; the halfway point of identity and a -20°
    // rotation stored with negated sign is the 10° rotation, not a 170° one.
    Problem<double, double> p(1, 2, 1, 4);
    p.src = {0, 1};
    double h = 20.0 * M_PI / 180 / 2;
    p.data = {0, 0, 0, 1, 0, 0, -std::sin(h), -std::cos(h)};
    p.tgt = {0.5};
    auto out = run_resample(make_spec(DType::F64, DType::F64, 4, Interp::Slerp), p);
    EXPECT_NEAR(out[2], std::sin(h / 2), 1e-12);
    EXPECT_NEAR(out[3], std::cos(h / 2), 1e-12);
    // Equal quaternions take the nlerp branch and stay put.
    p.data = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    out = run_resample(make_spec(DType::F64, DType::F64, 4, Interp::Slerp), p);
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(out[c], 0.5, 1e-15);
  }
}

TEST_F(OpsCpu, ChannelGroupsUseTheirOwnModes) {
  std::vector<ChannelGroup> groups = {{0, 3, Interp::Linear}, {3, 4, Interp::Slerp}, {7, 1, Interp::Previous}};
  Problem<float, double> p(3, 11, 50, 8, false, true);
  fill(p, 41, true, 3);
  auto out = run_resample(make_spec(DType::F32, DType::F64, 8, Interp::Linear, groups), p);
  check_against_reference(p, groups, out, 2e-6);
  // Bit for bit the same as each group's mode run alone on its channels.
  auto alone = [&](std::int64_t start, std::int64_t size, Interp mode) {
    Problem<float, double> q(p.B, p.S, p.T, size, false, true);
    q.src = p.src;
    q.tgt = p.tgt;
    for (std::int64_t b = 0; b < p.B; ++b)
      for (std::int64_t s = 0; s < p.S; ++s)
        for (std::int64_t c = 0; c < size; ++c) q.at(b, s, c) = p.at(b, s, start + c);
    auto r = run_resample(make_spec(DType::F32, DType::F64, size, mode), q);
    for (std::int64_t i = 0; i < p.B * p.T; ++i)
      for (std::int64_t c = 0; c < size; ++c) {
        float got = out[i * 8 + start + c], want = r[i * size + c];
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got));
        else
          EXPECT_EQ(got, want) << interp_name(mode) << " item " << i << " channel " << c;
      }
  };
  alone(0, 3, Interp::Linear);
  alone(3, 4, Interp::Slerp);
  alone(7, 1, Interp::Previous);
}

TEST_F(OpsCpu, LengthsLimitTheSamplesOfEachRow) {
  for (Interp mode : {Interp::Linear, Interp::Nearest, Interp::Previous, Interp::Cubic}) {
    Problem<double, double> p(3, 6, 30, 2);
    fill(p, 51);
    p.lengths = {1, 4, 6};
    // Samples past L must not matter: poison them.
    for (std::int64_t b = 0; b < p.B; ++b) {
      for (std::int64_t s = p.L(b); s < p.S; ++s) {
        p.at(b, s, 0) = 1e30, p.at(b, s, 1) = kNaN;
        p.src[b * p.S + s] = s % 2 ? kNaN : -1e9;  // not even sorted
      }
    }
    auto out = run_resample(make_spec(DType::F64, DType::F64, 2, mode), p);
    check_against_reference(p, {{0, 2, mode}}, out, 1e-12);
    for (std::int64_t t = 0; t + 1 < p.T; ++t) {  // L = 1 holds v[0] everywhere
      EXPECT_EQ(out[t * 2 + 0], p.v(0, 0, 0));
      EXPECT_EQ(out[t * 2 + 1], p.v(0, 0, 1));
    }
  }
  // Slerp too.
  Problem<float, double> p(2, 5, 20, 4);
  fill(p, 52, true, 0);
  p.lengths = {1, 3};
  for (std::int64_t s = 3; s < 5; ++s)
    for (int c = 0; c < 4; ++c) p.at(1, s, c) = 7.0f;
  check_against_reference(p, {{0, 4, Interp::Slerp}}, run_resample(make_spec(DType::F32, DType::F64, 4, Interp::Slerp), p),
                          2e-6);
}

TEST_F(OpsCpu, GeneratedEntriesAreDistinctPerSpec) {
  auto backend = cpu_backend();
  std::vector<std::string> entries;
  for (Interp mode : {Interp::Linear, Interp::Nearest, Interp::Previous, Interp::Cubic})
    entries.push_back(backend->generate(Spec(make_spec(DType::F32, DType::F64, 4, mode)), Config{}).entry);
  entries.push_back(backend->generate(Spec(make_spec(DType::F32, DType::F64, 4, Interp::Slerp)), Config{}).entry);
  entries.push_back(backend->generate(Spec(make_spec(DType::F32, DType::F64, 4, Interp::Linear,
                                                     {{0, 1, Interp::Linear}, {1, 3, Interp::Nearest}})),
                                      Config{})
                        .entry);
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(std::unique(entries.begin(), entries.end()), entries.end());
  // Slerp's libm calls resolve in the JIT (acos/sin), and no fast-math flags appear.
  KernelSource src = backend->generate(Spec(make_spec(DType::F64, DType::F32, 4, Interp::Slerp)), Config{});
  EXPECT_NE(src.text.find("@acos("), std::string::npos);
  for (const char* flag : {" fast ", " nnan ", " ninf ", " contract ", " reassoc ", " afn ", " arcp "})
    EXPECT_EQ(src.text.find(flag), std::string::npos) << flag;
  for (DType v : {DType::F16, DType::BF16})
    for (Interp mode : {Interp::Cubic, Interp::Slerp, Interp::Nearest}) {
      Spec spec(make_spec(v, DType::F64, 4, mode));
      EXPECT_NO_THROW(kernel_for(spec)) << dtype_name(v) << " " << interp_name(mode);
    }
}

TEST_F(OpsCpu, Bf16GroupsRoundLikeTheirF32Blend) {
  // f16/bf16 values widen exactly; a previous group must copy the stored bits.
  std::vector<ChannelGroup> groups = {{0, 1, Interp::Previous}, {1, 4, Interp::Slerp}};
  Spec spec(make_spec(DType::BF16, DType::F64, 5, Interp::Linear, groups));
  std::vector<std::uint16_t> data = {0x8001, 0, 0, 0, 0x3f80, 0x4049, 0, 0, 0x3f35, 0x3f35};
  std::vector<double> src = {0, 1}, tgt = {0.5};
  std::vector<std::uint16_t> out(5);
  namespace abi = resample_abi;
  KernelArgs args;
  args.set_ptr(abi::kData, data.data());
  args.set_ptr(abi::kSrcTimes, src.data());
  args.set_ptr(abi::kTgtTimes, tgt.data());
  args.set_ptr(abi::kOut, out.data());
  args.set_int(abi::kB, 1);
  args.set_int(abi::kS, 2);
  args.set_int(abi::kT, 1);
  kernel_for(spec).launch(args, WorkShape{1, 1}, LaunchPlace{});
  EXPECT_EQ(out[0], 0x8001);
  auto f = [](std::uint16_t h) {
    std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &u, 4);
    return x;
  };
  // Halfway between identity and a 90° rotation about z: (0, 0, sin 22.5°, cos 22.5°).
  EXPECT_NEAR(f(out[3]), std::sin(M_PI / 8), 4e-3);
  EXPECT_NEAR(f(out[4]), std::cos(M_PI / 8), 4e-3);
}

// ---- fuse

TEST_F(OpsCpu, FuseMatchesResamplingEachModalitySeparately) {
  FuseSpec fs;
  fs.dtype = DType::F32;
  fs.time_dtype = DType::F64;
  fs.modalities = {{3, Interp::Linear}, {4, Interp::Slerp}, {2, Interp::Previous}, {1, Interp::Cubic}};
  const std::int64_t B = 3, T = 45;
  Problem<float, double> m0(B, 10, T, 3, false, false), m1(B, 7, T, 4, true, false), m2(B, 5, T, 2, false, false),
      m3(B, 9, T, 1, false, false);
  fill(m0, 61);
  fill(m1, 62, true, 0);
  fill(m2, 63);
  fill(m3, 64);
  m2.lengths = {5, 1, 3};
  // One target timeline, shared by every modality: take m0's.
  for (auto* m : {&m1, &m2, &m3}) m->tgt = m0.tgt;
  std::vector<float> out(static_cast<std::size_t>(B * T * 10), -7.0f);
  namespace abi = fuse_abi;
  KernelArgs args;
  args.set_ptr(abi::kOut, out.data());
  args.set_ptr(abi::kTgtTimes, m0.tgt.data());
  args.set_int(abi::kB, B);
  args.set_int(abi::kT, T);
  args.set_int(abi::kTgtRowStride, T);
  int i = 0;
  for (auto* m : {&m0, &m1, &m2, &m3}) {
    args.set_ptr(abi::modality_slot(i, abi::kData), m->data.data());
    args.set_ptr(abi::modality_slot(i, abi::kTimes), m->src.data());
    args.set_int(abi::modality_slot(i, abi::kS), m->S);
    args.set_int(abi::modality_slot(i, abi::kTimesRowStride), m->shared_src ? 0 : m->S);
    args.set_ptr(abi::modality_slot(i, abi::kLengths), m->lengths.empty() ? nullptr : m->lengths.data());
    ++i;
  }
  kernel_for(Spec(fs)).launch(args, WorkShape{B, T}, LaunchPlace{});
  i = 0;
  for (auto* m : {&m0, &m1, &m2, &m3}) {
    const Modality& mod = fs.modalities[i];
    auto alone = run_resample(make_spec(DType::F32, DType::F64, mod.dim, mod.interp), *m);
    std::int64_t offset = fs.offset(i);
    for (std::int64_t w = 0; w < B * T; ++w)
      for (std::int64_t c = 0; c < mod.dim; ++c) {
        float got = out[w * 10 + offset + c], want = alone[w * mod.dim + c];
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got));
        else
          EXPECT_EQ(got, want) << "modality " << i << " item " << w << " channel " << c;
      }
    check_against_reference(*m, {{0, mod.dim, mod.interp}}, alone, 1e-4);
    ++i;
  }
}

// Bracket searches start from the previous target's bracket (per modality), which must not leak
// across rows of different lengths: sorted, reversed and random targets, lengths from 1 to S.
TEST_F(OpsCpu, SearchHintsRespectRowsAndLengths) {
  const std::int64_t B = 9, T = 120;
  Problem<double, double> m0(B, 40, T, 2), m1(B, 13, T, 3);
  fill(m0, 71);
  fill(m1, 72);
  m0.lengths = {40, 1, 2, 40, 7, 3, 40, 1, 25};
  m1.lengths = {1, 13, 5, 2, 13, 13, 4, 13, 9};
  for (std::int64_t b = 0; b < B; ++b) {
    auto first = m0.tgt.begin() + b * T, last = first + T;
    if (b % 3 == 0) std::sort(first, last - 1);  // the last target is NaN
    if (b % 3 == 1) std::sort(first, last - 1, std::greater<>());
  }
  m1.tgt = m0.tgt;
  for (auto* m : {&m0, &m1})
    check_against_reference(*m, {{0, m->D, Interp::Linear}},
                            run_resample(make_spec(DType::F64, DType::F64, m->D, Interp::Linear), *m), 1e-12);
  FuseSpec fs;
  fs.dtype = DType::F64;
  fs.time_dtype = DType::F64;
  fs.modalities = {{2, Interp::Linear}, {3, Interp::Cubic}};
  std::vector<double> out(static_cast<std::size_t>(B * T * 5));
  namespace abi = fuse_abi;
  KernelArgs args;
  args.set_ptr(abi::kOut, out.data());
  args.set_ptr(abi::kTgtTimes, m0.tgt.data());
  args.set_int(abi::kB, B);
  args.set_int(abi::kT, T);
  args.set_int(abi::kTgtRowStride, T);
  int i = 0;
  for (auto* m : {&m0, &m1}) {
    args.set_ptr(abi::modality_slot(i, abi::kData), m->data.data());
    args.set_ptr(abi::modality_slot(i, abi::kTimes), m->src.data());
    args.set_int(abi::modality_slot(i, abi::kS), m->S);
    args.set_int(abi::modality_slot(i, abi::kTimesRowStride), m->S);
    args.set_ptr(abi::modality_slot(i, abi::kLengths), m->lengths.data());
    ++i;
  }
  kernel_for(Spec(fs)).launch(args, WorkShape{B, T}, LaunchPlace{});
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      std::vector<double> r0 = ref_row(m0, {{0, 2, Interp::Linear}}, b, t), r1 = ref_row(m1, {{0, 3, Interp::Cubic}}, b, t);
      r0.insert(r0.end(), r1.begin(), r1.end());
      for (std::int64_t c = 0; c < 5; ++c) {
        double got = out[(b * T + t) * 5 + c];
        if (std::isnan(r0[c]))
          EXPECT_TRUE(std::isnan(got)) << b << "," << t << "," << c;
        else
          EXPECT_NEAR(got, r0[c], 1e-9 * (1 + std::fabs(r0[c]))) << b << "," << t << "," << c;
      }
    }
}

// ---- voxelize

struct Grid {
  double gmin[3] = {-1.0, -2.0, 0.0};
  double vs[3] = {0.5, 0.25, 1.0};
  std::int64_t shape[3] = {4, 5, 3};
  std::int64_t cells() const { return shape[0] * shape[1] * shape[2]; }
  // Reference voxel of a point in double, -1 when dropped.
  std::int64_t cell_of(const double* p) const {
    std::int64_t idx[3];
    for (int a = 0; a < 3; ++a) {
      if (std::isnan(p[a])) return -1;
      double f = std::floor((p[a] - gmin[a]) / vs[a]);
      if (!(f >= 0 && f < static_cast<double>(shape[a]))) return -1;
      idx[a] = static_cast<std::int64_t>(f);
    }
    return (idx[0] * shape[1] + idx[1]) * shape[2] + idx[2];
  }
};

template <class Coord, class Out>
std::vector<Out> run_voxelize(const VoxelizeSpec& vs, const Grid& g, std::int64_t B, std::int64_t N,
                              const std::vector<Coord>& points, const std::vector<Out>* features,
                              const std::vector<std::int64_t>* lengths) {
  namespace abi = voxelize_abi;
  std::int64_t F = std::max<std::int64_t>(vs.features, 1);
  bool feature_mode = vs.mode == VoxelMode::Mean || vs.mode == VoxelMode::Max;
  std::vector<Out> out(static_cast<std::size_t>(B * g.cells() * (feature_mode ? F : 1)), static_cast<Out>(99));
  std::vector<std::int32_t> counts(static_cast<std::size_t>(B * g.cells()), 12345);
  KernelArgs args;
  args.set_ptr(abi::kPoints, points.data());
  args.set_ptr(abi::kFeatures, features ? features->data() : nullptr);
  args.set_ptr(abi::kLengths, lengths ? lengths->data() : nullptr);
  args.set_ptr(abi::kOut, out.data());
  args.set_ptr(abi::kCounts, feature_mode ? counts.data() : nullptr);
  args.set_int(abi::kB, B);
  args.set_int(abi::kN, N);
  for (int a = 0; a < 3; ++a) {
    std::uint64_t bits;
    std::memcpy(&bits, &g.gmin[a], 8);
    args.slots[abi::kGridMinX + a] = bits;
    std::memcpy(&bits, &g.vs[a], 8);
    args.slots[abi::kVoxelSizeX + a] = bits;
    args.set_int(abi::kShapeX + a, g.shape[a]);
  }
  const LoadedKernel& k = kernel_for(Spec(vs));
  args.set_int(abi::kPhase, abi::kClear);
  k.launch(args, WorkShape{B, g.cells()}, LaunchPlace{});
  args.set_int(abi::kPhase, abi::kScatter);
  k.launch(args, WorkShape{B, N}, LaunchPlace{});
  if (feature_mode) {
    args.set_int(abi::kPhase, abi::kFinalize);
    k.launch(args, WorkShape{B, g.cells()}, LaunchPlace{});
  }
  return out;
}

// Points spread over and beyond the grid, on cell borders, with NaN and inf coordinates.
template <class Coord>
std::vector<Coord> make_points(const Grid& g, std::int64_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 1.2);
  std::vector<Coord> p(static_cast<std::size_t>(count * 3));
  for (std::int64_t n = 0; n < count; ++n)
    for (int a = 0; a < 3; ++a) {
      double x = g.gmin[a] + u(rng) * g.shape[a] * g.vs[a];
      if (n % 11 == 5) x = g.gmin[a] + static_cast<double>(n % (g.shape[a] + 1)) * g.vs[a];  // on a border
      p[n * 3 + a] = static_cast<Coord>(x);
    }
  if (count > 20) {
    p[3 * 7 + 1] = std::numeric_limits<Coord>::quiet_NaN();
    p[3 * 8 + 0] = std::numeric_limits<Coord>::infinity();
    p[3 * 9 + 2] = -std::numeric_limits<Coord>::infinity();
  }
  return p;
}

template <class Coord>
std::vector<std::int64_t> ref_cells(const Grid& g, const std::vector<Coord>& points) {
  std::vector<std::int64_t> cells(points.size() / 3);
  for (std::size_t n = 0; n < cells.size(); ++n) {
    double p[3] = {static_cast<double>(points[3 * n]), static_cast<double>(points[3 * n + 1]),
                   static_cast<double>(points[3 * n + 2])};
    cells[n] = g.cell_of(p);
  }
  return cells;
}

VoxelizeSpec vox_spec(VoxelMode mode, DType coord, DType out, std::int64_t features = 0) {
  VoxelizeSpec s;
  s.mode = mode;
  s.coord_dtype = coord;
  s.out_dtype = out;
  s.features = features;
  return s;
}

TEST_F(OpsCpu, VoxelizeCountIsExactAcrossThreads) {
  Grid g;
  const std::int64_t N = 200000;
  auto points = make_points<double>(g, N, 71);
  auto cells = ref_cells(g, points);
  std::vector<std::int32_t> want(static_cast<std::size_t>(g.cells()), 0);
  std::int64_t dropped = 0;
  for (auto c : cells) c < 0 ? ++dropped : ++want[c];
  EXPECT_GT(dropped, 3);
  auto out = run_voxelize<double, std::int32_t>(vox_spec(VoxelMode::Count, DType::F64, DType::I32), g, 1, N, points,
                                                nullptr, nullptr);
  EXPECT_EQ(out, want);
  // f32 coordinates: the index is computed in f32 (grid_min and voxel_size rounded to f32 first).
  auto points32 = make_points<float>(g, N, 72);
  Grid g32 = g;  // these grid values are exact in f32, so the double reference agrees
  auto cells32 = ref_cells(g32, points32);
  std::vector<std::int32_t> want32(static_cast<std::size_t>(g.cells()), 0);
  for (auto c : cells32)
    if (c >= 0) ++want32[c];
  EXPECT_EQ((run_voxelize<float, std::int32_t>(vox_spec(VoxelMode::Count, DType::F32, DType::I32), g, 1, N, points32,
                                               nullptr, nullptr)),
            want32);
}

TEST_F(OpsCpu, VoxelizeOccupancyInEveryOutputDtype) {
  Grid g;
  g.shape[0] = 8;  // a sparse grid: some cells stay empty
  const std::int64_t N = 40;
  auto points = make_points<float>(g, N, 81);
  auto cells = ref_cells(g, points);
  std::vector<int> occupied(static_cast<std::size_t>(g.cells()), 0);
  for (auto c : cells)
    if (c >= 0) occupied[c] = 1;
  auto f32 = run_voxelize<float, float>(vox_spec(VoxelMode::Occupancy, DType::F32, DType::F32), g, 1, N, points, nullptr, nullptr);
  auto f64 = run_voxelize<float, double>(vox_spec(VoxelMode::Occupancy, DType::F32, DType::F64), g, 1, N, points, nullptr, nullptr);
  auto u8 = run_voxelize<float, std::uint8_t>(vox_spec(VoxelMode::Occupancy, DType::F32, DType::U8), g, 1, N, points, nullptr, nullptr);
  auto i32 = run_voxelize<float, std::int32_t>(vox_spec(VoxelMode::Occupancy, DType::F32, DType::I32), g, 1, N, points, nullptr, nullptr);
  int empty = 0;
  for (std::int64_t c = 0; c < g.cells(); ++c) {
    empty += !occupied[c];
    EXPECT_EQ(f32[c], static_cast<float>(occupied[c])) << c;
    EXPECT_EQ(f64[c], static_cast<double>(occupied[c])) << c;
    EXPECT_EQ(u8[c], occupied[c]) << c;
    EXPECT_EQ(i32[c], occupied[c]) << c;
  }
  EXPECT_GT(empty, 0);
}

template <class Out>
void check_feature_modes(std::uint32_t seed) {
  Grid g;
  const std::int64_t B = 3, N = 3000, F = 3;
  auto points = make_points<double>(g, B * N, seed);
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<double> u(-5.0, 1.0);  // mostly negative features
  std::vector<Out> features(static_cast<std::size_t>(B * N * F));
  for (auto& f : features) f = static_cast<Out>(u(rng));
  std::vector<std::int64_t> lengths = {N, 17, 0};
  auto cells = ref_cells(g, points);
  std::vector<double> sum(static_cast<std::size_t>(B * g.cells() * F), 0.0), mx(sum.size(), -INFINITY);
  std::vector<std::int64_t> count(static_cast<std::size_t>(B * g.cells()), 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t n = 0; n < lengths[b]; ++n) {
      std::int64_t c = cells[b * N + n];
      if (c < 0) continue;
      std::int64_t cell = b * g.cells() + c;
      ++count[cell];
      for (std::int64_t f = 0; f < F; ++f) {
        double v = features[(b * N + n) * F + f];
        sum[cell * F + f] += v;
        mx[cell * F + f] = std::max(mx[cell * F + f], v);
      }
    }
  DType dt = dtype_of<Out>();
  auto mean = run_voxelize<double, Out>(vox_spec(VoxelMode::Mean, DType::F64, dt, F), g, B, N, points, &features, &lengths);
  auto max = run_voxelize<double, Out>(vox_spec(VoxelMode::Max, DType::F64, dt, F), g, B, N, points, &features, &lengths);
  std::int64_t filled_row1 = 0;
  for (std::int64_t cell = 0; cell < B * g.cells(); ++cell) {
    if (cell / g.cells() == 1 && count[cell]) ++filled_row1;
    for (std::int64_t f = 0; f < F; ++f) {
      std::size_t i = static_cast<std::size_t>(cell * F + f);
      if (count[cell] == 0) {
        EXPECT_EQ(mean[i], 0) << cell;
        EXPECT_EQ(max[i], 0) << cell;
      } else {
        EXPECT_NEAR(mean[i], sum[i] / count[cell], sizeof(Out) == 4 ? 1e-5 : 1e-12) << cell;
        EXPECT_EQ(max[i], static_cast<Out>(mx[i])) << cell;  // exact: max picks a stored value
      }
    }
  }
  EXPECT_GT(filled_row1, 0);
  // Row 2 has length 0: all zero.
  for (std::int64_t i = 2 * g.cells() * F; i < 3 * g.cells() * F; ++i) EXPECT_EQ(max[i], 0);
}

TEST_F(OpsCpu, VoxelizeMeanAndMaxF32) { check_feature_modes<float>(91); }
TEST_F(OpsCpu, VoxelizeMeanAndMaxF64) { check_feature_modes<double>(92); }

TEST_F(OpsCpu, VoxelizeBatchWithLengthsCountsOnlyValidPoints) {
  Grid g;
  const std::int64_t B = 2, N = 500;
  auto points = make_points<float>(g, B * N, 101);
  std::vector<std::int64_t> lengths = {N, 123};
  auto cells = ref_cells(g, points);
  std::vector<std::int32_t> want(static_cast<std::size_t>(B * g.cells()), 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t n = 0; n < lengths[b]; ++n)
      if (cells[b * N + n] >= 0) ++want[b * g.cells() + cells[b * N + n]];
  EXPECT_EQ((run_voxelize<float, std::int32_t>(vox_spec(VoxelMode::Count, DType::F32, DType::I32), g, B, N, points,
                                               nullptr, &lengths)),
            want);
}

}  // namespace
}  // namespace robocache
