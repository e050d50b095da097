#pragma once
/// voxelize's argument binding (ops.md §3); see runtime/op_binding.h for arrays and scalars.
#include <vector>

#include "runtime/op_binding.h"

namespace robocache {

/// Validates voxelize's arrays and scalars; returns the output and the scratch it needs.
OutputSpec plan_voxelize(const VoxelizeSpec& spec, const std::vector<ArrayView>& arrays,
                         const std::vector<double>& scalars);

/// Validates everything and returns the phase launches (clear, scatter, and finalize for mean/max).
std::vector<BoundLaunch> bind_voxelize(const VoxelizeSpec& spec, const std::vector<ArrayView>& arrays,
                                       const std::vector<double>& scalars, const ArrayView& out);

}  // namespace robocache
