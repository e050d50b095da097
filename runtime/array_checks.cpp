#include "runtime/array_checks.h"

#include <cmath>

#include <fmt/format.h>

#include "support/errors.h"

namespace robocache::checks {

std::int64_t element_count(const char* name, const std::vector<std::int64_t>& dims, const char* what) {
  auto text = [&] { return ArrayView{nullptr, DType::F32, dims, {}}.shape_text(); };
  std::int64_t n = 1;
  bool too_big = false;
  for (std::int64_t d : dims) {
    if (d < 0) throw ArgumentError(name, fmt::format("{} {} has a negative dimension", what, text()));
    if (d == 0) return 0;  // an empty array, whatever the other dims
    // An overflow check without a division: this runs several times per call on the short paths.
    std::int64_t product = 0;
    if (__builtin_mul_overflow(n, d, &product) || product > kMaxElements) too_big = true;
    else n = product;
  }
  if (too_big || n > kMaxElements)
    throw ArgumentError(name, fmt::format("{} {} has too many elements to index (at most 2^60)", what, text()));
  return n;
}

std::int64_t size(const char* name, const ArrayView& a) { return element_count(name, a.shape, "shape"); }

void dtype(const char* name, const ArrayView& a, DType want) {
  if (a.dtype != want)
    throw ArgumentError(name, fmt::format("expected dtype {} (from the compiled spec), got {}",
                                          dtype_name(want), dtype_name(a.dtype)));
}

void contiguous(const char* name, const ArrayView& a) {
  if (!a.is_contiguous())
    throw ArgumentError(name, fmt::format("must be C-contiguous (shape {})", a.shape_text()));
}

void same_device(const char* name, const ArrayView& a, const char* ref_name, const ArrayView& ref) {
  if (a.device != ref.device || a.device_index != ref.device_index)
    throw ArgumentError(name, fmt::format("is on {} but {} is on {}; all arrays must be on one device",
                                          a.device_text(), ref_name, ref.device_text()));
}

std::int64_t time_row_stride(const char* name, const ArrayView& t, std::int64_t batch, std::int64_t n) {
  const std::string len = n >= 0 ? std::to_string(n) : "T";
  if (t.shape.size() == 1) {
    if (n >= 0 && t.shape[0] != n)
      throw ArgumentError(name, fmt::format("expected shape [{}] or [{}, {}] (matching data's samples), got {}",
                                            n, batch, n, t.shape_text()));
    return 0;
  }
  if (t.shape.size() == 2) {
    if (t.shape[0] != batch || (n >= 0 && t.shape[1] != n))
      throw ArgumentError(name, fmt::format("expected shape [{}, {}] or [{}] to match data's batch {}, got {}",
                                            batch, len, len, batch, t.shape_text()));
    return t.shape[1];
  }
  throw ArgumentError(name, fmt::format("expected a 1-D or 2-D array, got shape {}", t.shape_text()));
}

void sorted_times(const char* name, const ArrayView& src, DType time_dtype, std::int64_t batch,
                  std::int64_t n, std::int64_t row_stride, const std::int64_t* lengths) {
  auto scan = [&](const auto* t) {
    const std::int64_t rows = row_stride == 0 && !lengths ? 1 : batch;
    for (std::int64_t b = 0; b < rows; ++b) {
      const auto* row = t + b * row_stride;
      const std::int64_t len = lengths ? lengths[b] : n;
      for (std::int64_t i = 0; i < len; ++i) {
        if (std::isnan(row[i]))
          throw ArgumentError(name, fmt::format("is NaN at row {}, index {}", b, i));
        if (i > 0 && row[i] < row[i - 1])
          throw ArgumentError(name, fmt::format("must be non-decreasing: row {}, index {} has {} after {}",
                                                b, i, row[i], row[i - 1]));
      }
    }
  };
  if (time_dtype == DType::F64) scan(static_cast<const double*>(src.data));
  else scan(static_cast<const float*>(src.data));
}

const std::int64_t* lengths(const char* name, const ArrayView& l, std::int64_t batch, std::int64_t lo,
                            std::int64_t hi) {
  if (l.dtype != DType::I64)
    throw ArgumentError(name, fmt::format("expected dtype i64, got {}", dtype_name(l.dtype)));
  if (l.shape.size() != 1 || l.shape[0] != batch)
    throw ArgumentError(name, fmt::format("expected shape [{}] (one length per batch row), got {}", batch,
                                          l.shape_text()));
  contiguous(name, l);
  if (l.device != DeviceKind::Cpu) return nullptr;  // device lengths are checked by the kernel (backends/cuda/device_errors.h)
  const auto* p = static_cast<const std::int64_t*>(l.data);
  for (std::int64_t b = 0; b < batch; ++b)
    if (p[b] < lo || p[b] > hi)
      throw ArgumentError(name, fmt::format("row {} has length {}, expected a value in [{}, {}]", b, p[b], lo, hi));
  return p;
}

}  // namespace robocache::checks
