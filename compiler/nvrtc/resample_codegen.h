#pragma once
/// Specialises templates/resample.cuh for one resample spec and config.
#include <string>

#include "compiler/config.h"
#include "compiler/pipeline.h"
#include "compiler/spec.h"

namespace robocache {

/// The C++ name expression of the kernel, e.g.
/// "robocache::resample_linear<robocache::bf16, double, 8, 256, 32>". Built only from the spec's
/// enums and integers, never from text a user supplied.
std::string resample_cuda_entry(const ResampleSpec& spec, const Config& config);

/// The whole NVRTC program for spec and config on `target`: a generated header comment naming the
/// specialisation, then the embedded template text. Throws SpecError for an unusable config.
KernelSource generate_resample_cuda(const Spec& spec, const Config& config, const Target& target);

/// A config that keeps every thread of a block busy: enough targets per block that a tile has at
/// least ~1024 (target, channel) pairs, capped at 256 targets.
Config default_resample_cuda_config(const ResampleSpec& spec);

/// Throws SpecError naming the config field the CUDA kernel cannot use.
void validate_cuda_config(const Config& config);

}  // namespace robocache
