#include "backends/cuda/cuda_kernel.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "support/errors.h"
#include "backends/cuda/cuda_module.h"
#include "backends/cuda/device_arch.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/error_word.h"
#include "backends/cuda/primary_context.h"

namespace robocache {

namespace {

constexpr std::int64_t kMaxGridX = 2147483647;
// Dynamic shared memory a launch may ask for without raising the function's limit.
constexpr std::int64_t kMaxDynamicShared = 48 * 1024;

// The module and function of one device. Members are destroyed in reverse: the module is unloaded
// while the primary context is still retained.
struct DeviceKernel {
  explicit DeviceKernel(int ordinal, const ObjectCode& code)
      : context(ordinal), module(context.get(), code.bytes), function(module.function(code.symbol)) {
    const cuda::DriverApi& d = cuda::driver_api();
    ROBOCACHE_CU_CHECK(d, cuDeviceGetAttribute, &sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                       context.device());
  }
  cuda::PrimaryContext context;
  cuda::CudaModule module;
  CUfunction function;
  int sm_count = 1;
};

// Targets per block for a launch whose tiles are sized at launch time (WorkShape::tile_slot):
// enough 32-target units to keep every warp of the block busy, but smaller (down to 32) while the
// grid would leave half the SMs idle; then larger tiles while the
// per-row cost each block pays (staging or checking the source times) is large beside the tile's
// own bytes, as long as the grid still gives every SM two blocks; then larger still while the grid
// would have far more blocks than the GPU holds at once. Capped by the config's
// targets_per_block, never below 32.
std::int64_t launch_tile(const WorkShape& w, const Config& c, int sm_count) {
  const std::int64_t warps = std::max(1, c.block_threads / 32);
  const std::int64_t per32 = std::max<std::int64_t>(1, w.units_per_32);
  const std::int64_t cap = std::max<std::int64_t>(32, c.targets_per_block);
  std::int64_t tile = std::min(cap, 32 * ((warps + per32 - 1) / per32));
  const std::int64_t parts = std::max<std::int64_t>(1, w.blocks_per_tile);
  auto blocks = [&](std::int64_t t) { return w.rows * ((w.items + t - 1) / t) * parts; };
  const std::int64_t sms = std::max(1, sm_count);
  // A small launch is a chain of dependent round trips per warp: spread it over more blocks.
  while (tile > 32 && 2 * blocks(tile) < sms) tile /= 2;
  while (tile < cap && tile < w.items && tile * w.item_bytes < 4 * w.row_bytes && blocks(2 * tile) >= 2 * sms)
    tile *= 2;
  while (tile < cap && tile < w.items && blocks(2 * tile) >= 8 * sms) tile *= 2;
  return tile;
}

class CudaLoadedKernel final : public LoadedKernel {
 public:
  explicit CudaLoadedKernel(const ObjectCode& code)
      : code_(code), driver_(cuda::driver_api()), devices_(static_cast<std::size_t>(cuda::device_count())) {}

  void launch(const KernelArgs& args, const WorkShape& work, const LaunchPlace& place) const override {
    if (work.rows <= 0 || work.items <= 0) return;
    const DeviceKernel& k = on_device(place.device);
    // An argument error an earlier kernel found on this device surfaces before more work is queued.
    cuda::raise_reported_error(place.device);
    KernelArgs a = args;
    std::int64_t tpb = std::max<std::int64_t>({1, code_.config.targets_per_block, work.min_block_items});
    if (work.tile_slot >= 0) {
      tpb = launch_tile(work, code_.config, k.sm_count);
      a.set_int(work.tile_slot, tpb);
    }
    if (work.error_slot >= 0) a.slots[static_cast<std::size_t>(work.error_slot)] = cuda::error_word_device_address(place.device);
    const std::int64_t tiles_per_row = work.items / tpb + (work.items % tpb != 0);
    const std::int64_t parts = std::max<std::int64_t>(1, work.blocks_per_tile);
    // Compared against the cap before multiplying, so no shape can overflow the product.
    const std::int64_t tiles =
        tiles_per_row > kMaxGridX / work.rows ? kMaxGridX : std::min(kMaxGridX, work.rows * tiles_per_row);
    const std::int64_t grid = tiles > kMaxGridX / parts ? kMaxGridX : tiles * parts;
    cuda::ScopedContext scope(k.context.get());
    // The kernel takes one by-value struct of KernelArgs::kMaxSlots slots; cuLaunchKernel copies it
    // at the call.
    void* params[] = {a.slots.data()};
    ROBOCACHE_CU_CHECK(driver_, cuLaunchKernel, k.function, static_cast<unsigned>(grid), 1, 1,
                       static_cast<unsigned>(code_.config.block_threads), 1, 1,
                       static_cast<unsigned>(std::clamp<std::int64_t>(work.shared_bytes, 0, kMaxDynamicShared)),
                       static_cast<CUstream>(place.stream), params, nullptr);
  }

 private:
  const DeviceKernel& on_device(int ordinal) const {
    if (ordinal < 0 || ordinal >= static_cast<int>(devices_.size()))
      throw ArgumentError("device", fmt::format("CUDA device {} does not exist ({} visible)", ordinal,
                                                devices_.size()));
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = devices_[static_cast<std::size_t>(ordinal)];
    if (!slot) {
      try {
        slot = std::make_unique<DeviceKernel>(ordinal, code_);
      } catch (const RuntimeFailure& e) {
        // Name both archs: a cubin built for another GPU is the usual cause.
        std::string arch;
        try {
          arch = cuda::device_arch(ordinal);
        } catch (const std::exception&) {
          arch = "unknown arch";
        }
        throw RuntimeFailure(fmt::format("loading the {} cubin of '{}' on device {} ({}) failed: {}",
                                         code_.target.arch, code_.symbol, ordinal, arch, e.what()));
      }
    }
    return *slot;
  }

  ObjectCode code_;
  const cuda::DriverApi& driver_;
  mutable std::mutex mutex_;
  // Loaded once and never replaced, so references handed out stay valid without the lock.
  mutable std::vector<std::unique_ptr<DeviceKernel>> devices_;
};

}  // namespace

std::unique_ptr<LoadedKernel> load_cuda_kernel(const ObjectCode& code) {
  if (code.format != "cubin")
    throw RuntimeFailure(fmt::format("the CUDA backend loads cubins, not '{}'", code.format));
  if (code.symbol.empty()) throw RuntimeFailure("the cubin names no kernel symbol");
  return std::make_unique<CudaLoadedKernel>(code);
}

}  // namespace robocache
