#pragma once
/// A spec compiled for one target: the cached object code, loaded on first launch.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compiler/backend.h"
#include "runtime/array_view.h"
#include "runtime/op_binding.h"

namespace robocache {

class Engine;

/// The result of Engine::compile(): identity, object code, and the launch entry point.
class CompiledKernel {
 public:
  CompiledKernel(Spec spec, std::string key, std::shared_ptr<Backend> backend, ObjectCode code,
                 std::string origin, Engine* engine);

  /// The spec it computes.
  const Spec& spec() const { return spec_; }
  /// The cache key (hex SHA-256).
  const std::string& key() const { return key_; }
  /// The target it was compiled for.
  const Target& target() const { return code_.target; }
  /// Where the code came from when first requested: "compiled", "directory" or "bundle".
  const std::string& origin() const { return origin_; }
  /// The compiled binary and its symbol.
  const ObjectCode& object_code() const { return code_; }
  /// The generated CUDA C++ or LLVM IR (regenerated on demand: a cache hit skips generation).
  std::string source() const;

  /// What to allocate for these inputs (array order in runtime/op_binding.h), after validating them.
  OutputSpec plan(const std::vector<ArrayView>& inputs, const std::vector<double>& scalars) const;
  /// Validates inputs and output, then launches (asynchronously on CUDA, on `stream`).
  /// `check_values` rejects decreasing/NaN source times held in host memory.
  void run(const std::vector<ArrayView>& inputs, const std::vector<double>& scalars, const ArrayView& out,
           void* stream, bool check_values) const;
  /// Launches one already validated launch (from bind_launches()) on device `device_index`,
  /// `stream`: what a BoundCall replays. Loads the kernel on first use.
  void launch(const BoundLaunch& launch, int device_index, void* stream) const;

 private:
  const LoadedKernel& loaded() const;

  Spec spec_;
  std::string key_;
  std::shared_ptr<Backend> backend_;
  ObjectCode code_;
  std::string origin_;
  Engine* engine_;
  mutable std::once_flag load_once_;
  mutable std::unique_ptr<LoadedKernel> loaded_;
};

}  // namespace robocache
