// robocache.io.align's resampling of linear, previous, nearest and wrapped streams on the CPU,
// straight from the recorded float64 rows into the batch: one merge of the targets with a
// repaired clock finds each target's neighbours (the merge the mask pass does), and every stream
// of that clock is blended there. It gives the bits the resample kernels give (docs/semantics.md)
// on the rows align used to pack for them: times as float64 nanoseconds from the episode start
// (exact, the kernel's time dtype), the weight a = (x - t[l]) / (t[r] - t[l]) in float64 rounded
// once to the blend type (float32 for an f32 batch, float64 for f64 and for wrapped angles), a
// zero weight or a target outside the clock copying the held sample, else one fma(a, v[r] - v[l],
// v[l]); nearest takes v[l] when x - t[l] <= t[r] - x. Wrapped angles are unwrapped along the
// rows the kernel would have read (the clock's first and last sample and every target's
// neighbours, alignment.py's rule), blended in float64 and wrapped with numpy's % (bind_io.cpp's
// wrap). Slerp stays with the kernels.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
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

enum Mode : int { kLinear = 0, kPrevious = 1, kNearest = 2, kWrapped = 3 };

struct Stream {
  const double* v;
  std::int64_t rows, D, col;
  int mode;
};

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

// The unwrapped rows of a wrapped stream, walked along the clock's rows in the order the kernel's
// packed rows had them: `at(q)` moves to row q (q never decreases) and returns its unwrapped values.
struct Unwrapper {
  const double* v;
  const std::int64_t* index;
  std::int64_t D, p = 0;
  std::vector<double> prev, turns, cur;
  Unwrapper(const double* v_, const std::int64_t* index_, std::int64_t D_)
      : v(v_), index(index_), D(D_), prev(D_), turns(D_, 0.0), cur(D_) {
    const double* src = v + (index ? index[0] : 0) * D;
    for (std::int64_t d = 0; d < D; ++d) prev[d] = cur[d] = src[d];
  }
  // not inlined: compiled without the fma target, so src - 2 pi turns is never contracted into an
  // fma (bind_io.cpp's unwrap rounds the product and the difference apart)
  [[gnu::noinline]] const double* at(std::int64_t q) {
    constexpr double kTwoPi = 2 * M_PI, kInvTwoPi = 1 / (2 * M_PI);
    if (q > p) {
      const double* src = v + (index ? index[q] : q) * D;
      for (std::int64_t d = 0; d < D; ++d) {
        turns[d] += std::nearbyint((src[d] - prev[d]) * kInvTwoPi);
        prev[d] = src[d];
        cur[d] = src[d] - kTwoPi * turns[d];
      }
      p = q;
    }
    return cur.data();
  }
};

// One repaired clock and its streams, with the merge's state: targets are taken in order, a block
// of rows at a time for every clock in turn, so each row of the batch is written while it is in
// the cache (a pass per clock over a batch larger than the cache paid for it each time).
struct Clock {
  const std::int64_t* t = nullptr;
  std::int64_t L = 0;
  const std::int64_t* index = nullptr;
  std::vector<Stream> streams;
  bool wrapped = false;
  // the merge: samples stamped at or before the last target, and its neighbours
  std::int64_t r = 0, prev_l = 0, prev_r = 0;
  // wrapped streams: the walk along the rows and the unwrapped values at the current l and r
  std::vector<Unwrapper> unwrap;
  std::vector<std::vector<double>> ul, ur;

  void begin() {
    for (const Stream& st : streams)
      if (st.mode == kWrapped) {
        unwrap.emplace_back(st.v, index, st.D);
        ul.push_back(unwrap.back().cur);
        ur.push_back(unwrap.back().cur);
      }
    wrapped = !unwrap.empty();
  }
};

