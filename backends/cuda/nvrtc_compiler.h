#pragma once
/// CUDA C++ → cubin through NVRTC.
#include "backends/cuda/nvrtc_options.h"
#include "compiler/pipeline.h"

namespace robocache {

/// Compiles `source` (language "cuda", entry a C++ name expression) to a cubin for options.arch.
/// Returns ObjectCode{format "cubin", symbol = the lowered entry name}. Throws CompileError with
/// stage "nvrtc", the program log and the flags; BackendUnavailable when NVRTC cannot be loaded.
ObjectCode nvrtc_compile(const KernelSource& source, const NvrtcOptions& options);

/// The PTX of the same compilation (the options' arch turned into its virtual compute_XX arch).
std::string nvrtc_ptx(const KernelSource& source, NvrtcOptions options);

}  // namespace robocache
