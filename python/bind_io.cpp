// The clock and mask passes of robocache.io.align in native code: each walks a recorded clock
// once or twice, where numpy needed a dozen passes and as many temporaries. The rules are those
// of python/robocache/io/clocks.py and masks.py (whose numpy versions stay as the reference the
// tests compare with); nothing here resamples values, the kernels do that.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {
namespace {

using I64 = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Bool = py::array_t<bool, py::array::c_style | py::array::forcecast>;

// Sorts and de-duplicates a recorded clock (clocks.py's rule): None when it is strictly
// increasing already, else (times, index, suspect, out_of_order, duplicates, first_late,
// late_after, first_dup): first_late is the first recorded sample stamped before an
// earlier-recorded one (-1: none) and late_after the latest stamp before it, first_dup the
// recorded index of the first dropped repeat in sorted order (-1: none).
py::object repair(const I64& times) {
  const std::int64_t n = times.shape(0);
  const std::int64_t* t = times.data();
  bool sorted = true;
  for (std::int64_t i = 1; i < n && sorted; ++i) sorted = t[i] > t[i - 1];
  if (sorted) return py::none();

  // scratch kept per thread between calls: a fresh buffer of a long clock costs more in page
  // faults than the pass that fills it. Used through references taken once: a thread_local of a
  // shared library named in a loop costs a __tls_get_addr call each time.
  thread_local std::vector<std::int64_t> late_scratch;
  thread_local std::vector<char> is_late_scratch;
  std::vector<std::int64_t>& late = late_scratch;
  std::vector<char>& is_late = is_late_scratch;
  late.clear();
  is_late.assign(static_cast<std::size_t>(n), 0);
  std::int64_t first_late = -1, late_after = 0;
  {
    py::gil_scoped_release release;
    std::int64_t running = t[0];
    for (std::int64_t i = 1; i < n; ++i) {
      if (t[i] < running) {
        late.push_back(i);
        is_late[i] = 1;
        if (first_late < 0) {
          first_late = i;
          late_after = running;
        }
      } else {
        running = t[i];
      }
    }
    // equal stamps stay in recorded order (a stable sort): an in-order sample with the same stamp
    // as a late one was always recorded before it (see clocks.py)
    std::stable_sort(late.begin(), late.end(), [t](std::int64_t a, std::int64_t b) { return t[a] < t[b]; });
  }
  // merged order, then runs of one stamp reduced to their first sample
  py::array_t<std::int64_t> out_t(n), out_index(n);
  py::array_t<bool> out_suspect(n);
  std::int64_t kept = 0, dups = 0, first_dup = -1;
  {
    py::gil_scoped_release release;
    std::int64_t* ot = out_t.mutable_data();
    std::int64_t* oi = out_index.mutable_data();
    bool* os = out_suspect.mutable_data();
    // the samples that are not late, in recorded order (already sorted), merged with the late ones
    std::int64_t a = 0;
    std::size_t b = 0;
    while (a < n && is_late[a]) ++a;
    while (a < n || b < late.size()) {
      std::int64_t i;
      if (b == late.size() || (a < n && t[a] <= t[late[b]])) {
        i = a++;
        while (a < n && is_late[a]) ++a;
      } else {
        i = late[b++];
      }
      if (kept && ot[kept - 1] == t[i]) {  // a repeat: dropped, and the kept one is suspect
        ++dups;
        if (first_dup < 0) first_dup = i;
        os[kept - 1] = true;
        continue;
      }
      ot[kept] = t[i];
      oi[kept] = i;
      os[kept] = is_late[i] != 0;
      ++kept;
    }
  }
  out_t.resize({kept});
  out_index.resize({kept});
  out_suspect.resize({kept});
  return py::make_tuple(out_t, out_index, out_suspect, static_cast<std::int64_t>(late.size()), dups, first_late,
                        late_after, first_dup);
}

// The statistics of a repaired clock's intervals that the report and max_gap="auto" need, in one
// pass and one selection: (median, max interval, gaps, s1, s2, m) where gaps counts intervals over
// gap_ns (< 0: not checked), s1 and s2 are the sums of (interval - median) and its square over the
// m intervals that are not gaps, and the gap_ns used (gap_auto: 4 x the median; -1: none). The
// median is numpy's: the middle one, or the mean of the two.
// The k-th smallest interval (and the (k-1)-th when `lower` is asked), exact. A strided sample
// of the intervals brackets the rank; one pass counts the intervals below the bracket and keeps
// those inside it, and a selection among those few finishes. Where the sample misleads (a
// bracket that misses the rank, or holds too many intervals), a full selection does it.
void select_interval(const std::int64_t* t, std::int64_t n, std::int64_t k, std::int64_t* kth, std::int64_t* lower) {
  auto full = [&] {
    std::vector<std::int64_t> dt(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) dt[i] = t[i + 1] - t[i];
    std::nth_element(dt.begin(), dt.begin() + k, dt.end());
    *kth = dt[k];
    if (lower) *lower = *std::max_element(dt.begin(), dt.begin() + k);
  };
  constexpr std::int64_t kSample = 4096, kMargin = 128;  // 4 standard deviations of the median's rank
  if (n < 8 * kSample || k < 1) return full();
  std::vector<std::int64_t> sample(kSample);
  const std::int64_t stride = n / kSample;
  for (std::int64_t j = 0; j < kSample; ++j) sample[j] = t[j * stride + 1] - t[j * stride];
  std::sort(sample.begin(), sample.end());
  const std::int64_t at = k * kSample / n;
  const std::int64_t lo = sample[std::max<std::int64_t>(at - kMargin, 0)];
  const std::int64_t hi = sample[std::min<std::int64_t>(at + kMargin, kSample - 1)];
  const std::size_t cap = static_cast<std::size_t>(n / 8);
  thread_local std::vector<std::int64_t> mid_scratch;  // scratch kept per thread (see repair)
  std::vector<std::int64_t>& mid = mid_scratch;
  mid.clear();
  mid.reserve(cap);
  std::int64_t below = 0, inside = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t d = t[i + 1] - t[i];
    if (d < lo) {
      ++below;
    } else if (d <= hi) {
      ++inside;
      if (mid.size() < cap) mid.push_back(d);
    }
  }
  // the bracket must hold rank k, and rank k - 1 when it is asked for
  if (below > k - (lower ? 1 : 0) || below + inside <= k) return full();
  if (lo == hi) {  // every interval in the bracket is the same
    *kth = lo;
    if (lower) *lower = lo;
    return;
  }
  if (static_cast<std::size_t>(inside) != mid.size()) return full();
  const std::int64_t r = k - below;
  std::nth_element(mid.begin(), mid.begin() + r, mid.end());
  *kth = mid[r];
  if (lower) *lower = r ? *std::max_element(mid.begin(), mid.begin() + r) : 0;
}

