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

std::optional<OutputSpec> guess_output(const Spec& spec, const std::vector<ArrayView>& arrays) {
  // resample: data [B,S,D], src, tgt [B,T] or [T] -> [B,T,D]; fuse: tgt, data_0 [B,S,D_0], ... -> [B,T,sum D].
  const bool resample = spec.op() == OpKind::Resample;
  if ((!resample && spec.op() != OpKind::Fuse) || arrays.size() < 3) return std::nullopt;
  const ArrayView& data = arrays[resample ? 0 : 1];
  const ArrayView& tgt = arrays[resample ? 2 : 0];
  if (data.shape.size() != 3 || tgt.shape.empty() || tgt.shape.size() > 2) return std::nullopt;
  OutputSpec o;
  o.dtype = resample ? spec.resample().dtype : spec.fuse().dtype;
  o.shape = {data.shape[0], tgt.shape.back(), resample ? spec.resample().dim : spec.fuse().total_dim()};
  return o;
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
