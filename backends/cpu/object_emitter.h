#pragma once
/// Textual LLVM IR → optimised host object file, all in memory.
#include <string>

#include "compiler/pipeline.h"

namespace robocache::llvm_ir {

/// The compiler options compile_to_object() applies, as one string for error reports.
std::string object_compile_options();

/// Parses source.text, runs the O3 pipeline for the host and emits a relocatable object file.
/// Throws CompileError with stage "llvm-parse", "llvm-optimize" or "llvm-emit" and LLVM's log.
ObjectCode compile_to_object(const KernelSource& source);

/// The same compilation as host assembly text (for `robocache compile --emit asm`).
std::string compile_to_assembly(const KernelSource& source);

}  // namespace robocache::llvm_ir
