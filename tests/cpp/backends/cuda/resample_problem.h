#pragma once
/// Resample test problems (source times with repeats; targets mixing holds, exact hits, NaN and
/// interior points) and the per-element check against ops.md section 1, shared by the GPU tests
/// and the host emulation of the CUDA template.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "compiler/dtype.h"
#include "tests/cpp/backends/cuda/resample_reference.h"

namespace robocache::testing {

/// The spec dtype of a host value type.
template <class V> inline constexpr DType kValueDType = DType::F32;
template <> inline constexpr DType kValueDType<double> = DType::F64;
template <> inline constexpr DType kValueDType<F16Bits> = DType::F16;
template <> inline constexpr DType kValueDType<BF16Bits> = DType::BF16;
/// The spec dtype of a host time type.
template <class T> inline constexpr DType kTimeDType = std::is_same_v<T, double> ? DType::F64 : DType::F32;

/// One resample problem in host memory.
template <class V, class Time>
struct Problem {
  std::int64_t B = 1, S = 1, T = 1, D = 1;
  bool shared_src = true, shared_tgt = true;
  std::vector<Time> src, tgt;  // [B,S] or [S]; [B,T] or [T]
  std::vector<V> data;         // [B,S,D]
  std::vector<std::int64_t> lengths;  // [B] valid samples per row, or empty: all S
  std::int64_t len(std::int64_t b) const { return lengths.empty() ? S : lengths[static_cast<std::size_t>(b)]; }
  const Time* src_row(std::int64_t b) const { return src.data() + (shared_src ? 0 : b * S); }
  const Time* tgt_row(std::int64_t b) const { return tgt.data() + (shared_tgt ? 0 : b * T); }
};

/// Source times with repeats; targets mixing holds, exact hits (also on repeats), NaN and interiors.
template <class V, class Time>
Problem<V, Time> make_problem(std::int64_t B, std::int64_t S, std::int64_t T, std::int64_t D, bool shared_src,
                              bool shared_tgt, double base = 0.0, double step = 1.0, unsigned seed = 7) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Problem<V, Time> p;
  p.B = B, p.S = S, p.T = T, p.D = D, p.shared_src = shared_src, p.shared_tgt = shared_tgt;
  for (std::int64_t b = 0; b < (shared_src ? 1 : B); ++b) {
    double t = base + 0.25 * step * static_cast<double>(b);
    for (std::int64_t s = 0; s < S; ++s) {
      p.src.push_back(static_cast<Time>(t));
      if (s == 0 || unit(rng) > 0.15) t += step * (0.05 + unit(rng));  // ~15% repeated stamps
    }
  }
  for (std::int64_t b = 0; b < (shared_tgt ? 1 : B); ++b) {
    const Time* st = p.src.data() + (shared_src ? 0 : b * S);
    const double lo = static_cast<double>(st[0]), hi = static_cast<double>(st[S - 1]);
    for (std::int64_t i = 0; i < T; ++i) {
      const double u = unit(rng);
      Time x;
      if (i % 17 == 3) x = std::numeric_limits<Time>::quiet_NaN();
      else if (i % 11 == 1) x = static_cast<Time>(lo - step * unit(rng));   // hold first
      else if (i % 11 == 2) x = static_cast<Time>(hi + step * unit(rng));   // hold last
      else if (i % 5 == 0) x = st[static_cast<std::int64_t>(u * static_cast<double>(S)) % S];  // exact hit
      else x = static_cast<Time>(lo + (hi - lo) * u);
      p.tgt.push_back(x);
    }
  }
  std::uniform_real_distribution<double> val(-10.0, 10.0);
  for (std::int64_t i = 0; i < B * S * D; ++i) p.data.push_back(HostValue<V>::from_double(val(rng)));
  return p;
}

/// A 16-bit float's bits as an integer that orders like the value (for ulp distances).
template <class V>
std::int64_t ordered_bits(V v) {
  if constexpr (std::is_same_v<V, F16Bits> || std::is_same_v<V, BF16Bits>) {
    const std::int64_t u = v.bits;
    return (u & 0x8000) ? -(u & 0x7fff) : u;
  } else {
    return 0;
  }
}

/// True when two values have identical storage bits.
template <class V>
bool same_bits(V a, V b) { return std::memcmp(&a, &b, sizeof(V)) == 0; }

/// Checks one output element against ops.md and against the kernel's exact documented arithmetic.
template <class V, class Time>
::testing::AssertionResult check_element(const Problem<V, Time>& p, std::int64_t b, std::int64_t i, std::int64_t c,
                                         V got) {
  using H = HostValue<V>;
  const Time* t = p.src_row(b);
  const V* v = p.data.data() + b * p.S * p.D;
  const Time x = p.tgt_row(b)[i];
  const std::int64_t L = p.len(b);
  const Bracket br = testing::bracket(t, L, x);
  const double g = H::to_double(got);
  auto where = [&] {
    return ::testing::Message() << " at b=" << b << " t=" << i << " c=" << c << " x=" << double(x) << " got " << g;
  };
  if (br.kind == Bracket::kNan) {
    if (std::isnan(g)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "NaN target gave a number" << where();
  }
  const V vl = v[br.left * p.D + c];
  const bool exact_hit = br.kind == Bracket::kHold || x == t[br.left];
  if (exact_hit) {
    if (same_bits(got, vl)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "hold/exact hit is not v[l] bit for bit (" << H::to_double(vl) << ")"
                                         << where();
  }
  const double ref = testing::reference_f64(t, v, L, p.D, c, x);
  if constexpr (std::is_same_v<V, F16Bits> || std::is_same_v<V, BF16Bits>) {
    const V rounded = H::narrow(static_cast<float>(ref));
    if (std::llabs(ordered_bits(got) - ordered_bits(rounded)) > 1)
      return ::testing::AssertionFailure() << "more than one ulp from the rounded reference " << ref << where();
  } else {
    const double vr = H::to_double(v[(br.left + 1) * p.D + c]);
    const double scale = std::max({std::fabs(ref), std::fabs(H::to_double(vl)), std::fabs(vr)});
    const double rtol = std::is_same_v<V, double> && std::is_same_v<Time, double> ? 1e-12 : 1e-5;
    if (std::fabs(g - ref) > rtol * scale)
      return ::testing::AssertionFailure() << "off the float64 reference " << ref << where();
  }
  const V emulated = testing::emulate_kernel(t, v, L, p.D, c, x);
  if (!same_bits(got, emulated))
    return ::testing::AssertionFailure() << "differs from the exact documented arithmetic ("
                                         << H::to_double(emulated) << ")" << where();
  return ::testing::AssertionSuccess();
}

}  // namespace robocache::testing
