#include "backends/cuda/primary_context.h"

#include "backends/cuda/driver_api.h"

namespace robocache::cuda {

PrimaryContext::PrimaryContext(int ordinal) {
  const DriverApi& d = driver_api();
  ROBOCACHE_CU_CHECK(d, cuDeviceGet, &device_, ordinal);
  ROBOCACHE_CU_CHECK(d, cuDevicePrimaryCtxRetain, &context_, device_);
}

PrimaryContext::~PrimaryContext() {
  // Errors cannot be reported from a destructor; at process exit the driver may already be gone.
  if (context_) driver_api().cuDevicePrimaryCtxRelease(device_);
}

ScopedContext::ScopedContext(CUcontext context) {
  const DriverApi& d = driver_api();
  ROBOCACHE_CU_CHECK(d, cuCtxGetCurrent, &previous_);
  if (previous_ != context) {
    ROBOCACHE_CU_CHECK(d, cuCtxSetCurrent, context);
    switched_ = true;
  }
}

ScopedContext::~ScopedContext() {
  if (switched_) driver_api().cuCtxSetCurrent(previous_);
}

}  // namespace robocache::cuda
