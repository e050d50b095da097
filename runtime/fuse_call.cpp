#include "runtime/fuse_call.h"

#include <string>

#include <fmt/format.h>

#include "support/errors.h"
#include "compiler/fuse_abi.h"
#include "runtime/array_checks.h"
#include "runtime/resample_call.h"

namespace robocache {

namespace {

// Argument names users see: streams[i].data, streams[i].times, streams[i].lengths.
struct StreamNames {
  std::string data, times, lengths;
  explicit StreamNames(std::size_t i)
      : data(fmt::format("streams[{}].data", i)),
        times(fmt::format("streams[{}].times", i)),
        lengths(fmt::format("streams[{}].lengths", i)) {}
};

std::int64_t expect_layout(const FuseSpec& spec, const std::vector<ArrayView>& arrays) {
  const std::size_t n = spec.modalities.size();
  if (arrays.size() != 1 + 3 * n)
    throw ArgumentError("streams", fmt::format("the compiled spec fuses {} streams (tgt_times, then data, "
                                               "times, lengths per stream: {} arrays), got {} arrays",
                                               n, 1 + 3 * n, arrays.size()));
  const ArrayView& first = arrays[1];
  checks::size("streams[0].data", first);
  if (first.shape.size() != 3)
    throw ArgumentError("streams[0].data", fmt::format("expected a 3-D array [B, S, D], got shape {}",
                                                       first.shape_text()));
  return first.shape[0];
}

std::vector<StreamBinding> check_streams(const FuseSpec& spec, const std::vector<ArrayView>& arrays,
                                         std::int64_t B, bool check_values) {
  std::vector<StreamBinding> out;
  for (std::size_t i = 0; i < spec.modalities.size(); ++i) {
    StreamNames names(i);
    const ArrayView& lengths = arrays[1 + 3 * i + 2];
    out.push_back(check_stream(names.data.c_str(), names.times.c_str(), names.lengths.c_str(),
                               arrays[1 + 3 * i], arrays[1 + 3 * i + 1],
                               checks::absent(lengths) ? nullptr : &lengths, spec.dtype, spec.time_dtype,
                               spec.modalities[i].dim, B, arrays[1], check_values));
  }
  return out;
}

}  // namespace

OutputSpec plan_fuse(const FuseSpec& spec, const std::vector<ArrayView>& arrays) {
  const std::int64_t B = expect_layout(spec, arrays);
  check_streams(spec, arrays, B, false);
  const ArrayView& tgt = arrays[0];
  checks::dtype("tgt_times", tgt, spec.time_dtype);
  checks::same_device("tgt_times", tgt, "streams[0].data", arrays[1]);
  checks::size("tgt_times", tgt);
  checks::time_row_stride("tgt_times", tgt, B, -1);
  OutputSpec plan{{B, tgt.shape.back(), spec.total_dim()}, spec.dtype, {}};
  checks::element_count("out", plan.shape, "output [B, T, sum of modality dims] =");
  return plan;
}

BoundLaunch bind_fuse(const FuseSpec& spec, const std::vector<ArrayView>& arrays, const ArrayView& out,
                      bool check_values) {
  namespace abi = fuse_abi;
  const OutputSpec plan = plan_fuse(spec, arrays);
  const std::int64_t B = plan.shape[0], T = plan.shape[1];
  if (out.shape != plan.shape)
    throw ArgumentError("out", fmt::format("expected shape [{}, {}, {}], got {}", B, T, plan.shape[2],
                                           out.shape_text()));
  checks::dtype("out", out, spec.dtype);
  checks::same_device("out", out, "streams[0].data", arrays[1]);
  checks::contiguous("out", out);
  checks::contiguous("tgt_times", arrays[0]);
  const auto streams = check_streams(spec, arrays, B, check_values);

  BoundLaunch bl;
  bl.args.set_ptr(abi::kOut, out.data);
  bl.args.set_ptr(abi::kTgtTimes, arrays[0].data);
  bl.args.set_int(abi::kB, B);
  bl.args.set_int(abi::kT, T);
  bl.args.set_int(abi::kTgtRowStride, checks::time_row_stride("tgt_times", arrays[0], B, T));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const int m = static_cast<int>(i);
    bl.args.set_ptr(abi::modality_slot(m, abi::kData), arrays[1 + 3 * i].data);
    bl.args.set_ptr(abi::modality_slot(m, abi::kTimes), arrays[1 + 3 * i + 1].data);
    bl.args.set_int(abi::modality_slot(m, abi::kS), streams[i].samples);
    bl.args.set_int(abi::modality_slot(m, abi::kTimesRowStride), streams[i].times_row_stride);
    bl.args.set_ptr(abi::modality_slot(m, abi::kLengths), streams[i].lengths);
  }
  // One block per (tile, modality): the modalities of a tile run side by side. On CUDA each block
  // also checks its stream's lengths and source times (no host synchronisation).
  const bool device_checks = check_values && arrays[1].device == DeviceKind::Cuda;
  bl.args.set_int(abi::kValidate, device_checks ? 1 : 0);
  bl.work = WorkShape{B, T, static_cast<std::int64_t>(streams.size())};
  bl.work.tile_slot = abi::kTileTargets;
  bl.work.error_slot = abi::kErrorFlag;
  for (std::size_t i = 0; i < streams.size(); ++i)
    add_stream_cost(bl.work, streams[i].samples, spec.modalities[i].dim, spec.dtype, spec.time_dtype, device_checks);
  // Each block handles one modality: per block, the modalities' mean bytes per target and times.
  const auto m = static_cast<std::int64_t>(streams.size());
  bl.work.item_bytes = (bl.work.item_bytes + m - 1) / m;
  bl.work.row_bytes = (bl.work.row_bytes + m - 1) / m;
  return bl;
}

}  // namespace robocache
