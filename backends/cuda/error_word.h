#pragma once
/// The per-device word of host-mapped memory that kernels report argument errors to
/// (backends/cuda/device_errors.h): kernels write it without any host synchronisation, and the host
/// reads it before each launch on that device and in cuda_synchronize().
#include <cstdint>

namespace robocache::cuda {

/// Device `ordinal`'s error word, allocated (page-locked, mapped) on first use and kept for the
/// life of the process; returns the address kernels write to.
std::uint64_t error_word_device_address(int ordinal);

/// Throws the ArgumentError a kernel on device `ordinal` reported since the last check, clearing
/// the word; does nothing when none was reported or the word was never allocated.
void raise_reported_error(int ordinal);

}  // namespace robocache::cuda