// interval_stats in one pass over a long clock: the sample's bracket of the median rank as in
// select_interval; the sums taken about the sample's median c (and moved to the true median after),
// leaving out the intervals that may be gaps (over 4 x the bracket's low end, or over gap_ns),
// which are kept aside and settled once the median is known. False where the sample misleads
// (the caller then takes the two-pass way).
struct IntervalStats {
  double median = 0, s1 = 0, s2 = 0;
  std::int64_t longest = 0, gaps = 0, m = 0, gap_ns = -1;
};

bool interval_stats_one_pass(const std::int64_t* t, std::int64_t n, std::int64_t gap_ns, bool gap_auto,
                             IntervalStats* out) {
  constexpr std::int64_t kSample = 4096, kMargin = 128;
  if (n < 8 * kSample) return false;
  std::vector<std::int64_t> sample(kSample);
  const std::int64_t stride = n / kSample;
  for (std::int64_t j = 0; j < kSample; ++j) sample[j] = t[j * stride + 1] - t[j * stride];
  std::sort(sample.begin(), sample.end());
  const std::int64_t k = n / 2, at = k * kSample / n;
  const std::int64_t lo = sample[std::max<std::int64_t>(at - kMargin, 0)];
  const std::int64_t hi = sample[std::min<std::int64_t>(at + kMargin, kSample - 1)];
  const std::int64_t c = sample[at];
  if (lo <= 0) return false;
  const std::int64_t aside = gap_auto ? 4 * lo : gap_ns >= 0 ? gap_ns : INT64_MAX;
  const std::size_t cap = static_cast<std::size_t>(n / 8);
  thread_local std::vector<std::int64_t> mid_scratch, big_scratch;  // scratch kept per thread (see repair)
  std::vector<std::int64_t>&mid = mid_scratch, &big = big_scratch;
  mid.clear();
  big.clear();
  mid.resize(cap + 1);
  std::int64_t below = 0, inside = 0, longest = 0, m = 0;
  std::size_t kept = 0;  // mid[0, kept): the intervals inside the bracket, while they fit
  double S1 = 0, S2 = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t d = t[i + 1] - t[i];
    longest = std::max(longest, d);
    // without branches: below and inside are as likely as not on a jittered clock
    const bool is_below = d < lo, is_inside = !is_below && d <= hi;
    below += is_below;
    inside += is_inside;
    mid[kept] = d;
    kept += is_inside && kept < cap;
    if (d > aside) {
      if (big.size() >= cap) return false;
      big.push_back(d);
    } else {
      const double y = static_cast<double>(d - c);
      S1 += y;
      S2 += y * y;
      ++m;
    }
  }
  mid.resize(kept);
  const bool even = n % 2 == 0;
  if (below > k - (even ? 1 : 0) || below + inside <= k || static_cast<std::size_t>(inside) != mid.size())
    return false;
  const std::int64_t r = k - below;
  std::nth_element(mid.begin(), mid.begin() + r, mid.end());
  const std::int64_t upper = mid[r];
  double median = static_cast<double>(upper);
  if (even) {
    const std::int64_t lower = r ? *std::max_element(mid.begin(), mid.begin() + r) : 0;
    median = (static_cast<double>(lower) + static_cast<double>(upper)) / 2;
  }
  if (gap_auto) gap_ns = static_cast<std::int64_t>(4 * median);
  std::int64_t gaps = 0;
  for (const std::int64_t d : big) {
    if (gap_ns >= 0 && d > gap_ns) {
      ++gaps;
    } else {
      const double y = static_cast<double>(d - c);
      S1 += y;
      S2 += y * y;
      ++m;
    }
  }
  const double delta = median - static_cast<double>(c);
  out->median = median;
  out->s1 = S1 - static_cast<double>(m) * delta;
  out->s2 = S2 - 2 * delta * S1 + static_cast<double>(m) * delta * delta;
  out->longest = longest;
  out->gaps = gaps;
  out->m = m;
  out->gap_ns = gap_ns;
  return true;
}

