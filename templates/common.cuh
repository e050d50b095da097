// RoboCache CUDA template: what every kernel template shares. The code generator puts this file
// in front of the op's template (backends/cuda/resample_codegen.cpp); the build's nvcc check and
// the host emulation tests include it first. Like the op templates it includes nothing.
namespace robocache {

// The one by-value kernel parameter: compiler/backend.h's KernelArgs::slots, byte for byte.
struct RcArgs {
  unsigned long long slot[128];
};

// Argument errors found on the device (docs/semantics.md, "Validation on the GPU"): the first
// one is written to a word of host-mapped memory that the host reads before its next launch and
// in robocache.synchronize(), so no launch waits for the GPU. Mirrors backends/cuda/device_errors.h.
namespace device_error {
constexpr unsigned long long kLengthOutOfRange = 1;
constexpr unsigned long long kDecreasingTime = 2;
constexpr unsigned long long kNanTime = 3;
constexpr unsigned long long kOpResample = 1;
constexpr unsigned long long kOpFuse = 2;
constexpr unsigned long long kOpVoxelize = 3;
// The error word without its reason: op, argument (a fuse modality) and batch row.
__device__ __forceinline__ unsigned long long where(unsigned long long op, unsigned long long arg, long long row) {
  return (op << 4) | (arg << 8) | (static_cast<unsigned long long>(row) << 16);
}
// Keeps the first error: a plain store guarded by a read (atomics on host memory need a bus that
// supports them; a lost race only means another error of the same call is the one reported).
__device__ __forceinline__ void report(unsigned long long* word, unsigned long long code) {
  if (!word) return;
  volatile unsigned long long* w = word;
  if (*w == 0ull) {
    *w = code;
    __threadfence_system();
  }
}
}  // namespace device_error

}  // namespace robocache
