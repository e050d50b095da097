// robocache.io.align's resampling on the CPU, straight from the recorded float64 rows into the
// batch: one merge of the targets with a repaired clock finds each target's neighbours (the merge
// the mask pass does), and every stream of that clock is blended there. It gives the bits the
// resample kernels give (docs/semantics.md) on the rows align used to pack for them: times as
// float64 nanoseconds from the episode start (exact, the kernel's time dtype), the weight
// a = (x - t[l]) / (t[r] - t[l]) in float64 rounded once to the blend type (float32 for an f32
// batch, float64 for f64 and for wrapped angles), a zero weight or a target outside the clock
// copying the held sample, else one fma(a, v[r] - v[l], v[l]); nearest takes v[l] when
// x - t[l] <= t[r] - x. Wrapped angles are unwrapped along the rows the kernel would have read
// (the clock's first and last sample and every target's neighbours, alignment.py's rule), blended
// in float64 and wrapped with numpy's % (bind_io.cpp's wrap). Slerp is the kernel's instruction
// for instruction (backends/cpu/resample_ir.cpp's emit_slerp: the same libm acos and sin, no
// contraction into fma), so it gives the kernel's bits too.
//
// The work goes a block of targets at a time, and for each clock in two steps: the merge finds
// every target's neighbours and weight and asks the memory for the rows they name (prefetch), then
// each stream blends the block with a loop of its own mode. The rows of a long log are read
// scattered (a few per target), and a loop that both searched and blended waited for each of them
// in turn; asked for a block ahead, they arrive together.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <tuple>
#include <vector>