py::tuple interval_stats(const I64& times, std::int64_t gap_ns, bool gap_auto) {
  const std::int64_t n = times.shape(0) - 1;
  if (n < 1) return py::make_tuple(py::none(), py::none(), 0, 0.0, 0.0, 0, gap_auto ? -1 : gap_ns);
  const std::int64_t* t = times.data();
  double median;
  std::int64_t longest = 0, gaps = 0, m = 0;
  double s1 = 0, s2 = 0;
  {
    py::gil_scoped_release release;
    IntervalStats one;
    if (interval_stats_one_pass(t, n, gap_ns, gap_auto, &one)) {
      py::gil_scoped_acquire acquire;
      return py::make_tuple(one.median, one.longest, one.gaps, one.s1, one.s2, one.m, one.gap_ns);
    }
    const std::int64_t k = n / 2;
    std::int64_t upper = 0, lower = 0;
    select_interval(t, n, k, &upper, n % 2 ? nullptr : &lower);
    median = n % 2 ? static_cast<double>(upper) : (static_cast<double>(lower) + static_cast<double>(upper)) / 2;
    if (gap_auto) gap_ns = static_cast<std::int64_t>(4 * median);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t d = t[i + 1] - t[i];
      longest = std::max(longest, d);
      if (gap_ns >= 0 && d > gap_ns) {
        ++gaps;
        continue;
      }
      const double y = static_cast<double>(d) - median;
      s1 += y;
      s2 += y * y;
      ++m;
    }
  }
  return py::make_tuple(median, longest, gaps, s1, s2, m, gap_ns);
}

