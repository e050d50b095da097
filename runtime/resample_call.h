#pragma once
/// Checks resample's arrays against its spec (ops.md §1) and packs them into kernel arguments.
#include <vector>

#include "compiler/backend.h"
#include "compiler/spec.h"
#include "runtime/array_view.h"

namespace robocache {

/// Kernel arguments and work size for one launch.
struct BoundLaunch {
  KernelArgs args;
  WorkShape work;
};

/// The resample inputs in argument order.
struct ResampleInputs {
  const ArrayView& data;       ///< [B,S,D]
  const ArrayView& src_times;  ///< [B,S] or [S]
  const ArrayView& tgt_times;  ///< [B,T] or [T]
};

/// Validates the inputs (ranks, shapes, dtypes, devices) and returns the output shape [B,T,D].
/// Throws ArgumentError naming the argument and the expected vs received shape/dtype.
std::vector<std::int64_t> resample_output_shape(const ResampleSpec& spec, const ResampleInputs& in);

/// Validates inputs and output and packs the kernel arguments. With `check_times`, also rejects
/// decreasing or NaN source times (host memory only: reading device memory would need a sync).
BoundLaunch bind_resample(const ResampleSpec& spec, const ResampleInputs& in, const ArrayView& out,
                          bool check_times);

}  // namespace robocache
