#pragma once
/// fuse's argument binding (ops.md §2); see runtime/op_binding.h for the array order.
#include <vector>

#include "runtime/op_binding.h"

namespace robocache {

/// Validates fuse's arrays and returns the output [B,T,sum D_i].
OutputSpec plan_fuse(const FuseSpec& spec, const std::vector<ArrayView>& arrays);

/// Validates fuse's arrays and output and packs the single launch.
BoundLaunch bind_fuse(const FuseSpec& spec, const std::vector<ArrayView>& arrays, const ArrayView& out,
                      bool check_values);

}  // namespace robocache
