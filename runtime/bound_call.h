#pragma once
/// One kernel call with its arrays and output fixed: validated once, launched again and again.
#include <memory>
#include <vector>

#include "runtime/compiled_kernel.h"

namespace robocache {

/// A call bound to fixed arrays, like a launch object: the shape, dtype and device checks and the
/// argument packing happen once, in the constructor; launch() replays the launches. The arrays must
/// stay alive and keep their storage while the BoundCall is used (the caller holds them).
class BoundCall {
 public:
  /// Validates the call exactly as CompiledKernel::run() does (ArgumentError naming the argument).
  /// `check_values`: on the CPU, every launch re-checks the source times' values (they live in
  /// host memory and may have changed since); on CUDA the checks the launch itself carries stay on.
  BoundCall(std::shared_ptr<const CompiledKernel> kernel, std::vector<ArrayView> inputs, std::vector<double> scalars,
            ArrayView out, bool check_values);

  /// Runs the call again on `stream` (CUDA; ignored on the CPU): asynchronous on CUDA.
  void launch(void* stream) const;

  /// The kernel it runs.
  const CompiledKernel& kernel() const { return *kernel_; }
  /// The output array it writes.
  const ArrayView& out() const { return out_; }

 private:
  std::shared_ptr<const CompiledKernel> kernel_;
  std::vector<ArrayView> inputs_;
  std::vector<double> scalars_;
  ArrayView out_;
  bool recheck_values_ = false;
  std::vector<BoundLaunch> launches_;
};

}  // namespace robocache