// The merge of stream_mask below, specialised on whether it keeps the samples read (`needed`) and
// whether any sample is suspect: the mask of a clean clock is a few comparisons per target.
struct MaskCounts {
  std::int64_t outside = 0, gap = 0, far = 0, repaired = 0;
};

template <bool kNeeded, bool kSuspect, int kMode>
void mask_pass(const std::int64_t* t, std::int64_t L, const std::int64_t* x, std::int64_t T,
               std::int64_t tolerance_ns, std::int64_t gap_ns, const bool* suspect, bool* valid,
               std::vector<std::int64_t>& needed, MaskCounts& n) {
  if (kNeeded) needed.push_back(0);
  // no gap or tolerance check: INT64_MAX is over every span and every distance
  const std::int64_t gap_max = gap_ns >= 0 ? gap_ns : INT64_MAX, far_max = tolerance_ns >= 0 ? tolerance_ns : INT64_MAX;
  const std::int64_t first = t[0], last = t[L - 1];
  std::int64_t r = 0;  // samples stamped at or before the target (searchsorted right)
  for (std::int64_t j = 0; j < T; ++j) {
    const std::int64_t xj = x[j];
    while (r < L && t[r] <= xj) ++r;
    const std::int64_t lc = r > 0 ? r - 1 : 0, rc = std::min(r, L - 1);
    if (kNeeded) {
      if (lc > needed.back()) needed.push_back(lc);
      if (rc > needed.back()) needed.push_back(rc);
    }
    const bool inside = (xj >= first) & (xj <= last);
    const std::int64_t tl = t[lc], tr = t[rc];
    const bool interior = inside & (tl != xj);
    const bool is_gap = interior & (tr - tl > gap_max);
    const bool is_far = interior & (std::min(xj - tl, tr - xj) > far_max);
    bool bad = false;
    if (kSuspect) {
      if (kMode == 1)
        bad = suspect[lc];
      else if (kMode == 2)
        bad = suspect[interior & (xj - tl > tr - xj) ? rc : lc];
      else
        bad = suspect[lc] | (interior & suspect[rc]);
      bad &= inside;
    }
    n.outside += !inside;
    n.gap += is_gap;
    n.far += is_far;
    n.repaired += bad;
    valid[j] = inside & !is_gap & !is_far & !bad;
  }
  if (kNeeded && L - 1 > needed.back()) needed.push_back(L - 1);
}

