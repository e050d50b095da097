// Stand-ins for a build without the CUDA headers: the API exists and says why it cannot work.
#include "compiler/backend.h"
#include "support/errors.h"
#include "backends/cuda/cuda_status.h"

namespace robocache {

namespace {
// CMake says which of the two ways the backend was left out.
#if defined(ROBOCACHE_CUDA_DISABLED_BY_OPTION)
constexpr const char* kReason =
    "robocache was built without the CUDA backend: it was configured with ROBOCACHE_ENABLE_CUDA=OFF";
#else
constexpr const char* kReason =
    "robocache was built without the CUDA backend: the CUDA headers were not found when it was "
    "configured";
#endif
}  // namespace

std::shared_ptr<Backend> make_cuda_backend(const std::string&) { throw BackendUnavailable(kReason); }

double cuda_empty_launch_us(int, void*, int) { throw BackendUnavailable(kReason); }
void cuda_synchronize(int) { throw BackendUnavailable(kReason); }
void set_nvrtc_wheel_dirs(std::vector<std::string>) {}

CudaStatus probe_cuda() {
  CudaStatus s;
  s.built = false;
  s.nvrtc_detail = kReason;
  s.driver_detail = kReason;
  return s;
}

}  // namespace robocache