#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {
namespace {

using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;

enum Mode : int { kLinear = 0, kPrevious = 1, kNearest = 2, kWrapped = 3, kSlerp = 4 };
constexpr int kModes = 5;
constexpr std::int64_t kBlock = 128;  // targets per block: its rows and output stay in L1/L2

// std::fmod(y, 2 pi), exactly, without x87's slow remainder loop: fmod's result y - n 2 pi (n the
// quotient truncated) is a double, so one fma with the right n gives it exactly; the n from a
// rounded product with 1 / (2 pi) is off by at most one below 2^50 turns, which the result's
// range shows (and the next n is then taken).
inline double fmod_two_pi(double y) {
  constexpr double kTwoPi = 2 * M_PI;
  const double ay = std::fabs(y);
  if (!(ay < 0x1p50)) return std::fmod(y, kTwoPi);  // huge, infinite or NaN
  double q = std::trunc(ay * (1 / kTwoPi));
  double r = std::fma(-q, kTwoPi, ay);
  if (r < 0) {
    q -= 1;
    r = std::fma(-q, kTwoPi, ay);
  } else if (r >= kTwoPi) {
    q += 1;
    r = std::fma(-q, kTwoPi, ay);
  }
  return std::copysign(r, y);
}

// numpy's (x + pi) % (2 pi) - pi (see bind_io.cpp's wrap_rows)
inline double wrap_angle(double x) {
  constexpr double kPi = M_PI, kTwoPi = 2 * M_PI;
  double mod = fmod_two_pi(x + kPi);
  if (mod != 0) {
    if (mod < 0) mod += kTwoPi;
  } else {
    mod = 0.0;
  }
  return mod - kPi;
}

// y[i] = wrap_angle(x[i]) for i < n.
inline void wrap_angles(const double* x, double* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = wrap_angle(x[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
// wrap_angles four at a time: wrap_angle's operations in the same order, its branches as selects
// (a compiler does not turn them into selects itself, as comparisons may trap); the angles of 2^50
// turns or more, and NaN, go to wrap_angle itself.
__attribute__((target("fma"))) inline void wrap_angles_fma(const double* x, double* y, std::int64_t n) {
  const __m256d pi = _mm256_set1_pd(M_PI), two_pi = _mm256_set1_pd(2 * M_PI), inv = _mm256_set1_pd(1 / (2 * M_PI));
  const __m256d sign = _mm256_set1_pd(-0.0), big = _mm256_set1_pd(0x1p50), zero = _mm256_setzero_pd();
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d slow = zero;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d v = _mm256_add_pd(_mm256_loadu_pd(x + i), pi);
    const __m256d av = _mm256_andnot_pd(sign, v);
    slow = _mm256_or_pd(slow, _mm256_cmp_pd(av, big, _CMP_NLT_UQ));
    const __m256d q = _mm256_round_pd(_mm256_mul_pd(av, inv), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256d r = _mm256_fmadd_pd(_mm256_xor_pd(q, sign), two_pi, av);
    __m256d q2 = _mm256_blendv_pd(q, _mm256_sub_pd(q, one), _mm256_cmp_pd(r, zero, _CMP_LT_OQ));
    q2 = _mm256_blendv_pd(q2, _mm256_add_pd(q, one), _mm256_cmp_pd(r, two_pi, _CMP_GE_OQ));
    const __m256d r2 = _mm256_fmadd_pd(_mm256_xor_pd(q2, sign), two_pi, av);
    __m256d mod = _mm256_or_pd(_mm256_andnot_pd(sign, r2), _mm256_and_pd(sign, v));  // copysign(r2, v)
    mod = _mm256_blendv_pd(mod, _mm256_add_pd(mod, two_pi), _mm256_cmp_pd(mod, zero, _CMP_LT_OQ));
    mod = _mm256_blendv_pd(mod, zero, _mm256_cmp_pd(mod, zero, _CMP_EQ_OQ));  // -0 to +0
    _mm256_storeu_pd(y + i, _mm256_sub_pd(mod, pi));
  }
  for (; i < n; ++i) y[i] = wrap_angle(x[i]);
  if (_mm256_movemask_pd(slow))
    for (std::int64_t k = 0; k < n; ++k)
      if (!(std::fabs(x[k] + M_PI) < 0x1p50)) y[k] = wrap_angle(x[k]);
}
#endif

// std::nearbyint(y) in the default rounding mode (ties to even), without a libm call: below 2^51
// in magnitude, adding and taking away 1.5 x 2^52 rounds to an integer exactly so. Only the sign of
// a zero result can differ, which a sum of turns starting at +0 never shows.
inline double round_even(double y) {
  constexpr double kShift = 0x1.8p52;
  if (!(std::fabs(y) < 0x1p51)) return std::nearbyint(y);
  return (y + kShift) - kShift;
}

struct Stream {
  const double* v;
  std::int64_t rows, D, col;
  int mode;
  std::size_t wrap = 0;  // wrapped: its walk among the clock's
};

// The merge's result for a block of targets of one clock: for target j of the block, the
// repaired clock's neighbours lc <= rc, the recorded rows they are (row_l, row_r, and row_n the
// one nearest takes), and the weight in float64 (0: hold row_l).
struct Brackets {
  std::int64_t lc[kBlock], rc[kBlock], row_l[kBlock], row_r[kBlock], row_n[kBlock];
  double a[kBlock];
};

// A wrapped stream's walk along the clock's rows in the order the kernel's packed rows had them
// (the clock's first row, then every target's neighbours in order; bind_io.cpp's unwrap along the
// packed rows): each row it moves to is unwrapped against the one before. For a block of targets,
// `rows` holds the unwrapped rows the block reads, [D] each: the last block's last target's two
// neighbours at 0 and 1, then every row the walk moves to; at[j] and at[kBlock + j] are where
// target j's left and right neighbours are in it.
struct Unwrapper {
  const double* v = nullptr;
  const std::int64_t* index = nullptr;
  std::int64_t D = 0, p = 0, prev_l = 0, prev_r = 0, il = 0, ir = 1;
  std::vector<double> prev, turns, rows, carry, blend;  // blend: a block's blended values, then wrapped
  std::int64_t at[2 * kBlock];
  Unwrapper(const double* v_, const std::int64_t* index_, std::int64_t D_)
      : v(v_), index(index_), D(D_), prev(D_), turns(D_, 0.0), rows((2 * kBlock + 2) * D_), carry(D_),
        blend(2 * kBlock * D_) {
    const double* src = v + (index ? index[0] : 0) * D;
    for (std::int64_t d = 0; d < D; ++d) prev[d] = rows[d] = rows[D + d] = src[d];
  }
};

// Moves the walk over a block's targets (see Unwrapper). At every target, p (the last row walked
// to) is its right neighbour, and its left one is p or the one before. Not inlined: compiled for
// the baseline target, so src - 2 pi turns is never contracted into an fma (bind_io.cpp's unwrap
// rounds the product and the difference apart).
[[gnu::noinline]] void unwrap_block(Unwrapper& u, const Brackets& k, std::int64_t n) {
  constexpr double kTwoPi = 2 * M_PI, kInvTwoPi = 1 / (2 * M_PI);
  const std::int64_t D = u.D;
  double* rows = u.rows.data();
  // the last block's last neighbours to rows 0 and 1
  std::copy(rows + u.il * D, rows + u.il * D + D, u.carry.begin());
  std::copy(rows + u.ir * D, rows + u.ir * D + D, rows + D);
  std::copy(u.carry.begin(), u.carry.end(), rows);
  std::int64_t used = 2, il = 0, ir = 1;
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t lc = k.lc[j], rc = k.rc[j];
    const bool new_l = lc != u.prev_l, new_r = new_l || rc != u.prev_r;
    // a new lc is p or past it, and rc is lc or past it: ir ends where p is
    auto walk = [&](std::int64_t q) {
      if (q <= u.p) return;  // q is p: walked to already
      const double* src = u.v + (u.index ? u.index[q] : q) * D;
      double* dst = rows + used * D;
      for (std::int64_t d = 0; d < D; ++d) {
        u.turns[d] += round_even((src[d] - u.prev[d]) * kInvTwoPi);
        u.prev[d] = src[d];
        dst[d] = src[d] - kTwoPi * u.turns[d];
      }
      u.p = q;
      ir = used++;
    };
    if (new_l) {
      walk(lc);
      il = ir;
    }
    if (new_r) walk(rc);
    u.prev_l = lc;
    u.prev_r = rc;
    u.at[j] = il;
    u.at[kBlock + j] = ir;
  }
  u.il = il;
  u.ir = ir;
}

inline float acos_of(float x) { return ::acosf(x); }
inline double acos_of(double x) { return ::acos(x); }
inline float sin_of(float x) { return ::sinf(x); }
inline double sin_of(double x) { return ::sin(x); }

// Slerp of a block's targets into out, the kernel's emit_slerp step for step in the blend type
// Out: the rows rounded to Out, a zero weight copying v[l], the shorter arc, acos of the clamped
// dot product, nlerp (one fma) below 1e-6 rad, else the sin weights, then normalised. What
// depends on the two rows only (the flipped q[r], the angle and its sine) is kept from the target
// before when it has the same neighbours: the same operations on the same values. Not inlined:
// compiled for the baseline target, so no product and sum is contracted into an fma, as in the
// kernel (whose instructions carry no contraction flag); std::fma is the kernel's llvm.fma.
template <typename Out>
[[gnu::noinline]] void slerp_block(const Stream& st, const Brackets& k, std::int64_t n, Out* out,
                                   std::int64_t stride) {
  std::int64_t pair_l = -1, pair_r = -1;  // the rows of ql, qr, theta and sin_theta below
  Out ql[4], qr[4], theta = 0, sin_theta = 0;
  bool have_sin = false;
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t row_l = k.row_l[j], row_r = k.row_r[j];
    Out* dst = out + j * stride + st.col;
    const Out a = static_cast<Out>(k.a[j]);
    if (a == 0) {
      const double* vl = st.v + row_l * 4;
      for (int i = 0; i < 4; ++i) dst[i] = static_cast<Out>(vl[i]);
      continue;
    }
    if (row_l != pair_l || row_r != pair_r) {
      const double* vl = st.v + row_l * 4;
      const double* vr = st.v + row_r * 4;
      for (int i = 0; i < 4; ++i) {
        ql[i] = static_cast<Out>(vl[i]);
        qr[i] = static_cast<Out>(vr[i]);
      }
      Out d = ql[0] * qr[0];
      for (int i = 1; i < 4; ++i) d = d + ql[i] * qr[i];
      if (d < 0) {
        for (int i = 0; i < 4; ++i) qr[i] = -qr[i];
        d = -d;
      }
      theta = acos_of(d > Out(1) ? Out(1) : d);
      have_sin = false;
      pair_l = row_l;
      pair_r = row_r;
    }
    Out q[4];
    if (theta < static_cast<Out>(1e-6)) {
      for (int i = 0; i < 4; ++i) q[i] = std::fma(a, qr[i] - ql[i], ql[i]);
    } else {
      if (!have_sin) {
        sin_theta = sin_of(theta);
        have_sin = true;
      }
      const Out sin_l = sin_of((Out(1) - a) * theta), sin_r = sin_of(a * theta);
      const Out w_l = sin_l / sin_theta, w_r = sin_r / sin_theta;
      for (int i = 0; i < 4; ++i) q[i] = w_l * ql[i] + w_r * qr[i];
    }
    Out n2 = q[0] * q[0];
    for (int i = 1; i < 4; ++i) n2 = n2 + q[i] * q[i];
    const Out norm = std::sqrt(n2);
    for (int i = 0; i < 4; ++i) dst[i] = q[i] / norm;
  }
}

// One repaired clock and its streams, with the merge's state.
struct Clock {
  const std::int64_t* t = nullptr;
  std::int64_t L = 0;
  const std::int64_t* index = nullptr;
  std::vector<Stream> streams;
  std::vector<Unwrapper> unwrap;
  std::int64_t r = 0;  // the merge: samples stamped at or before the last target
  bool weighted = false;  // a stream blends its neighbours (linear, wrapped, slerp)

  void begin() {
    for (Stream& st : streams) {
      weighted |= st.mode != kPrevious && st.mode != kNearest;
      if (st.mode == kWrapped) {
        st.wrap = unwrap.size();
        unwrap.emplace_back(st.v, index, st.D);
      }
    }
  }
};

// The merge of targets [j0, j0 + n) with the clock, into k, asking the memory for the rows of
// the clock's first streams that they name. kWeight: the weights too (not for a clock of previous
// and nearest streams only); kWalk: lc and rc too (for a wrapped stream's walk). Not inlined, and
// without branches but the merge's: a loop of its own, whose state stays in registers.
template <bool kWeight, bool kWalk>
[[gnu::noinline]] void bracket(Clock& c, const std::int64_t* x, std::int64_t j0, std::int64_t n, std::int64_t start,
                               Brackets& k) {
  const std::int64_t* t = c.t;
  const std::int64_t L = c.L;
  const std::int64_t* index = c.index;
  constexpr std::size_t kAsked = 4;  // streams whose rows are prefetched (the others' come after)
  const double* v[kAsked];
  std::int64_t D[kAsked];
  const std::size_t asked = std::min(kAsked, c.streams.size());
  for (std::size_t s = 0; s < asked; ++s) {
    v[s] = c.streams[s].v;
    D[s] = c.streams[s].D;
  }
  std::int64_t r = c.r;
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t xj = x[j0 + j] + start;
    while (r < L && t[r] <= xj) ++r;
    const std::int64_t lc = r > 0 ? r - 1 : 0, rc = r < L ? r : L - 1;
    const std::int64_t tl = t[lc], offset = xj - tl, span = t[rc] - tl;
    // hold v[l]: outside the clock (l == r) or an exact hit (a zero weight)
    const bool hold = (lc == rc) | (offset <= 0);
    const std::int64_t row_l = index ? index[lc] : lc, row_r = index ? index[rc] : rc;
    if (kWalk) {
      k.lc[j] = lc;
      k.rc[j] = rc;
    }
    k.row_l[j] = row_l;
    k.row_r[j] = row_r;
    // nearest: a tie to the earlier; and the weight, 0 / 1 when held. In integer arithmetic, which
    // the compiler keeps free of branches (the comparisons are as likely as not).
    const std::int64_t take_r = !hold & (offset > span - offset);
    k.row_n[j] = row_l + ((row_r - row_l) & -take_r);
    if (kWeight) {
      const std::int64_t held = -static_cast<std::int64_t>(hold);
      k.a[j] = static_cast<double>(offset & ~held) / static_cast<double>((span & ~held) | (1 & held));
    }
    for (std::size_t s = 0; s < asked; ++s) {
      __builtin_prefetch(v[s] + row_l * D[s]);
      __builtin_prefetch(v[s] + row_r * D[s]);
    }
  }
  c.r = r;
}

inline void bracket_for(Clock& c, const std::int64_t* x, std::int64_t j0, std::int64_t n, std::int64_t start,
                        Brackets& k) {
  if (!c.unwrap.empty())
    bracket<true, true>(c, x, j0, n, start, k);
  else if (c.weighted)
    bracket<true, false>(c, x, j0, n, start, k);
  else
    bracket<false, false>(c, x, j0, n, start, k);
}

// previous and nearest: the rows named, rounded to Out. kD: the width when known at compile time
// (0: st.D), so that the common widths' loops unroll.
template <std::int64_t kD, typename Out>
[[gnu::always_inline]] inline void copy_rows(const Stream& st, const std::int64_t* rows, std::int64_t n, Out* out,
                                             std::int64_t stride) {
  const std::int64_t D = kD ? kD : st.D;
  for (std::int64_t j = 0; j < n; ++j) {
    const double* src = st.v + rows[j] * D;
    Out* dst = out + j * stride + st.col;
    for (std::int64_t d = 0; d < D; ++d) dst[d] = static_cast<Out>(src[d]);
  }
}

template <std::int64_t kD, typename Out>
[[gnu::always_inline]] inline void linear_rows(const Stream& st, const Brackets& k, std::int64_t n, Out* out,
                                               std::int64_t stride) {
  const std::int64_t D = kD ? kD : st.D;
  for (std::int64_t j = 0; j < n; ++j) {
    const double* vl = st.v + k.row_l[j] * D;
    const double* vr = st.v + k.row_r[j] * D;
    Out* dst = out + j * stride + st.col;
    const Out a = static_cast<Out>(k.a[j]);
    if (a == 0) {
      for (std::int64_t d = 0; d < D; ++d) dst[d] = static_cast<Out>(vl[d]);
    } else {
      for (std::int64_t d = 0; d < D; ++d) {
        const Out l = static_cast<Out>(vl[d]), rr = static_cast<Out>(vr[d]);
        dst[d] = std::fma(a, rr - l, l);
      }
    }
  }
}

// One stream's rows of a block, by mode, with the common widths (a topic's fields: 1 to 7
// channels) unrolled.
template <std::int64_t kD, typename Out>
[[gnu::always_inline]] inline void plain_rows(const Stream& st, const Brackets& k, std::int64_t n, Out* out,
                                              std::int64_t stride) {
  switch (st.mode) {
    case kPrevious: return copy_rows<kD>(st, k.row_l, n, out, stride);
    case kNearest: return copy_rows<kD>(st, k.row_n, n, out, stride);
    default: return linear_rows<kD>(st, k, n, out, stride);
  }
}

template <typename Out>
[[gnu::always_inline]] inline void plain_rows_of_width(const Stream& st, const Brackets& k, std::int64_t n, Out* out,
                                                       std::int64_t stride) {
  switch (st.D) {
    case 1: return plain_rows<1>(st, k, n, out, stride);
    case 2: return plain_rows<2>(st, k, n, out, stride);
    case 3: return plain_rows<3>(st, k, n, out, stride);
    case 4: return plain_rows<4>(st, k, n, out, stride);
    case 6: return plain_rows<6>(st, k, n, out, stride);
    default: return plain_rows<0>(st, k, n, out, stride);
  }
}

// wrapped: float64 blend of the unwrapped rows, then wrapped
template <bool kFma, typename Out>
[[gnu::always_inline]] inline void wrapped_rows(const Stream& st, Unwrapper& u, const Brackets& k, std::int64_t n,
                                                Out* out, std::int64_t stride) {
  const std::int64_t D = st.D;
  const double* rows = u.rows.data();
  double* blend = u.blend.data();
  for (std::int64_t j = 0; j < n; ++j) {
    const double* l = rows + u.at[j] * D;
    const double* rr = rows + u.at[kBlock + j] * D;
    const double a = k.a[j];
    for (std::int64_t d = 0; d < D; ++d) blend[j * D + d] = a == 0 ? l[d] : std::fma(a, rr[d] - l[d], l[d]);
  }
  double* wrapped = blend + kBlock * D;
#if defined(__x86_64__) && defined(__GNUC__)
  if constexpr (kFma)
    wrap_angles_fma(blend, wrapped, n * D);
  else
#endif
    wrap_angles(blend, wrapped, n * D);
  for (std::int64_t j = 0; j < n; ++j) {
    Out* dst = out + j * stride + st.col;
    for (std::int64_t d = 0; d < D; ++d) dst[d] = static_cast<Out>(wrapped[j * D + d]);
  }
}

// targets [j0, j1) of every clock, a block at a time: each clock's merge (and wrapped walks), then
// each of its streams; a part after the first finds where each clock's merge stands (and walks
// the wrapped streams' rows up to there) first.
template <bool kFma, typename Out>
[[gnu::always_inline]] inline void resample_body(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0,
                                                 std::int64_t j1, std::int64_t start, Out* out, std::int64_t stride) {
  Brackets k;
  for (Clock& c : clocks) {
    c.begin();
    if (j0 == 0) continue;
    if (c.unwrap.empty()) {
      c.r = std::upper_bound(c.t, c.t + c.L, x[j0] + start) - c.t;  // the merge of the targets before j0
      continue;
    }
    for (std::int64_t b = 0; b < j0; b += kBlock) {
      const std::int64_t n = std::min(kBlock, j0 - b);
      bracket_for(c, x, b, n, start, k);
      for (Unwrapper& u : c.unwrap) unwrap_block(u, k, n);
    }
  }
  for (std::int64_t b = j0; b < j1; b += kBlock) {
    const std::int64_t n = std::min(kBlock, j1 - b);
    Out* o = out + b * stride;
    // the next block's rows of the batch, asked for while this one is written: most of the batch
    // is not in the caches, and its rows are written a few columns at a time
    {
      const char* next = reinterpret_cast<const char*>(o + n * stride);
      const char* end = reinterpret_cast<const char*>(out + std::min(j1, b + n + kBlock) * stride);
      for (; next < end; next += 64) __builtin_prefetch(next, 1);
    }
    for (Clock& c : clocks) {
      bracket_for(c, x, b, n, start, k);
      for (Unwrapper& u : c.unwrap) unwrap_block(u, k, n);
      for (const Stream& st : c.streams) {
        switch (st.mode) {
          case kPrevious:
          case kNearest:
          case kLinear: plain_rows_of_width(st, k, n, o, stride); break;
          case kWrapped: wrapped_rows<kFma>(st, c.unwrap[st.wrap], k, n, o, stride); break;
          default: slerp_block(st, k, n, o, stride); break;
        }
      }
    }
  }
}

template <typename Out>
void resample_plain(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0, std::int64_t j1,
                    std::int64_t start, Out* out, std::int64_t stride) {
  resample_body<false>(clocks, x, j0, j1, start, out, stride);
}

#if defined(__x86_64__) && defined(__GNUC__)
// the same loop with the fma instruction (std::fma is otherwise a libm call per channel)
template <typename Out>
__attribute__((target("fma"))) void resample_fma(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0,
                                                 std::int64_t j1, std::int64_t start, Out* out, std::int64_t stride) {
  resample_body<true>(clocks, x, j0, j1, start, out, stride);
}
#endif

template <typename Out>
void resample(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0, std::int64_t j1, std::int64_t start,
              Out* out, std::int64_t stride) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_fma = __builtin_cpu_supports("fma");
  if (has_fma) return resample_fma(clocks, x, j0, j1, start, out, stride);
#endif
  resample_plain(clocks, x, j0, j1, start, out, stride);
}

