#pragma once
/// The one narrow interface every backend implements, and the uniform launch arguments.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/pipeline.h"
#include "compiler/spec.h"

namespace robocache {

/// Kernel arguments as 8-byte slots (pointers and int64 sizes), in the op's documented layout.
/// Every kernel on every backend takes exactly this block, so one launch path serves them all.
struct KernelArgs {
  static constexpr int kMaxSlots = 128;
  std::array<std::uint64_t, kMaxSlots> slots{};
  /// Stores a pointer in slot i.
  void set_ptr(int i, const void* p) { slots[i] = reinterpret_cast<std::uintptr_t>(p); }
  /// Stores a signed integer in slot i.
  void set_int(int i, std::int64_t v) { slots[i] = static_cast<std::uint64_t>(v); }
};

/// The amount of work in one launch: `rows` independent rows (batch) of `items` items (targets).
struct WorkShape {
  std::int64_t rows = 0;
  std::int64_t items = 0;
  /// CUDA: blocks that share one tile of items (a fuse gives each modality its own block); the
  /// kernel covers every (tile, part) pair whatever the grid, so this only sets the parallelism.
  std::int64_t blocks_per_tile = 1;
  /// CUDA: at least this many items per block, for launches whose kernel walks its items with a
  /// grid-stride loop and whose per-item work is tiny (voxelize's clear phase); 0: the config's
  /// targets_per_block alone decides.
  std::int64_t min_block_items = 0;
  /// CUDA, ops that size their tiles at launch: the slot that receives the chosen targets per
  /// block (-1: the config's targets_per_block, fixed), and what the choice weighs: DRAM bytes
  /// per item, bytes each block reads per row before its tile (the source times it stages or
  /// checks), and warp-sized work units per 32 items (wide rows split over several warps).
  int tile_slot = -1;
  std::int64_t item_bytes = 0;
  std::int64_t row_bytes = 0;
  std::int64_t units_per_32 = 1;
  /// CUDA: dynamic shared memory per block (staged source times), at most 48 KiB.
  std::int64_t shared_bytes = 0;
  /// CUDA: the slot that receives the device's error-word address (-1: the kernel reports none).
  int error_slot = -1;
};

/// Where a launch goes: a CUDA device and stream; ignored on the CPU.
struct LaunchPlace {
  int device = 0;
  void* stream = nullptr;  ///< CUstream; nullptr is the legacy default stream
};

/// Compiled code loaded and ready to run.
class LoadedKernel {
 public:
  virtual ~LoadedKernel() = default;
  /// Runs the kernel on `work`; CUDA launches are asynchronous on `place.stream`.
  virtual void launch(const KernelArgs& args, const WorkShape& work, const LaunchPlace& place) const = 0;
};

/// A code generator + compiler + loader for one target.
class Backend {
 public:
  virtual ~Backend() = default;
  /// The target this backend produces code for.
  virtual const Target& target() const = 0;
  /// Compiler identity (name and version), hashed into the cache key.
  virtual std::string toolchain() const = 0;
  /// Identity of the code generator (template sources' hash or generator version), for the key.
  virtual std::string generator_identity() const = 0;
  /// The config used when no tuning data exists.
  virtual Config default_config(const Spec& spec) const = 0;
  /// The configs the tuner sweeps for spec; the first is default_config(spec), none repeats.
  virtual std::vector<Config> config_space(const Spec& spec) const;
  /// Specialises the op's code for spec and config.
  virtual KernelSource generate(const Spec& spec, const Config& config) const = 0;
  /// Compiles generated code; throws CompileError.
  virtual ObjectCode compile(const KernelSource& source) const = 0;
  /// Other forms of the generated code for inspection: "ptx" (CUDA) or "asm" (CPU assembly), and
  /// the generated text itself, "source" (CUDA C++) or "ir" (LLVM IR), without compiling it.
  /// Throws ArgumentError("emit") for a form this backend cannot produce.
  virtual std::string emit(const KernelSource& source, const std::string& form) const;
  /// Loads compiled code; throws BackendUnavailable when it cannot run here, RuntimeFailure on error.
  virtual std::unique_ptr<LoadedKernel> load(const ObjectCode& code) const = 0;
};

/// The host-CPU backend (LLVM ORC). Throws BackendUnavailable saying why it cannot be made.
std::shared_ptr<Backend> make_cpu_backend();

/// The CUDA backend (NVRTC + Driver API) for `arch` ("sm_90"), or for device 0's arch when empty.
/// Throws BackendUnavailable saying why (no NVRTC, no driver, no device).
std::shared_ptr<Backend> make_cuda_backend(const std::string& arch);

}  // namespace robocache
