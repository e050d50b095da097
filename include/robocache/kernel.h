#pragma once
/// A compiled kernel in the public API: plan the output, then launch on the caller's arrays.
#include <memory>
#include <string>
#include <vector>

#include "robocache/array.h"
#include "robocache/spec.h"

namespace robocache {
class CompiledKernel;
class Engine;
}  // namespace robocache

namespace robocache::api {

/// A spec compiled for one target, returned by Engine::compile; cheap to copy, thread-safe to run.
///
/// Inputs, in order (an absent optional argument is an empty Array{}):
///   resample: data [B,S,D], src_times [B,S] or [S], tgt_times [B,T] or [T], [lengths [B] i32/i64]
///   fuse:     tgt_times, then per modality: data_i, times_i, [lengths_i]
///   voxelize: points [(B,)N,3], [features [(B,)N,F]], [lengths [B]], [scratch: int32, see plan()]
/// Scalars: voxelize takes grid_min (3), voxel_size (3), grid_shape (3), in that order; the others none.
class Kernel {
 public:
  /// The spec it computes.
  Spec spec() const;
  /// The cache key (hex SHA-256 of spec, config, target and toolchain).
  const std::string& key() const;
  /// The target it was compiled for: "cpu" or a CUDA arch such as "sm_90".
  std::string target() const;
  /// Where the code came from: "compiled", "directory" (disk cache) or "bundle".
  const std::string& origin() const;
  /// The generated LLVM IR or CUDA C++ (regenerated on demand).
  std::string source() const;

  /// Validates the inputs (ArgumentError naming the argument) and says what to allocate.
  OutputPlan plan(const std::vector<Array>& inputs, const std::vector<double>& scalars = {}) const;
  /// Validates inputs and `out`, then runs. On the CPU it returns when done; on CUDA it is
  /// asynchronous on `stream` (a CUstream or cudaStream_t; nullptr is the default stream).
  /// `check_values` rejects decreasing or NaN source times held in host memory.
  void run(const std::vector<Array>& inputs, const std::vector<double>& scalars, const Array& out,
           void* stream = nullptr, bool check_values = true) const;
  /// run() for ops without scalars (resample, fuse).
  void run(const std::vector<Array>& inputs, const Array& out, void* stream = nullptr) const {
    run(inputs, {}, out, stream);
  }

 private:
  friend class Engine;
  Kernel(std::shared_ptr<robocache::Engine> engine, std::shared_ptr<const robocache::CompiledKernel> impl);
  std::shared_ptr<robocache::Engine> engine_;  // kernels report to their engine: keep it alive
  std::shared_ptr<const robocache::CompiledKernel> impl_;
};

}  // namespace robocache::api
