// cuda_empty_launch_us(): the floor under any launch path, measured the way a C++ program pays it.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "support/errors.h"
#include "backends/cuda/device_arch.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/nvrtc_api.h"
#include "backends/cuda/primary_context.h"
#include "backends/cuda/cuda_status.h"

namespace robocache {

namespace {

std::string empty_kernel_cubin(const std::string& arch) {
  const cuda::NvrtcApi& nv = cuda::nvrtc_api();
  nvrtcProgram program = nullptr;
  nv.check(nv.nvrtcCreateProgram(&program, "extern \"C\" __global__ void robocache_empty() {}", "empty.cu", 0,
                                 nullptr, nullptr),
           "nvrtcCreateProgram");
  const std::string option = "--gpu-architecture=" + arch;
  const char* options[] = {option.c_str()};
  const nvrtcResult compiled = nv.nvrtcCompileProgram(program, 1, options);
  std::size_t size = 0;
  if (compiled == NVRTC_SUCCESS) nv.nvrtcGetCUBINSize(program, &size);
  std::string cubin(size, '\0');
  if (size) nv.nvrtcGetCUBIN(program, cubin.data());
  nv.nvrtcDestroyProgram(&program);
  nv.check(compiled, "nvrtcCompileProgram");
  return cubin;
}

}  // namespace

double cuda_empty_launch_us(int device, void* stream, int calls) {
  if (calls < 1) throw ArgumentError("calls", "expected at least one call");
  const cuda::DriverApi& api = cuda::driver_api();
  // One module per device for the process: launches may still be queued on a held stream when this
  // returns, so it is never unloaded.
  static std::mutex mutex;
  static std::map<int, std::pair<std::unique_ptr<cuda::PrimaryContext>, CUfunction>> loaded;
  CUfunction function = nullptr;
  cuda::PrimaryContext* context = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = loaded.find(device);
    if (it == loaded.end()) {
      auto ctx = std::make_unique<cuda::PrimaryContext>(device);
      cuda::ScopedContext scope(ctx->get());
      const std::string cubin = empty_kernel_cubin(cuda::device_arch(device));
      CUmodule module = nullptr;
      ROBOCACHE_CU_CHECK(api, cuModuleLoadData, &module, cubin.data());
      CUfunction f = nullptr;
      ROBOCACHE_CU_CHECK(api, cuModuleGetFunction, &f, module, "robocache_empty");
      it = loaded.emplace(device, std::pair{std::move(ctx), f}).first;
    }
    context = it->second.first.get();
    function = it->second.second;
  }
  cuda::ScopedContext scope(context->get());
  auto s = static_cast<CUstream>(stream);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i)
    ROBOCACHE_CU_CHECK(api, cuLaunchKernel, function, 1, 1, 1, 1, 1, 1, 0, s, nullptr, nullptr);
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / calls;
}

}  // namespace robocache
