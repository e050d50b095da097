#include "runtime/resample_call.h"

#include <cmath>

#include <fmt/format.h>

#include "compiler/errors.h"
#include "compiler/resample_abi.h"

namespace robocache {

namespace {

void expect_dtype(const char* name, const ArrayView& a, DType want) {
  if (a.dtype != want)
    throw ArgumentError(name, fmt::format("expected dtype {} (from the compiled spec), got {}",
                                          dtype_name(want), dtype_name(a.dtype)));
}

void expect_contiguous(const char* name, const ArrayView& a) {
  // The Python layer makes strided inputs contiguous; a C++ caller must pass dense arrays.
  if (!a.is_contiguous())
    throw ArgumentError(name, fmt::format("must be C-contiguous (shape {})", a.shape_text()));
}

// Times are [rows, n] or [n] (shared by the batch); returns the row stride in elements.
std::int64_t time_row_stride(const char* name, const ArrayView& t, std::int64_t batch, std::int64_t n,
                             const char* n_name) {
  if (t.shape.size() == 1) {
    if (n >= 0 && t.shape[0] != n)
      throw ArgumentError(name, fmt::format("expected shape [{}] or [{}, {}] ({} = {}), got {}", n,
                                            batch, n, n_name, n, t.shape_text()));
    return 0;
  }
  if (t.shape.size() == 2) {
    if (t.shape[0] != batch || (n >= 0 && t.shape[1] != n))
      throw ArgumentError(name, fmt::format("expected shape [{}, {}] or [{}] to match data's batch {}, got {}",
                                            batch, n >= 0 ? std::to_string(n) : "T",
                                            n >= 0 ? std::to_string(n) : "T", batch, t.shape_text()));
    return t.shape[1];
  }
  throw ArgumentError(name, fmt::format("expected a 1-D or 2-D array, got shape {}", t.shape_text()));
}

void check_source_times(const ResampleSpec& spec, const ArrayView& src, std::int64_t batch,
                        std::int64_t S, std::int64_t row_stride) {
  auto scan = [&](const auto* t) {
    const std::int64_t rows = row_stride == 0 ? 1 : batch;
    for (std::int64_t b = 0; b < rows; ++b) {
      const auto* row = t + b * row_stride;
      for (std::int64_t i = 0; i < S; ++i) {
        if (std::isnan(row[i]))
          throw ArgumentError("src_times", fmt::format("is NaN at row {}, index {}", b, i));
        if (i > 0 && row[i] < row[i - 1])
          throw ArgumentError("src_times",
                              fmt::format("must be non-decreasing: row {}, index {} has {} after {}",
                                          b, i, row[i], row[i - 1]));
      }
    }
  };
  if (spec.time_dtype == DType::F64) scan(static_cast<const double*>(src.data));
  else scan(static_cast<const float*>(src.data));
}

}  // namespace

std::vector<std::int64_t> resample_output_shape(const ResampleSpec& spec, const ResampleInputs& in) {
  const ArrayView& data = in.data;
  if (data.shape.size() != 3)
    throw ArgumentError("data", fmt::format("expected a 3-D array [B, S, D] with D = {}, got shape {}",
                                            spec.dim, data.shape_text()));
  const std::int64_t B = data.shape[0], S = data.shape[1], D = data.shape[2];
  if (D != spec.dim)
    throw ArgumentError("data", fmt::format("expected {} channels (last dim, from the compiled spec), got shape {}",
                                            spec.dim, data.shape_text()));
  if (S < 1)
    throw ArgumentError("data", fmt::format("needs at least one source sample (S >= 1), got shape {}",
                                            data.shape_text()));
  expect_dtype("data", data, spec.dtype);
  expect_dtype("src_times", in.src_times, spec.time_dtype);
  expect_dtype("tgt_times", in.tgt_times, spec.time_dtype);
  time_row_stride("src_times", in.src_times, B, S, "S");
  time_row_stride("tgt_times", in.tgt_times, B, -1, "T");
  for (const auto* a : {&in.src_times, &in.tgt_times}) {
    const char* name = a == &in.src_times ? "src_times" : "tgt_times";
    if (a->device != data.device || a->device_index != data.device_index)
      throw ArgumentError(name, fmt::format("is on {} but data is on {}; all arrays must be on one device",
                                            a->device_text(), data.device_text()));
  }
  const std::int64_t T = in.tgt_times.shape.back();
  return {B, T, D};
}

BoundLaunch bind_resample(const ResampleSpec& spec, const ResampleInputs& in, const ArrayView& out,
                          bool check_times) {
  namespace abi = resample_abi;
  const auto shape = resample_output_shape(spec, in);
  const std::int64_t B = shape[0], S = in.data.shape[1], T = shape[1];
  if (out.shape != shape)
    throw ArgumentError("out", fmt::format("expected shape [{}, {}, {}], got {}", B, T, shape[2],
                                           out.shape_text()));
  expect_dtype("out", out, spec.dtype);
  if (out.device != in.data.device || out.device_index != in.data.device_index)
    throw ArgumentError("out", fmt::format("is on {} but data is on {}", out.device_text(),
                                           in.data.device_text()));
  expect_contiguous("data", in.data);
  expect_contiguous("src_times", in.src_times);
  expect_contiguous("tgt_times", in.tgt_times);
  expect_contiguous("out", out);
  const std::int64_t src_stride = time_row_stride("src_times", in.src_times, B, S, "S");
  const std::int64_t tgt_stride = time_row_stride("tgt_times", in.tgt_times, B, T, "T");
  if (check_times && in.src_times.device == DeviceKind::Cpu && B > 0)
    check_source_times(spec, in.src_times, B, S, src_stride);

  BoundLaunch bl;
  bl.args.set_ptr(abi::kData, in.data.data);
  bl.args.set_ptr(abi::kSrcTimes, in.src_times.data);
  bl.args.set_ptr(abi::kTgtTimes, in.tgt_times.data);
  bl.args.set_ptr(abi::kOut, out.data);
  bl.args.set_int(abi::kB, B);
  bl.args.set_int(abi::kS, S);
  bl.args.set_int(abi::kT, T);
  bl.args.set_int(abi::kSrcRowStride, src_stride);
  bl.args.set_int(abi::kTgtRowStride, tgt_stride);
  bl.work = WorkShape{B, T};
  return bl;
}

}  // namespace robocache