// out[b, j, col_s + d] for the targets j of part `part` of `parts` (equal shares of [0, T)) and
// every stream s of every clock. clocks: (times, index, values, modes, cols) per repaired clock:
// times int64 ns, strictly increasing, L >= 1; index the recorded row of each of its samples (None:
// the same); values float64 [S, D_s] per stream; modes 0 linear, 1 previous, 2 nearest, 3 wrapped,
// 4 slerp (D_s = 4, x y z w); cols the stream's first column in out. targets: int64 ns from
// `start`, sorted. out: C-contiguous float32 or float64 [B, T', D'].
// The largest of n indices as unsigned (a negative one is larger than any row), four at a time.
std::uint64_t max_row(const std::int64_t* index, std::int64_t n) {
  std::uint64_t m[4] = {0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) m[l] = std::max(m[l], static_cast<std::uint64_t>(index[i + l]));
  for (; i < n; ++i) m[0] = std::max(m[0], static_cast<std::uint64_t>(index[i]));
  return std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
}

using ClockArgs = std::tuple<I64, py::object, std::vector<F64>, std::vector<int>, std::vector<std::int64_t>>;

void resample_into(const std::vector<ClockArgs>& clock_args, std::int64_t start, const I64& targets, py::array out,
                   std::int64_t b, std::int64_t part, std::int64_t parts) {
  const std::int64_t T = targets.shape(0);
  if (out.ndim() != 3 || !(out.flags() & py::array::c_style) || b < 0 || b >= out.shape(0) || T > out.shape(1))
    throw py::value_error("io_resample_into: a C-contiguous out [B, T, D] with room for the targets expected");
  if (parts < 1 || part < 0 || part >= parts) throw py::value_error("io_resample_into: part must be in [0, parts)");
  std::vector<Clock> clocks(clock_args.size());
  std::vector<I64> indices(clock_args.size());
  for (std::size_t k = 0; k < clock_args.size(); ++k) {
    const auto& [times, index_obj, values, modes, cols] = clock_args[k];
    Clock& c = clocks[k];
    c.t = times.data();
    c.L = times.shape(0);
    if (c.L < 1) throw py::value_error("io_resample_into: an empty clock");
    if (values.size() != modes.size() || values.size() != cols.size())
      throw py::value_error("io_resample_into: values, modes and cols differ in length");
    if (!index_obj.is_none()) {
      indices[k] = I64::ensure(index_obj);
      if (!indices[k] || indices[k].shape(0) != c.L) throw py::value_error("io_resample_into: index must be int64 [L]");
      c.index = indices[k].data();
    }
    // the rows every stream has: the index may name no other (without one, the clock's own)
    std::int64_t rows = INT64_MAX;
    for (std::size_t s = 0; s < values.size(); ++s) {
      const F64& v = values[s];
      if (v.ndim() != 2) throw py::value_error("io_resample_into: values [S, D] expected");
      if (modes[s] < 0 || modes[s] >= kModes) throw py::value_error("io_resample_into: mode must be 0 to 4");
      if (modes[s] == kSlerp && v.shape(1) != 4) throw py::value_error("io_resample_into: slerp needs values [S, 4]");
      if (cols[s] < 0 || cols[s] + v.shape(1) > out.shape(2))
        throw py::value_error("io_resample_into: columns outside out");
      rows = std::min<std::int64_t>(rows, v.shape(0));
      c.streams.push_back({v.data(), v.shape(0), v.shape(1), cols[s], modes[s]});
    }
    if (!c.streams.empty() && !(c.index ? max_row(c.index, c.L) < static_cast<std::uint64_t>(rows) : c.L <= rows))
      throw py::value_error("io_resample_into: values [S, D] have fewer rows than the clock names");
  }
  const std::int64_t* x = targets.data();
  const std::int64_t j0 = T * part / parts, j1 = T * (part + 1) / parts;
  const std::int64_t stride = out.shape(2);
  const std::int64_t row0 = b * out.shape(1) * stride;
  if (out.dtype().equal(py::dtype::of<float>())) {
    float* o = static_cast<float*>(out.mutable_data()) + row0;
    py::gil_scoped_release release;
    resample(clocks, x, j0, j1, start, o, stride);
  } else if (out.dtype().equal(py::dtype::of<double>())) {
    double* o = static_cast<double*>(out.mutable_data()) + row0;
    py::gil_scoped_release release;
    resample(clocks, x, j0, j1, start, o, stride);
  } else {
    throw py::value_error("io_resample_into: out must be float32 or float64");
  }
}

}  // namespace

void bind_io_resample(py::module_& m) {
  m.def("io_resample_into", &resample_into, py::arg("clocks"), py::arg("start"), py::arg("targets"), py::arg("out"),
        py::arg("b"), py::arg("part") = 0, py::arg("parts") = 1);
}

}  // namespace robocache::python
