#pragma once
/// Facts about a CUDA device read through the driver table.
#include <string>

namespace robocache::cuda {

/// "sm_XY" for a compute capability X.Y.
std::string sm_arch_name(int major, int minor);

/// The arch of device `ordinal` ("sm_90" on H100); throws BackendUnavailable without a driver,
/// RuntimeFailure when the device does not exist.
std::string device_arch(int ordinal);

/// The marketing name of device `ordinal` (e.g. "NVIDIA H100 80GB HBM3").
std::string device_name(int ordinal);

/// Streaming multiprocessors of device `ordinal` (132 on an H100 SXM).
int device_sm_count(int ordinal);

/// Number of visible devices; throws BackendUnavailable without a driver.
int device_count();

}  // namespace robocache::cuda
