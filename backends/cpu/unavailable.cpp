// make_cpu_backend() for builds configured without LLVM.
#include "compiler/backend.h"
#include "support/errors.h"

namespace robocache {

std::shared_ptr<Backend> make_cpu_backend() {
  throw BackendUnavailable("robocache was built without the CPU backend: LLVM was not found when it was configured");
}

}  // namespace robocache
