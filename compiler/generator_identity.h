#pragma once
/// Content identities of the code generators, computed from their source files at build time.
///
/// Each backend's Backend::generator_identity() is built from these, and the cache key folds it in,
/// so a kernel compiled by an older generator or template is never served by a newer build.
/// Which files count (globbed in compiler/CMakeLists.txt): for CUDA, backends/cuda/*.{cpp,h},
/// templates/*.cuh and the kernel ABI headers compiler/*_abi.h; for the CPU, backends/cpu/*.{cpp,h}
/// and the same ABI headers.
#include <string_view>
#include <vector>

namespace robocache {

/// Hex SHA-256 over the CUDA generator's files: their source-relative paths and bytes.
std::string_view cuda_generator_hash();
/// Hex SHA-256 over the CPU (LLVM IR) generator's files.
std::string_view cpu_generator_hash();
/// The source-relative paths hashed into cuda_generator_hash(), sorted.
std::vector<std::string_view> cuda_generator_files();
/// The source-relative paths hashed into cpu_generator_hash(), sorted.
std::vector<std::string_view> cpu_generator_files();

}  // namespace robocache