// masks.py's stream_mask on the int64 clocks, in one merge of the sorted targets with the clock:
// (valid [T], needed [K], outside, gap, tolerance, repaired). mode 0: both neighbours (linear,
// slerp, wrapped), 1: previous, 2: nearest. tolerance_ns and gap_ns < 0: not checked; suspect may
// be None (no suspect sample). with_needed false: needed is left empty (align on the CPU reads
// the rows itself and needs no list of them).
py::tuple stream_mask(const I64& times, const I64& targets, int mode, std::int64_t tolerance_ns, std::int64_t gap_ns,
                      const py::object& suspect_obj, bool with_needed) {
  const std::int64_t L = times.shape(0), T = targets.shape(0);
  const std::int64_t* t = times.data();
  const std::int64_t* x = targets.data();
  if (L < 1) throw py::value_error("io_stream_mask: an empty clock");
  Bool suspect_arr;
  const bool* suspect = nullptr;
  if (!suspect_obj.is_none()) {
    suspect_arr = Bool::ensure(suspect_obj);
    if (!suspect_arr || suspect_arr.shape(0) != L) throw py::value_error("io_stream_mask: suspect must be bool [L]");
    suspect = suspect_arr.data();
  }
  py::array_t<bool> valid_arr(T);
  thread_local std::vector<std::int64_t> needed_scratch;  // scratch kept per thread (see repair)
  std::vector<std::int64_t>& needed = needed_scratch;
  needed.clear();
  MaskCounts n;
  {
    py::gil_scoped_release release;
    bool* valid = valid_arr.mutable_data();
    if (with_needed) needed.reserve(static_cast<std::size_t>(std::min<std::int64_t>(L, 2 * T + 2)));
    // one loop per case, so that none tests the mode, the flags or the suspect list per target
    auto run = [&](auto needed_tag, auto suspect_tag) {
      constexpr bool kN = decltype(needed_tag)::value, kS = decltype(suspect_tag)::value;
      if (mode == 1)
        mask_pass<kN, kS, 1>(t, L, x, T, tolerance_ns, gap_ns, suspect, valid, needed, n);
      else if (mode == 2)
        mask_pass<kN, kS, 2>(t, L, x, T, tolerance_ns, gap_ns, suspect, valid, needed, n);
      else
        mask_pass<kN, kS, 0>(t, L, x, T, tolerance_ns, gap_ns, suspect, valid, needed, n);
    };
    using Yes = std::true_type;
    using No = std::false_type;
    if (with_needed)
      suspect ? run(Yes{}, Yes{}) : run(Yes{}, No{});
    else
      suspect ? run(No{}, Yes{}) : run(No{}, No{});
  }
  py::array_t<std::int64_t> needed_arr(static_cast<py::ssize_t>(needed.size()));
  std::copy(needed.begin(), needed.end(), needed_arr.mutable_data());
  return py::make_tuple(valid_arr, needed_arr, n.outside, n.gap, n.far, n.repaired);
}

// Rows of a stream gathered into a kernel's packed array: out[b, k, col:col+D] = values[row_k]
// for the first n rows, where row_k = index[sel[k]] (index None: sel[k]), cast to out's dtype;
// unwrap: angles made continuous along the gathered rows first (alignment.py's unwrap rule). The
// indices are checked as they are used; false if one is out of range (the copy stops there).
inline bool row_of(const std::int64_t* index, std::int64_t index_len, const std::int64_t* sel, std::int64_t k,
                   std::int64_t S, std::int64_t* row) {
  std::int64_t r = sel[k];
  if (index) {
    if (static_cast<std::uint64_t>(r) >= static_cast<std::uint64_t>(index_len)) return false;
    r = index[r];
  }
  *row = r;
  return static_cast<std::uint64_t>(r) < static_cast<std::uint64_t>(S);
}

template <typename Out, int kD>
bool copy_rows(const double* v, std::int64_t S, const std::int64_t* index, std::int64_t index_len,
               const std::int64_t* sel, std::int64_t n, Out* out, std::int64_t out_stride) {
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t row;
    if (!row_of(index, index_len, sel, k, S, &row)) return false;
    const double* src = v + row * kD;
    Out* dst = out + k * out_stride;
    for (int d = 0; d < kD; ++d) dst[d] = static_cast<Out>(src[d]);
  }
  return true;
}

template <typename Out>
bool gather_rows(const double* v, std::int64_t S, std::int64_t D, const std::int64_t* index, std::int64_t index_len,
                 const std::int64_t* sel, std::int64_t n, Out* out, std::int64_t out_stride, bool unwrap) {
  if (!unwrap) {  // the common widths unrolled: a topic's field is 1 to 7 channels
    switch (D) {
      case 1: return copy_rows<Out, 1>(v, S, index, index_len, sel, n, out, out_stride);
      case 2: return copy_rows<Out, 2>(v, S, index, index_len, sel, n, out, out_stride);
      case 3: return copy_rows<Out, 3>(v, S, index, index_len, sel, n, out, out_stride);
      case 4: return copy_rows<Out, 4>(v, S, index, index_len, sel, n, out, out_stride);
      case 6: return copy_rows<Out, 6>(v, S, index, index_len, sel, n, out, out_stride);
      case 7: return copy_rows<Out, 7>(v, S, index, index_len, sel, n, out, out_stride);
      default: break;
    }
  }
  constexpr double kTwoPi = 2 * M_PI;
  constexpr double kInvTwoPi = 1 / (2 * M_PI);
  std::vector<double> prev(static_cast<std::size_t>(D)), turns(static_cast<std::size_t>(D), 0.0);
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t row;
    if (!row_of(index, index_len, sel, k, S, &row)) return false;
    const double* src = v + row * D;
    Out* dst = out + k * out_stride;
    if (!unwrap) {
      for (std::int64_t d = 0; d < D; ++d) dst[d] = static_cast<Out>(src[d]);
      continue;
    }
    for (std::int64_t d = 0; d < D; ++d) {
      if (k) turns[d] += std::nearbyint((src[d] - prev[d]) * kInvTwoPi);
      prev[d] = src[d];
      dst[d] = static_cast<Out>(src[d] - kTwoPi * turns[d]);
    }
  }
  return true;
}

