#pragma once
/// Where a kernel runs: the host CPU (LLVM) or a CUDA arch (NVRTC).
#include <string>

namespace robocache {

/// A compilation target. Part of the cache key.
struct Target {
  /// Backend family.
  enum class Kind { Cpu, Cuda };
  Kind kind = Kind::Cpu;
  /// "sm_90" for CUDA; the host CPU name (e.g. "skylake-avx512") for the CPU.
  std::string arch;
  /// CPU feature string as LLVM spells it ("+avx2,+fma,..."); empty for CUDA.
  std::string features;

  /// Short name users see: "cpu" or the CUDA arch ("sm_90").
  std::string name() const { return kind == Kind::Cpu ? "cpu" : arch; }
  /// Everything that makes code for this target differ; hashed into the cache key.
  std::string identity() const {
    return (kind == Kind::Cpu ? "cpu:" : "cuda:") + arch + ":" + features;
  }
  bool operator==(const Target&) const = default;
};

}  // namespace robocache
