#pragma once
/// From a spec and the caller's arrays to kernel launches: validation, output shape, argument slots.
///
/// Array order per op (an optional array is passed with an empty shape when absent):
///   resample: data, src_times, tgt_times, [lengths]
///   fuse:     tgt_times, then per modality: data_i, times_i, [lengths_i]
///   voxelize: points, [features], [lengths], [counts scratch]
/// Scalars: voxelize takes grid_min (3), voxel_size (3), grid_shape (3); the others none.
#include <optional>
#include <string>
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

/// What the caller must allocate: the output, and (voxelize mean/max) an int32 scratch array.
struct OutputSpec {
  std::vector<std::int64_t> shape;
  DType dtype = DType::F32;
  std::vector<std::int64_t> scratch_shape;  ///< empty when the op needs no scratch
};

/// Validates inputs and scalars against the spec (ArgumentError naming the argument) and says what
/// to allocate.
OutputSpec plan_output(const Spec& spec, const std::vector<ArrayView>& arrays,
                       const std::vector<double>& scalars);

/// What plan_output() would answer, read off the arrays' shapes without validating anything, for
/// the short call paths: they allocate this output and let bind_launches() validate the whole call
/// (a wrong guess fails there, on the output's shape). nullopt when the ranks allow no guess or
/// the op needs plan_output() (voxelize: its grid comes from the scalars and may need scratch).
std::optional<OutputSpec> guess_output(const Spec& spec, const std::vector<ArrayView>& arrays);

/// Validates everything, including `out`, and returns the launches to make in order.
/// `check_values` also checks host-memory inputs element by element (sorted source times).
std::vector<BoundLaunch> bind_launches(const Spec& spec, const std::vector<ArrayView>& arrays,
                                       const std::vector<double>& scalars, const ArrayView& out,
                                       bool check_values);

}  // namespace robocache
