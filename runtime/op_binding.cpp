#include "runtime/op_binding.h"

#include "runtime/fuse_call.h"
#include "runtime/resample_call.h"
#include "runtime/voxelize_call.h"

namespace robocache {

OutputSpec plan_output(const Spec& spec, const std::vector<ArrayView>& arrays,
                       const std::vector<double>& scalars) {
  switch (spec.op()) {
    case OpKind::Resample: return plan_resample(spec.resample(), arrays);
    case OpKind::Fuse: return plan_fuse(spec.fuse(), arrays);
    case OpKind::Voxelize: return plan_voxelize(spec.voxelize(), arrays, scalars);
  }
  return {};
}

std::vector<BoundLaunch> bind_launches(const Spec& spec, const std::vector<ArrayView>& arrays,
                                       const std::vector<double>& scalars, const ArrayView& out,
                                       bool check_values) {
  switch (spec.op()) {
    case OpKind::Resample: return {bind_resample(spec.resample(), arrays, out, check_values)};
    case OpKind::Fuse: return {bind_fuse(spec.fuse(), arrays, out, check_values)};
    case OpKind::Voxelize: return bind_voxelize(spec.voxelize(), arrays, scalars, out);
  }
  return {};
}

}  // namespace robocache
