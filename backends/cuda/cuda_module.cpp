#include "backends/cuda/cuda_module.h"

#include "backends/cuda/driver_api.h"
#include "backends/cuda/primary_context.h"

namespace robocache::cuda {

CudaModule::CudaModule(CUcontext context, const std::string& image) : context_(context) {
  const DriverApi& d = driver_api();
  ScopedContext scope(context_);
  ROBOCACHE_CU_CHECK(d, cuModuleLoadData, &module_, image.data());
}

CudaModule::~CudaModule() {
  if (!module_) return;
  try {
    ScopedContext scope(context_);
    driver_api().cuModuleUnload(module_);
  } catch (...) {
    // A driver that is shutting down cannot switch contexts; the module goes with the context.
  }
}

CUfunction CudaModule::function(const std::string& symbol) const {
  const DriverApi& d = driver_api();
  CUfunction f = nullptr;
  ROBOCACHE_CU_CHECK(d, cuModuleGetFunction, &f, module_, symbol.c_str());
  return f;
}

}  // namespace robocache::cuda
