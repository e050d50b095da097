// probe_cuda() never throws and says why each half of CUDA is or is not usable.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "backends/cuda/cuda_status.h"

#if ROBOCACHE_HAVE_CUDA
#include "backends/cuda/nvrtc_api.h"
#endif

namespace robocache {
namespace {

TEST(ProbeCuda, ReportsBothHalvesWithReasons) {
  CudaStatus s = probe_cuda();
  EXPECT_EQ(s.built, bool(ROBOCACHE_HAVE_CUDA));
  EXPECT_FALSE(s.nvrtc_detail.empty());
  EXPECT_FALSE(s.driver_detail.empty());
  std::printf("  nvrtc: %s\n  driver: %s\n", s.nvrtc_detail.c_str(), s.driver_detail.c_str());
  if (!s.built) {
    EXPECT_FALSE(s.nvrtc_available);
    EXPECT_FALSE(s.driver_available);
    EXPECT_NE(s.nvrtc_detail.find("built without the CUDA backend"), std::string::npos);
    return;
  }
  if (s.nvrtc_available) EXPECT_EQ(s.nvrtc_detail.rfind("NVRTC 1", 0), 0u) << s.nvrtc_detail;
  if (s.driver_available) {
    EXPECT_EQ(s.driver_detail.rfind("CUDA driver ", 0), 0u) << s.driver_detail;
    for (const CudaDeviceInfo& d : s.devices) {
      std::printf("  device %d: %s (%s)\n", d.ordinal, d.name.c_str(), d.arch.c_str());
      EXPECT_EQ(d.arch.rfind("sm_", 0), 0u);
      EXPECT_FALSE(d.name.empty());
    }
  } else {
    EXPECT_TRUE(s.devices.empty());
    // Without a driver the reason names the library that could not be loaded or initialised.
    EXPECT_TRUE(s.driver_detail.find("libcuda") != std::string::npos ||
                s.driver_detail.find("cuInit") != std::string::npos)
        << s.driver_detail;
  }
}

TEST(ProbeCuda, IsStableAcrossCalls) {
  CudaStatus a = probe_cuda(), b = probe_cuda();
  EXPECT_EQ(a.nvrtc_available, b.nvrtc_available);
  EXPECT_EQ(a.driver_available, b.driver_available);
  EXPECT_EQ(a.driver_detail, b.driver_detail);
  EXPECT_EQ(a.devices.size(), b.devices.size());
}

#if ROBOCACHE_HAVE_CUDA

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(NvrtcLibrary, SearchOrder) {
  ScopedEnv lib("ROBOCACHE_NVRTC_LIBRARY", nullptr);
  ScopedEnv home("CUDA_HOME", "/opt/cuda-x");
  cuda::set_nvrtc_wheel_dirs({});
  EXPECT_EQ(cuda::nvrtc_library_candidates(),
            (std::vector<std::string>{"libnvrtc.so.13", "/opt/cuda-x/lib64/libnvrtc.so.13",
                                      "/usr/local/cuda/lib64/libnvrtc.so.13", "libnvrtc.so.12",
                                      "/opt/cuda-x/lib64/libnvrtc.so.12", "/usr/local/cuda/lib64/libnvrtc.so.12",
                                      "libnvrtc.so", "/opt/cuda-x/lib64/libnvrtc.so",
                                      "/usr/local/cuda/lib64/libnvrtc.so"}));
}

TEST(NvrtcLibrary, WheelDirectoriesComeFirstForEachVersion) {
  ScopedEnv lib("ROBOCACHE_NVRTC_LIBRARY", nullptr);
  ScopedEnv home("CUDA_HOME", nullptr);
  cuda::set_nvrtc_wheel_dirs({"/venv/site-packages/nvidia/cu13/lib/"});
  std::vector<std::string> c = cuda::nvrtc_library_candidates();
  cuda::set_nvrtc_wheel_dirs({});
  ASSERT_GE(c.size(), 4u);
  EXPECT_EQ(c[0], "/venv/site-packages/nvidia/cu13/lib/libnvrtc.so.13");
  EXPECT_EQ(c[1], "libnvrtc.so.13");
  // A CUDA 12 wheel never outranks a system NVRTC 13: versions first, then where.
  EXPECT_EQ(c[3], "/venv/site-packages/nvidia/cu13/lib/libnvrtc.so.12");
  EXPECT_EQ(std::count(c.begin(), c.end(), "/venv/site-packages/nvidia/cu13/lib/libnvrtc.so"), 0);
}

TEST(NvrtcLibrary, ExplicitChoiceIsTheOnlyCandidate) {
  ScopedEnv lib("ROBOCACHE_NVRTC_LIBRARY", "/somewhere/libnvrtc.so.13");
  EXPECT_EQ(cuda::nvrtc_library_candidates(), std::vector<std::string>{"/somewhere/libnvrtc.so.13"});
}

TEST(NvrtcLibrary, LoadsAndKnowsSm90) {
  try {
    const cuda::NvrtcApi& api = cuda::nvrtc_api();
    EXPECT_GE(api.major, 12);
    EXPECT_NE(std::find(api.supported_archs.begin(), api.supported_archs.end(), 90), api.supported_archs.end());
    EXPECT_EQ(api.describe(NVRTC_ERROR_COMPILATION), "NVRTC_ERROR_COMPILATION");
    // Its builtins library, from NVRTC's own directory, is in the process before the first compile.
    std::string dir = api.library.substr(0, api.library.rfind('/'));
    std::string builtins = dir + "/libnvrtc-builtins.so." + api.version_string();
    if (std::ifstream(builtins).good()) EXPECT_NE(dlopen(builtins.c_str(), RTLD_LAZY | RTLD_NOLOAD), nullptr) << builtins;
  } catch (const std::exception& e) {
    GTEST_SKIP() << e.what();
  }
}

#endif

}  // namespace
}  // namespace robocache
