#include "runtime/bound_call.h"

#include "support/errors.h"

namespace robocache {

BoundCall::BoundCall(std::shared_ptr<const CompiledKernel> kernel, std::vector<ArrayView> inputs,
                     std::vector<double> scalars, ArrayView out, bool check_values)
    : kernel_(std::move(kernel)), inputs_(std::move(inputs)), scalars_(std::move(scalars)), out_(std::move(out)) {
  if (!kernel_) throw ArgumentError("kernel", "a bound call needs a compiled kernel");
  const bool cpu = kernel_->target().kind == Target::Kind::Cpu;
  // Host-memory values can change between launches, so only their check is repeated; everything a
  // launch reads from the arrays' shapes is fixed now.
  recheck_values_ = cpu && check_values;
  // run()'s device check, then the full validation and the argument slots, once.
  const DeviceKind want = cpu ? DeviceKind::Cpu : DeviceKind::Cuda;
  if (out_.device != want || (!inputs_.empty() && inputs_[0].device != want))
    throw ArgumentError(out_.device != want ? "out" : "inputs",
                        "arrays are not on the device the kernel was compiled for");
  launches_ = bind_launches(kernel_->spec(), inputs_, scalars_, out_, check_values);
}

void BoundCall::launch(void* stream) const {
  if (recheck_values_) {
    kernel_->run(inputs_, scalars_, out_, stream, true);
    return;
  }
  for (const BoundLaunch& bl : launches_) kernel_->launch(bl, out_.device_index, stream);
}

}  // namespace robocache
