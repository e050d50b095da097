#include "backends/cuda/error_word.h"

#include <array>
#include <atomic>
#include <mutex>

#include "support/errors.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/primary_context.h"
#include "backends/cuda/cuda_status.h"
#include "backends/cuda/device_errors.h"

namespace robocache::cuda {

namespace {

constexpr int kMaxDevices = 64;

struct Word {
  volatile std::uint64_t* host = nullptr;
  std::uint64_t device = 0;
};

// Published once per device and never freed: kernels still in flight at exit may write them.
std::array<std::atomic<Word*>, kMaxDevices> g_words{};
std::mutex g_alloc_mutex;

Word* allocate(int ordinal) {
  std::lock_guard<std::mutex> lock(g_alloc_mutex);
  if (Word* w = g_words[static_cast<std::size_t>(ordinal)].load()) return w;
  const DriverApi& d = driver_api();
  // The primary context stays retained: the mapping must outlive every kernel that may use it.
  static std::array<PrimaryContext*, kMaxDevices> contexts{};
  auto*& ctx = contexts[static_cast<std::size_t>(ordinal)];
  if (!ctx) ctx = new PrimaryContext(ordinal);
  ScopedContext scope(ctx->get());
  void* host = nullptr;
  ROBOCACHE_CU_CHECK(d, cuMemHostAlloc, &host, sizeof(std::uint64_t),
                     CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP);
  CUdeviceptr dev = 0;
  ROBOCACHE_CU_CHECK(d, cuMemHostGetDevicePointer, &dev, host, 0);
  auto* w = new Word{static_cast<volatile std::uint64_t*>(host), static_cast<std::uint64_t>(dev)};
  *w->host = 0;
  g_words[static_cast<std::size_t>(ordinal)].store(w);
  return w;
}

}  // namespace

std::uint64_t error_word_device_address(int ordinal) {
  if (ordinal < 0 || ordinal >= kMaxDevices) return 0;  // no reporting beyond the table
  Word* w = g_words[static_cast<std::size_t>(ordinal)].load();
  return (w ? w : allocate(ordinal))->device;
}

void raise_reported_error(int ordinal) {
  if (ordinal < 0 || ordinal >= kMaxDevices) return;
  Word* w = g_words[static_cast<std::size_t>(ordinal)].load();
  if (!w) return;
  const std::uint64_t word = *w->host;
  if (word == 0) return;
  *w->host = 0;
  device_error::throw_error(word);
}

}  // namespace robocache::cuda

namespace robocache {

void cuda_synchronize(int ordinal) {
  const cuda::DriverApi& d = cuda::driver_api();
  cuda::PrimaryContext ctx(ordinal);
  cuda::ScopedContext scope(ctx.get());
  ROBOCACHE_CU_CHECK(d, cuCtxSynchronize);
  cuda::raise_reported_error(ordinal);
}

}  // namespace robocache
