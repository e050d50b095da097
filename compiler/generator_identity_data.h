#pragma once
/// The tables cmake/hash_generators.cmake generates at build time (internal to generator_identity.cpp).

namespace robocache::generator_detail {

/// Hex SHA-256 over the CUDA generator's files (paths and bytes).
extern const char kCudaHash[];
/// Hex SHA-256 over the CPU (LLVM IR) generator's files.
extern const char kCpuHash[];
/// Source-relative paths hashed into kCudaHash, sorted, ending with nullptr.
extern const char* const kCudaFiles[];
/// Source-relative paths hashed into kCpuHash, sorted, ending with nullptr.
extern const char* const kCpuFiles[];

}  // namespace robocache::generator_detail
