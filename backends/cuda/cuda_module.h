#pragma once
/// RAII for a CUDA module loaded from a cubin.
#include <cuda.h>

#include <string>

namespace robocache::cuda {

/// A module loaded into one context; unloaded (inside that context) on destruction.
class CudaModule {
 public:
  /// Loads `image` (a cubin) into `context`, which it makes current for the call and restores;
  /// throws RuntimeFailure naming cuModuleLoadData and the error.
  CudaModule(CUcontext context, const std::string& image);
  ~CudaModule();
  CudaModule(const CudaModule&) = delete;
  CudaModule& operator=(const CudaModule&) = delete;

  /// The kernel named `symbol` (a lowered name); throws RuntimeFailure when it is not in the module.
  CUfunction function(const std::string& symbol) const;
  /// The module handle.
  CUmodule get() const { return module_; }

 private:
  CUcontext context_ = nullptr;
  CUmodule module_ = nullptr;
};

}  // namespace robocache::cuda