void gather(const F64& values, const py::object& index_obj, const I64& sel, py::array out, std::int64_t b,
            std::int64_t col, bool unwrap) {
  if (values.ndim() != 2 || out.ndim() != 3 || !(out.flags() & py::array::c_style))
    throw py::value_error("io_gather: values [S, D] and a C-contiguous out [B, S', D'] expected");
  const std::int64_t D = values.shape(1), n = sel.shape(0);
  if (b < 0 || b >= out.shape(0) || n > out.shape(1) || col < 0 || col + D > out.shape(2))
    throw py::value_error("io_gather: rows do not fit in out");
  I64 index;
  const std::int64_t* ip = nullptr;
  if (!index_obj.is_none()) {
    index = I64::ensure(index_obj);
    ip = index.data();
  }
  const std::int64_t* sp = sel.data();
  const std::int64_t S = values.shape(0), index_len = ip ? index.shape(0) : 0;
  const std::int64_t stride = out.shape(2);
  const double* v = values.data();
  bool ok;
  if (out.dtype().is(py::dtype::of<float>())) {
    float* o = static_cast<float*>(out.mutable_data()) + (b * out.shape(1)) * stride + col;
    py::gil_scoped_release release;
    ok = gather_rows(v, S, D, ip, index_len, sp, n, o, stride, unwrap);
  } else if (out.dtype().is(py::dtype::of<double>())) {
    double* o = static_cast<double*>(out.mutable_data()) + (b * out.shape(1)) * stride + col;
    py::gil_scoped_release release;
    ok = gather_rows(v, S, D, ip, index_len, sp, n, o, stride, unwrap);
  } else {
    throw py::value_error("io_gather: out must be float32 or float64");
  }
  if (!ok) throw py::value_error("io_gather: a row index is out of range");
}

// The kernel's times of a stream: out[b, k] = times[sel[k]] - start as float64 for k < n, the last
// one repeated to the end of the row.
void gather_times(const I64& times, const I64& sel, std::int64_t start, py::array out, std::int64_t b) {
  if (!out.dtype().is(py::dtype::of<double>()) || !(out.flags() & py::array::c_style))
    throw py::value_error("io_gather_times: out must be a C-contiguous float64 array");
  if (out.ndim() != 2 || b < 0 || b >= out.shape(0) || sel.shape(0) > out.shape(1) || sel.shape(0) < 1)
    throw py::value_error("io_gather_times: out [B, S'] with room for the rows expected");
  const std::int64_t n = sel.shape(0), S = out.shape(1), L = times.shape(0);
  const std::int64_t* t = times.data();
  const std::int64_t* sp = sel.data();
  for (std::int64_t k = 0; k < n; ++k)
    if (sp[k] < 0 || sp[k] >= L) throw py::value_error("io_gather_times: a row index is out of range");
  double* o = static_cast<double*>(out.mutable_data()) + b * S;
  py::gil_scoped_release release;
  for (std::int64_t k = 0; k < n; ++k) o[k] = static_cast<double>(t[sp[k]] - start);
  std::fill(o + n, o + S, o[n - 1]);
}

