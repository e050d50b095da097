#pragma once
/// A cubin loaded on demand on each CUDA device it is launched on.
#include <memory>

#include "compiler/backend.h"

namespace robocache {

/// Loads `code` (format "cubin") lazily per device and launches it through the one shared launch
/// path: a 1-D grid of rows * ceil(items / targets_per_block) blocks (capped at 2^31-1; the kernels
/// stride over tiles) of config.block_threads threads, with the KernelArgs slots as the single
/// by-value parameter. Throws BackendUnavailable without a driver.
std::unique_ptr<LoadedKernel> load_cuda_kernel(const ObjectCode& code);

}  // namespace robocache
