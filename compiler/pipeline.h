#pragma once
/// Value types for the stages between a spec and a launch: KernelSource → ObjectCode.
#include <string>

#include "compiler/config.h"
#include "compiler/target.h"

namespace robocache {

/// Generated code for one (spec, config, target), before compilation.
struct KernelSource {
  Target target;
  Config config;
  /// "cuda" (CUDA C++ for NVRTC) or "llvm-ir" (textual LLVM IR).
  std::string language;
  /// The generated text.
  std::string text;
  /// The kernel's name before lowering: a C++ name expression for CUDA, the symbol for LLVM.
  std::string entry;
  /// Canonical JSON of the spec it was generated from (for error reports).
  std::string spec_json;
};

/// Compiled, loadable code; this is what the disk cache stores.
struct ObjectCode {
  Target target;
  Config config;
  /// "cubin" or "elf-object" (host relocatable object file).
  std::string format;
  /// The binary.
  std::string bytes;
  /// The symbol to look up after loading (lowered/mangled name).
  std::string symbol;
  /// Provenance, filled in by the engine: canonical JSON of the spec, and the toolchain identity.
  std::string spec_json;
  std::string toolchain;
};

}  // namespace robocache