// dst[b, t, dst_col + d] = wrap(src[b, t, src_col + d]) for d < w, wrap(x) = (x + pi) % (2 pi) - pi
// with numpy's floating-point % (np.remainder, whose sign follows the divisor), bit for bit;
// numpy takes ~100 ns an element for it, this a few. src float64 [B, T, *], dst float32 or
// float64 [B, T, *], both C-contiguous; they may be the same array.
template <typename Out>
void wrap_rows(const double* src, std::int64_t ss, Out* dst, std::int64_t ds, std::int64_t rows, std::int64_t w) {
  constexpr double kPi = M_PI, kTwoPi = 2 * M_PI;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t d = 0; d < w; ++d) {
      double mod = std::fmod(src[r * ss + d] + kPi, kTwoPi);
      if (mod != 0) {
        if (mod < 0) mod += kTwoPi;
      } else {
        mod = 0.0;  // copysign(0, 2 pi)
      }
      dst[r * ds + d] = static_cast<Out>(mod - kPi);
    }
}

void wrap_into(py::array src, std::int64_t src_col, std::int64_t w, py::array dst, std::int64_t dst_col) {
  if (src.ndim() != 3 || dst.ndim() != 3 || !(src.flags() & py::array::c_style) ||
      !(dst.flags() & py::array::c_style) || !src.dtype().is(py::dtype::of<double>()))
    throw py::value_error("io_wrap_into: C-contiguous src float64 [B, T, *] and dst [B, T, *] expected");
  if (src.shape(0) != dst.shape(0) || src.shape(1) != dst.shape(1) || src_col < 0 || w < 0 ||
      src_col + w > src.shape(2) || dst_col < 0 || dst_col + w > dst.shape(2))
    throw py::value_error("io_wrap_into: the columns do not fit");
  const std::int64_t rows = src.shape(0) * src.shape(1);
  const double* s = static_cast<const double*>(src.data()) + src_col;
  if (dst.dtype().is(py::dtype::of<float>())) {
    float* d = static_cast<float*>(dst.mutable_data()) + dst_col;
    py::gil_scoped_release release;
    wrap_rows(s, src.shape(2), d, dst.shape(2), rows, w);
  } else if (dst.dtype().is(py::dtype::of<double>())) {
    double* d = static_cast<double*>(dst.mutable_data()) + dst_col;
    py::gil_scoped_release release;
    wrap_rows(s, src.shape(2), d, dst.shape(2), rows, w);
  } else {
    throw py::value_error("io_wrap_into: dst must be float32 or float64");
  }
}

}  // namespace

void bind_io(py::module_& m) {
  bind_io_resample(m);
  m.def("io_repair", &repair, py::arg("times"));
  m.def(
      "io_bounds",
      [](const I64& times) {
        const std::int64_t n = times.shape(0);
        if (n < 1) throw py::value_error("io_bounds: an empty clock");
        const std::int64_t* t = times.data();
        std::int64_t lo = t[0], hi = t[0];
        {
          py::gil_scoped_release release;
          for (std::int64_t i = 1; i < n; ++i) {
            lo = std::min(lo, t[i]);
            hi = std::max(hi, t[i]);
          }
        }
        return py::make_tuple(lo, hi);
      },
      py::arg("times"), "(first, last) stamp of a recorded clock: what its repaired clock starts and ends at");
  m.def("io_interval_stats", &interval_stats, py::arg("times"), py::arg("gap_ns"), py::arg("gap_auto"));
  m.def("io_stream_mask", &stream_mask, py::arg("times"), py::arg("targets"), py::arg("mode"),
        py::arg("tolerance_ns"), py::arg("gap_ns"), py::arg("suspect"), py::arg("with_needed") = true);
  m.def("io_gather", &gather, py::arg("values"), py::arg("index"), py::arg("sel"), py::arg("out"), py::arg("b"),
        py::arg("col"), py::arg("unwrap"));
  m.def("io_wrap_into", &wrap_into, py::arg("src"), py::arg("src_col"), py::arg("w"), py::arg("dst"),
        py::arg("dst_col"));
  m.def("io_gather_times", &gather_times, py::arg("times"), py::arg("sel"), py::arg("start"), py::arg("out"),
        py::arg("b"));
}

}  // namespace robocache::python
