#pragma once
/// Specialises the CUDA templates (templates/resample.cuh for resample and fuse,
/// templates/voxelize.cuh for voxelize) for one spec and config.
#include <string>
#include <vector>

#include "compiler/config.h"
#include "compiler/pipeline.h"
#include "compiler/spec.h"

namespace robocache {

/// Most channel groups (after merging neighbours of one element-wise mode) a CUDA resample kernel
/// takes as template arguments; a spec with more gets a table of per-chunk modes in device memory
/// instead, so its code (and compile time) does not grow with the number of groups.
inline constexpr std::size_t kMaxTemplateGroups = 16;

/// The groups a CUDA resample kernel is specialised for: effective_groups() with consecutive
/// groups of the same element-wise mode merged (slerp groups stay one quaternion each).
std::vector<ChannelGroup> cuda_resample_groups(const ResampleSpec& spec);

/// The C++ name expression of the resample kernel, e.g.
/// "robocache::resample<robocache::bf16, double, 8, 256, 32, robocache::RsGroup<0, 8, 0>>", or
/// with robocache::RsTableGroups for a spec of more than kMaxTemplateGroups groups. Built only
/// from the spec's enums and integers, never from text a user supplied.
std::string resample_cuda_entry(const ResampleSpec& spec, const Config& config);

/// The name expression of the fuse kernel, e.g. "robocache::fuse<float, double, 7, 256, 64,
/// robocache::FuseMod<0, 0, 3, 0>, robocache::FuseMod<1, 3, 4, 4>>".
std::string fuse_cuda_entry(const FuseSpec& spec, const Config& config);

/// The name expression of the voxelize kernel, e.g. "robocache::voxelize<float, float, 2, 4, 256, 256>".
std::string voxelize_cuda_entry(const VoxelizeSpec& spec, const Config& config);

/// The whole NVRTC program for spec and config on `target`: a generated header comment naming the
/// specialisation, then the embedded template text. Throws SpecError for an unusable config.
KernelSource generate_resample_cuda(const Spec& spec, const Config& config, const Target& target);

/// Same, for any op (resample, fuse, voxelize).
KernelSource generate_cuda(const Spec& spec, const Config& config, const Target& target);

/// Channels per access a resample kernel uses: the largest power of two not above
/// config.vector_width that divides the dim and every channel group's start and size.
int resample_vector_width(const ResampleSpec& spec, const Config& config);

/// Channels per access for fuse modality `modality`: the largest power of two not above
/// config.vector_width dividing its dim, its output offset and the output's channel count.
int fuse_vector_width(const FuseSpec& spec, std::size_t modality, const Config& config);

/// The resample heuristic: 256 threads, 16-byte accesses where the channels allow, the
/// interpolation search, and tiles of at most 1024 targets (the launch sizes each tile from the
/// shapes and the SM count). Fuse uses the same.
Config default_resample_cuda_config(const ResampleSpec& spec);

/// The default config of any op; voxelize uses one item per thread (targets_per_block =
/// block_threads = 256).
Config default_cuda_config(const Spec& spec);

/// The configs the tuner sweeps: the heuristic first, then block sizes and tile caps around it (and,
/// for resample and fuse, the heuristic with one channel per access and with the binary search).
std::vector<Config> cuda_config_space(const Spec& spec);

/// Throws SpecError naming the config field the CUDA kernel cannot use.
void validate_cuda_config(const Config& config);

}  // namespace robocache