// targets [j0, j1) of one clock; write false: only the merge and the unwrapping walk move (a part
// of the targets taken by another thread, whose walk this one's unwrapped values depend on)
template <typename Out>
[[gnu::always_inline]] inline void resample_rows(Clock& c, const std::int64_t* x, std::int64_t j0, std::int64_t j1,
                                                 std::int64_t start, Out* out, std::int64_t stride, bool write) {
  const std::int64_t* t = c.t;
  const std::int64_t L = c.L;
  const std::int64_t* index = c.index;
  std::int64_t r = c.r;
  for (std::int64_t j = j0; j < j1; ++j) {
    const std::int64_t xj = x[j] + start;
    while (r < L && t[r] <= xj) ++r;
    const std::int64_t lc = r > 0 ? r - 1 : 0, rc = r < L ? r : L - 1;
    if (c.wrapped) {
      const bool new_l = lc != c.prev_l, new_r = new_l || rc != c.prev_r;
      std::size_t w = 0;
      for (const Stream& st : c.streams) {
        if (st.mode != kWrapped) continue;
        Unwrapper& u = c.unwrap[w];
        if (new_l) {
          const double* v = u.at(lc);
          std::copy(v, v + st.D, c.ul[w].begin());
        }
        if (new_r) {
          const double* v = u.at(rc);
          std::copy(v, v + st.D, c.ur[w].begin());
        }
        ++w;
      }
      c.prev_l = lc;
      c.prev_r = rc;
    }
    if (!write) continue;
    const std::int64_t offset = xj - t[lc], span = t[rc] - t[lc];
    // hold v[l]: outside the clock (l == r) or an exact hit (a zero weight)
    const bool hold = lc == rc || offset <= 0;
    const double a64 = hold ? 0.0 : static_cast<double>(offset) / static_cast<double>(span);
    const bool take_r = !hold && offset > span - offset;  // nearest
    const std::int64_t row_l = index ? index[lc] : lc, row_r = index ? index[rc] : rc;
    Out* o = out + j * stride;
    std::size_t w = 0;
    for (const Stream& st : c.streams) {
      Out* dst = o + st.col;
      const double* vl = st.v + row_l * st.D;
      const double* vr = st.v + row_r * st.D;
      switch (st.mode) {
        case kPrevious:
          for (std::int64_t d = 0; d < st.D; ++d) dst[d] = static_cast<Out>(vl[d]);
          break;
        case kNearest: {
          const double* src = take_r ? vr : vl;
          for (std::int64_t d = 0; d < st.D; ++d) dst[d] = static_cast<Out>(src[d]);
          break;
        }
        case kLinear: {
          const Out a = static_cast<Out>(a64);
          if (a == 0) {
            for (std::int64_t d = 0; d < st.D; ++d) dst[d] = static_cast<Out>(vl[d]);
          } else {
            for (std::int64_t d = 0; d < st.D; ++d) {
              const Out l = static_cast<Out>(vl[d]), rr = static_cast<Out>(vr[d]);
              dst[d] = std::fma(a, rr - l, l);
            }
          }
          break;
        }
        default: {  // wrapped: float64 blend of the unwrapped rows, then wrapped
          const double* l = c.ul[w].data();
          const double* rr = c.ur[w].data();
          ++w;
          for (std::int64_t d = 0; d < st.D; ++d)
            dst[d] = static_cast<Out>(wrap_angle(a64 == 0 ? l[d] : std::fma(a64, rr[d] - l[d], l[d])));
          break;
        }
      }
    }
  }
  c.r = r;
}

// targets [j0, j1) of every clock, in blocks of rows; a part after the first finds where each
// clock's merge stands (and walks the wrapped streams' rows up to there) first
template <typename Out>
[[gnu::always_inline]] inline void resample_body(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0,
                                                 std::int64_t j1, std::int64_t start, Out* out, std::int64_t stride) {
  constexpr std::int64_t kBlock = 256;
  for (Clock& c : clocks) {
    c.begin();
    if (j0 == 0) continue;
    if (c.wrapped)
      resample_rows(c, x, 0, j0, start, out, stride, false);
    else
      c.r = std::upper_bound(c.t, c.t + c.L, x[j0] + start) - c.t;  // the merge of the targets before j0
  }
  for (std::int64_t b = j0; b < j1; b += kBlock)
    for (Clock& c : clocks) resample_rows(c, x, b, std::min(b + kBlock, j1), start, out, stride, true);
}

template <typename Out>
void resample_plain(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0, std::int64_t j1,
                    std::int64_t start, Out* out, std::int64_t stride) {
  resample_body(clocks, x, j0, j1, start, out, stride);
}

#if defined(__x86_64__) && defined(__GNUC__)
// the same loop with the fma instruction (std::fma is otherwise a libm call per channel)
template <typename Out>
__attribute__((target("fma"))) void resample_fma(std::vector<Clock>& clocks, const std::int64_t* x, std::int64_t j0,
                                                 std::int64_t j1, std::int64_t start, Out* out, std::int64_t stride) {
  resample_body(clocks, x, j0, j1, start, out, stride);
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
// the same); values float64 [S, D_s] per stream; modes 0 linear, 1 previous, 2 nearest, 3 wrapped;
// cols the stream's first column in out. targets: int64 ns from `start`, sorted. out: C-contiguous
// float32 or float64 [B, T', D'].
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
    std::int64_t rows = c.L;  // rows the clock points at
    if (!index_obj.is_none()) {
      indices[k] = I64::ensure(index_obj);
      if (!indices[k] || indices[k].shape(0) != c.L) throw py::value_error("io_resample_into: index must be int64 [L]");
      c.index = indices[k].data();
      rows = 0;
      for (std::int64_t i = 0; i < c.L; ++i) {
        if (c.index[i] < 0) throw py::value_error("io_resample_into: a negative index");
        rows = std::max(rows, c.index[i] + 1);
      }
    }
    for (std::size_t s = 0; s < values.size(); ++s) {
      const F64& v = values[s];
      if (v.ndim() != 2 || v.shape(0) < rows) throw py::value_error("io_resample_into: values [S, D] too short");
      if (modes[s] < 0 || modes[s] > 3) throw py::value_error("io_resample_into: mode must be 0 to 3");
      if (cols[s] < 0 || cols[s] + v.shape(1) > out.shape(2))
        throw py::value_error("io_resample_into: columns outside out");
      c.streams.push_back({v.data(), v.shape(0), v.shape(1), cols[s], modes[s]});
    }
  }
  const std::int64_t* x = targets.data();
  const std::int64_t j0 = T * part / parts, j1 = T * (part + 1) / parts;
  const std::int64_t stride = out.shape(2);
  const std::int64_t row0 = b * out.shape(1) * stride;
  if (out.dtype().is(py::dtype::of<float>())) {
    float* o = static_cast<float*>(out.mutable_data()) + row0;
    py::gil_scoped_release release;
    resample(clocks, x, j0, j1, start, o, stride);
  } else if (out.dtype().is(py::dtype::of<double>())) {
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
