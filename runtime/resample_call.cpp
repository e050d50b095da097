#include "runtime/resample_call.h"

#include <algorithm>

#include <fmt/format.h>

#include "support/errors.h"
#include "compiler/resample_abi.h"
#include "runtime/array_checks.h"

namespace robocache {

namespace {

// Dynamic shared memory a block may fill with a row's source times (the most a launch gets
// without raising the kernel's limit); a longer row is searched in global memory. Four such blocks
// still fit an SM, the most its registers allow anyway.
constexpr std::int64_t kStageBytes = 48 * 1024;

void expect_count(const std::vector<ArrayView>& arrays) {
  if (arrays.size() != 3 && arrays.size() != 4)
    throw ArgumentError("inputs", fmt::format("resample takes data, src_times, tgt_times and optional "
                                              "lengths, got {} arrays",
                                              arrays.size()));
}

const ArrayView* optional_at(const std::vector<ArrayView>& arrays, std::size_t i) {
  return arrays.size() > i && !checks::absent(arrays[i]) ? &arrays[i] : nullptr;
}

}  // namespace

StreamBinding check_stream(const char* data_name, const char* times_name, const char* lengths_name,
                           const ArrayView& data, const ArrayView& times, const ArrayView* lengths,
                           DType dtype, DType time_dtype, std::int64_t dim, std::int64_t batch,
                           const ArrayView& device_ref, bool check_values) {
  checks::size(data_name, data);
  checks::size(times_name, times);
  if (lengths) checks::size(lengths_name, *lengths);
  if (data.shape.size() != 3)
    throw ArgumentError(data_name, fmt::format("expected a 3-D array [B, S, D] with D = {}, got shape {}", dim,
                                               data.shape_text()));
  if (data.shape[0] != batch)
    throw ArgumentError(data_name, fmt::format("expected batch {} (first dim), got shape {}", batch, data.shape_text()));
  if (data.shape[2] != dim)
    throw ArgumentError(data_name, fmt::format("expected {} channels (last dim, from the compiled spec), got shape {}",
                                               dim, data.shape_text()));
  const std::int64_t S = data.shape[1];
  if (S < 1)
    throw ArgumentError(data_name, fmt::format("needs at least one source sample (S >= 1), got shape {}",
                                               data.shape_text()));
  checks::dtype(data_name, data, dtype);
  checks::dtype(times_name, times, time_dtype);
  checks::same_device(data_name, data, "the first array", device_ref);
  checks::same_device(times_name, times, "the first array", device_ref);
  StreamBinding s;
  s.samples = S;
  s.times_row_stride = checks::time_row_stride(times_name, times, batch, S);
  const std::int64_t* host_lengths = nullptr;
  if (lengths) {
    checks::same_device(lengths_name, *lengths, "the first array", device_ref);
    host_lengths = checks::lengths(lengths_name, *lengths, batch, 1, S);
    s.lengths = lengths->data;
  }
  checks::contiguous(data_name, data);
  checks::contiguous(times_name, times);
  if (check_values && times.device == DeviceKind::Cpu && batch > 0 && (!lengths || host_lengths))
    checks::sorted_times(times_name, times, time_dtype, batch, S, s.times_row_stride, host_lengths);
  return s;
}

void add_stream_cost(WorkShape& work, std::int64_t samples, std::int64_t dim, DType dtype, DType time_dtype,
                     bool device_checks) {
  const auto esz = static_cast<std::int64_t>(dtype_size(dtype));
  const std::int64_t times = samples * static_cast<std::int64_t>(dtype_size(time_dtype));
  const bool staged = times <= kStageBytes;
  work.item_bytes += 3 * dim * esz;  // two source rows read, one output row written
  if (staged || device_checks) work.row_bytes += times;
  if (staged) work.shared_bytes = std::max(work.shared_bytes, times);
  work.units_per_32 = std::max(work.units_per_32, (dim * esz + 127) / 128);  // 8 16-byte chunks a unit
}

OutputSpec plan_resample(const ResampleSpec& spec, const std::vector<ArrayView>& arrays) {
  expect_count(arrays);
  const ArrayView& data = arrays[0];
  if (data.shape.size() != 3)
    throw ArgumentError("data", fmt::format("expected a 3-D array [B, S, D] with D = {}, got shape {}", spec.dim,
                                            data.shape_text()));
  const std::int64_t B = data.shape[0];
  check_stream("data", "src_times", "lengths", data, arrays[1], optional_at(arrays, 3), spec.dtype,
               spec.time_dtype, spec.dim, B, data, false);
  checks::dtype("tgt_times", arrays[2], spec.time_dtype);
  checks::same_device("tgt_times", arrays[2], "data", data);
  checks::size("tgt_times", arrays[2]);
  checks::time_row_stride("tgt_times", arrays[2], B, -1);
  OutputSpec plan{{B, arrays[2].shape.back(), spec.dim}, spec.dtype, {}};
  checks::element_count("out", plan.shape, "output [B, T, D] =");
  return plan;
}

BoundLaunch bind_resample(const ResampleSpec& spec, const std::vector<ArrayView>& arrays, const ArrayView& out,
                          bool check_values) {
  namespace abi = resample_abi;
  const OutputSpec plan = plan_resample(spec, arrays);
  const ArrayView &data = arrays[0], &src = arrays[1], &tgt = arrays[2];
  const std::int64_t B = plan.shape[0], T = plan.shape[1];
  if (out.shape != plan.shape)
    throw ArgumentError("out", fmt::format("expected shape [{}, {}, {}], got {}", B, T, spec.dim, out.shape_text()));
  checks::dtype("out", out, spec.dtype);
  checks::same_device("out", out, "data", data);
  checks::contiguous("out", out);
  checks::contiguous("tgt_times", tgt);
  StreamBinding s = check_stream("data", "src_times", "lengths", data, src, optional_at(arrays, 3), spec.dtype,
                                 spec.time_dtype, spec.dim, B, data, check_values);
  BoundLaunch bl;
  bl.args.set_ptr(abi::kData, data.data);
  bl.args.set_ptr(abi::kSrcTimes, src.data);
  bl.args.set_ptr(abi::kTgtTimes, tgt.data);
  bl.args.set_ptr(abi::kOut, out.data);
  bl.args.set_int(abi::kB, B);
  bl.args.set_int(abi::kS, s.samples);
  bl.args.set_int(abi::kT, T);
  bl.args.set_int(abi::kSrcRowStride, s.times_row_stride);
  bl.args.set_int(abi::kTgtRowStride, checks::time_row_stride("tgt_times", tgt, B, T));
  bl.args.set_ptr(abi::kLengths, s.lengths);
  // On CUDA the kernel checks lengths and source times itself (no host synchronisation).
  const bool device_checks = check_values && data.device == DeviceKind::Cuda;
  bl.args.set_int(abi::kValidate, device_checks ? 1 : 0);
  bl.work = WorkShape{B, T};
  bl.work.tile_slot = abi::kTileTargets;
  bl.work.error_slot = abi::kErrorFlag;
  add_stream_cost(bl.work, s.samples, spec.dim, spec.dtype, spec.time_dtype, device_checks);
  return bl;
}

}  // namespace robocache
