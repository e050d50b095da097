#pragma once
/// resample's argument binding (ops.md §1); see runtime/op_binding.h for the array order.
#include <vector>

#include "runtime/op_binding.h"

namespace robocache {

/// Validates resample's arrays and returns the output [B,T,D].
OutputSpec plan_resample(const ResampleSpec& spec, const std::vector<ArrayView>& arrays);

/// Validates resample's arrays and output and packs one launch.
BoundLaunch bind_resample(const ResampleSpec& spec, const std::vector<ArrayView>& arrays,
                          const ArrayView& out, bool check_values);

/// The checked pieces of one resampled stream (shared with fuse, whose modalities are streams).
struct StreamBinding {
  std::int64_t samples = 0;          ///< S
  std::int64_t times_row_stride = 0; ///< 0 when shared by the batch
  const void* lengths = nullptr;     ///< int64 [B] or null
};

/// Checks one stream (data [B,S,D], times, optional lengths) against dtypes, dim and batch.
StreamBinding check_stream(const char* data_name, const char* times_name, const char* lengths_name,
                           const ArrayView& data, const ArrayView& times, const ArrayView* lengths,
                           DType dtype, DType time_dtype, std::int64_t dim, std::int64_t batch,
                           const ArrayView& device_ref, bool check_values);

/// Adds one stream's share to a CUDA launch's tile sizing (WorkShape): its bytes per target, the
/// source times each block stages (when they fit in shared memory) or checks (`device_checks`),
/// and its warp units per 32 targets.
void add_stream_cost(WorkShape& work, std::int64_t samples, std::int64_t dim, DType dtype, DType time_dtype,
                     bool device_checks);

}  // namespace robocache
