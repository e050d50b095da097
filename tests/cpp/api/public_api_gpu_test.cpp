// The public C++ API on a GPU: device pointers in and out through Array::cuda, a launch on the
// default stream and one on a stream the caller created. Skips without a CUDA device.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <robocache/robocache.h>

#include "backends/cuda/cuda_status.h"
#if ROBOCACHE_HAVE_CUDA
#include "backends/cuda/driver_api.h"
#include "backends/cuda/primary_context.h"
#endif

#if ROBOCACHE_HAVE_CUDA
namespace rc = robocache::api;

namespace {

// Copies a host vector to the device and back; the memory belongs to the current context.
class DeviceVector {
 public:
  explicit DeviceVector(const std::vector<float>& host) : n_(host.size()) {
    const auto& d = robocache::cuda::driver_api();
    ROBOCACHE_CU_CHECK(d, cuMemAlloc, &ptr_, n_ * sizeof(float));
    ROBOCACHE_CU_CHECK(d, cuMemcpyHtoD, ptr_, host.data(), n_ * sizeof(float));
  }
  ~DeviceVector() { robocache::cuda::driver_api().cuMemFree(ptr_); }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  std::vector<float> download() const {
    std::vector<float> host(n_);
    ROBOCACHE_CU_CHECK(robocache::cuda::driver_api(), cuMemcpyDtoH, host.data(), ptr_, n_ * sizeof(float));
    return host;
  }
  const void* get() const { return reinterpret_cast<const void*>(ptr_); }

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t n_;
};

TEST(PublicKernelGpu, CudaArraysOnTheDefaultStreamAndOnACallersStream) {
  const robocache::CudaStatus st = robocache::probe_cuda();
  if (!st.driver_available || st.devices.empty()) GTEST_SKIP() << "no CUDA device: " << st.driver_detail;
  robocache::cuda::PrimaryContext context(0);
  robocache::cuda::ScopedContext scope(context.get());
  const auto& d = robocache::cuda::driver_api();

  rc::EngineOptions o;
  o.cache_dir = std::filesystem::temp_directory_path() / ("robocache-api-gpu-" + std::to_string(::getpid()));
  rc::Engine engine(o);
  const rc::Kernel k = engine.compile(
      rc::Spec::parse(R"({"op": "resample", "dtype": "f32", "time_dtype": "f32", "dim": 2, "interp": "linear"})"),
      "cuda");
  EXPECT_EQ(k.target().rfind("sm_", 0), 0u) << k.target();

  // Values 10*t and -t at t = 0, 1, 2: linear interpolation at 0.5 and 1.25 is exact in f32.
  DeviceVector data({0, 0, 10, -1, 20, -2}), src({0, 1, 2}), tgt({0.5f, 1.25f, 3.0f});
  const std::vector<rc::Array> in = {rc::Array::cuda(data.get(), rc::DType::F32, {1, 3, 2}),
                                     rc::Array::cuda(src.get(), rc::DType::F32, {3}),
                                     rc::Array::cuda(tgt.get(), rc::DType::F32, {3})};
  const rc::OutputPlan plan = k.plan(in);
  ASSERT_EQ(plan.shape, (std::vector<std::int64_t>{1, 3, 2}));
  const std::vector<float> expect = {5, -0.5f, 12.5f, -1.25f, 20, -2};

  DeviceVector out_default(std::vector<float>(6, -7.f));
  k.run(in, rc::Array::cuda(out_default.get(), rc::DType::F32, plan.shape));
  ROBOCACHE_CU_CHECK(d, cuCtxSynchronize);
  EXPECT_EQ(out_default.download(), expect);

  CUstream stream = nullptr;
  ROBOCACHE_CU_CHECK(d, cuStreamCreate, &stream, 0);
  DeviceVector out_stream(std::vector<float>(6, -7.f));
  k.run(in, rc::Array::cuda(out_stream.get(), rc::DType::F32, plan.shape), stream);
  ROBOCACHE_CU_CHECK(d, cuStreamSynchronize, stream);
  EXPECT_EQ(out_stream.download(), expect);
  d.cuStreamDestroy(stream);
  std::filesystem::remove_all(o.cache_dir);
}

}  // namespace
#endif  // ROBOCACHE_HAVE_CUDA
