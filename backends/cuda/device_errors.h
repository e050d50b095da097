#pragma once
/// Argument errors found by CUDA kernels (lengths out of range, NaN or decreasing source times):
/// the layout of the error word the templates write (templates/resample.cuh, device_error) and
/// its translation into the ArgumentError a host-side check would have thrown.
#include <cstdint>

namespace robocache::device_error {

/// Why a row was rejected (bits 0-3 of the word).
enum Reason : std::uint64_t { kLengthOutOfRange = 1, kDecreasingTime = 2, kNanTime = 3 };
/// Which op found it (bits 4-7).
enum Op : std::uint64_t { kOpResample = 1, kOpFuse = 2, kOpVoxelize = 3 };

/// The argument index (bits 8-15) is a fuse modality's; the batch row fills bits 16-63.

/// Throws DeviceArgumentError naming the argument, row and reason a non-zero word describes.
[[noreturn]] void throw_error(std::uint64_t word);

}  // namespace robocache::device_error
