#include "backends/cuda/device_arch.h"

#include <array>

#include <fmt/format.h>

#include "backends/cuda/driver_api.h"

namespace robocache::cuda {

std::string sm_arch_name(int major, int minor) { return fmt::format("sm_{}{}", major, minor); }

std::string device_arch(int ordinal) {
  const DriverApi& d = driver_api();
  CUdevice dev = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGet, &dev, ordinal);
  int major = 0, minor = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGetAttribute, &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  ROBOCACHE_CU_CHECK(d, cuDeviceGetAttribute, &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  return sm_arch_name(major, minor);
}

std::string device_name(int ordinal) {
  const DriverApi& d = driver_api();
  CUdevice dev = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGet, &dev, ordinal);
  std::array<char, 256> name{};
  ROBOCACHE_CU_CHECK(d, cuDeviceGetName, name.data(), static_cast<int>(name.size() - 1), dev);
  return std::string(name.data());
}

int device_sm_count(int ordinal) {
  const DriverApi& d = driver_api();
  CUdevice dev = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGet, &dev, ordinal);
  int count = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGetAttribute, &count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
  return count;
}

int device_count() {
  const DriverApi& d = driver_api();
  int count = 0;
  ROBOCACHE_CU_CHECK(d, cuDeviceGetCount, &count);
  return count;
}

}  // namespace robocache::cuda
