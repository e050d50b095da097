#pragma once
/// Host references for resample (ops.md section 1, linear) used by the GPU tests:
/// a float64 reference and an exact emulation of the kernel's documented arithmetic.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace robocache::testing {

/// Bits of an f16 / bf16 value as stored in memory.
struct F16Bits { std::uint16_t bits; };
struct BF16Bits { std::uint16_t bits; };

inline std::uint32_t float_bits(float f) { std::uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_float(std::uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

/// f16 → f32 (exact).
inline float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000 | (man << 13));
  if (exp == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(static_cast<float>(man), -24);
  return bits_float(sign | ((exp + 112) << 23) | (man << 13));
}

/// f32 → f16 with round to nearest even.
inline std::uint16_t float_to_f16(float f) {
  const std::uint32_t x = float_bits(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000);
  const std::uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000) return sign | 0x7e00;
  if (ax >= 0x477ff000) return sign | 0x7c00;  // at or above 65520 rounds to infinity
  if (ax < 0x38800000)  // below 2^-14: subnormal, in units of 2^-24 (the scaling is exact)
    return sign | static_cast<std::uint16_t>(std::nearbyint(bits_float(ax) * 16777216.0f));
  const std::uint32_t r = ax - 0x38000000;  // rebias 127 → 15
  return sign | static_cast<std::uint16_t>((r + 0x0fff + ((r >> 13) & 1)) >> 13);
}

/// bf16 → f32 (exact).
inline float bf16_to_float(std::uint16_t b) { return bits_float(static_cast<std::uint32_t>(b) << 16); }

/// f32 → bf16 with round to nearest even.
inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t u = float_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fff;
  return static_cast<std::uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/// Per host value type: widening to double, and the kernel's blend type and rounding.
template <class V> struct HostValue;
template <> struct HostValue<float> {
  using Blend = float;
  static double to_double(float v) { return v; }
  static float widen(float v) { return v; }
  static float narrow(float x) { return x; }
  static float from_double(double d) { return static_cast<float>(d); }
};
template <> struct HostValue<double> {
  using Blend = double;
  static double to_double(double v) { return v; }
  static double widen(double v) { return v; }
  static double narrow(double x) { return x; }
  static double from_double(double d) { return d; }
};
template <> struct HostValue<F16Bits> {
  using Blend = float;
  static double to_double(F16Bits v) { return f16_to_float(v.bits); }
  static float widen(F16Bits v) { return f16_to_float(v.bits); }
  static F16Bits narrow(float x) { return {float_to_f16(x)}; }
  static F16Bits from_double(double d) { return {float_to_f16(static_cast<float>(d))}; }
};
template <> struct HostValue<BF16Bits> {
  using Blend = float;
  static double to_double(BF16Bits v) { return bf16_to_float(v.bits); }
  static float widen(BF16Bits v) { return bf16_to_float(v.bits); }
  static BF16Bits narrow(float x) { return {float_to_bf16(x)}; }
  static BF16Bits from_double(double d) { return {float_to_bf16(static_cast<float>(d))}; }
};

/// How one target resolves against a row of source times.
struct Bracket {
  enum Kind { kNan, kHold, kBlend } kind = kHold;
  std::int64_t left = 0;  ///< sample held, or l of the interval [l, l+1]
};

/// ops.md section 1: NaN, holds at both ends, else the largest l with t[l] <= x.
template <class Time>
Bracket bracket(const Time* t, std::int64_t n, Time x) {
  if (std::isnan(x)) return {Bracket::kNan, 0};
  if (x <= t[0]) return {Bracket::kHold, 0};
  if (x >= t[n - 1]) return {Bracket::kHold, n - 1};
  std::int64_t l = 0;
  while (l + 1 < n && t[l + 1] <= x) ++l;  // linear on purpose: independent of the kernel's search
  return {Bracket::kBlend, l};
}

/// The float64 reference of ops.md: the weight a is computed in the time type and rounded to the
/// blend type (ops.md: "only the final weight is converted"), then v[l] + a*(v[r]-v[l]) in double.
template <class V, class Time>
double reference_f64(const Time* t, const V* v, std::int64_t n, std::int64_t dim, std::int64_t c, Time x) {
  using H = HostValue<V>;
  using Blend = typename H::Blend;
  Bracket b = bracket(t, n, x);
  if (b.kind == Bracket::kNan) return std::numeric_limits<double>::quiet_NaN();
  const double vl = H::to_double(v[b.left * dim + c]);
  if (b.kind == Bracket::kHold) return vl;
  const Time tl = t[b.left], tr = t[b.left + 1];
  const double a = static_cast<Blend>(static_cast<Time>(x - tl) / static_cast<Time>(tr - tl));
  return vl + a * (H::to_double(v[(b.left + 1) * dim + c]) - vl);
}

/// The kernel's documented arithmetic, step by step: a in the time type, rounded once to the
/// blend type, a zero weight copies v[l], else fma(a, v[r]-v[l], v[l]) in the blend type,
/// rounded to nearest even on store.
template <class V, class Time>
V emulate_kernel(const Time* t, const V* v, std::int64_t n, std::int64_t dim, std::int64_t c, Time x) {
  using H = HostValue<V>;
  using Blend = typename H::Blend;
  Bracket b = bracket(t, n, x);
  if (b.kind == Bracket::kNan) return H::from_double(std::numeric_limits<double>::quiet_NaN());
  if (b.kind == Bracket::kHold) return v[b.left * dim + c];
  const Time tl = t[b.left];
  const Time num = x - tl;
  const Time den = t[b.left + 1] - tl;
  const Time a = num / den;
  const Blend ab = static_cast<Blend>(a);
  if (ab == Blend(0)) return v[b.left * dim + c];  // exact hit or vanishing weight: copy v[l]
  const Blend lo = H::widen(v[b.left * dim + c]);
  const Blend hi = H::widen(v[(b.left + 1) * dim + c]);
  const Blend diff = hi - lo;
  return H::narrow(std::fma(ab, diff, lo));
}

}  // namespace robocache::testing
