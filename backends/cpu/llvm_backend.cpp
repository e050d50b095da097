// The CPU backend: LLVM IR generation, O3 compilation to a host object file, and ORC loading.
#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/generator_identity.h"
#include "backends/cpu/cpu_backend_factory.h"
#include "backends/cpu/cpu_launch_abi.h"
#include "compiler/voxelize_abi.h"
#include "backends/cpu/host_target.h"
#include "backends/cpu/jit_loader.h"
#include "backends/cpu/object_emitter.h"
#include "backends/cpu/resample_ir.h"
#include "backends/cpu/voxelize_ir.h"
#include "backends/cpu/thread_pool.h"

namespace robocache {

namespace {

// Signature of every CPU kernel entry (see resample_ir.h).
using CpuEntry = void (*)(const std::uint64_t* slots, std::int64_t begin, std::int64_t end);

class CpuKernel final : public LoadedKernel {
 public:
  CpuKernel(std::unique_ptr<llvm_ir::JitObject> object, int grain, ThreadPoolSource pool, bool voxelize,
            bool owned_scatter)
      : object_(std::move(object)),
        entry_(reinterpret_cast<CpuEntry>(object_->address())),
        grain_(grain),
        pool_(pool),
        voxelize_(voxelize),
        owned_scatter_(owned_scatter) {}

  void launch(const KernelArgs& args, const WorkShape& work, const LaunchPlace&) const override {
    if (work.rows < 0 || work.items < 0)
      throw ArgumentError("work", fmt::format("negative work shape ({} rows, {} items)", work.rows, work.items));
    if (work.rows == 0 || work.items == 0) return;
    if (work.rows > std::numeric_limits<std::int64_t>::max() / work.items)
      throw ArgumentError("work", fmt::format("{} rows of {} items overflow int64", work.rows, work.items));
    const std::int64_t n = work.rows * work.items;
    ThreadPool& pool = pool_();
    // The serial flag (cpu_launch_abi.h) lets a kernel skip atomics when nothing runs beside it;
    // a serial launch runs here, so a policy change on another thread cannot make it parallel.
    const bool serial = n <= grain_ || pool.ways() == 1;
    CpuEntry entry = entry_;
    if (!voxelize_) {  // resample and fuse read no launch slots: no copy of the 1 KiB block
      if (serial) {
        entry(args.slots.data(), 0, n);
        return;
      }
      const std::uint64_t* slots = args.slots.data();
      pool.parallel_for(n, grain_, [slots, entry](std::int64_t begin, std::int64_t end) { entry(slots, begin, end); });
      return;
    }
    KernelArgs local = args;
    local.slots[cpu_launch_abi::kSerialSlot] = serial ? 1 : 0;
    const std::uint64_t* slots = local.slots.data();
    if (serial) {
      entry(slots, 0, n);
      return;
    }
    // Voxel count, mean and max: the scatter partitioned by cells (cpu_launch_abi.h), so updates
    // need no atomics (a float add or max is a compare-exchange loop on x86) and each thread's
    // cells are a smaller, more cache-friendly part of the grid. The sums of a mean then come out
    // in point order whatever the thread count.
    const int ways = pool.ways();
    if (owned_scatter_ && args.slots[voxelize_abi::kPhase] == static_cast<std::uint64_t>(voxelize_abi::kScatter) &&
        ways <= cpu_launch_abi::kMaxOwners) {
      pool.parallel_for(ways, 1, [&local, entry, ways, n](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k) {
          KernelArgs mine = local;
          mine.slots[cpu_launch_abi::kSerialSlot] = 1;
          mine.slots[cpu_launch_abi::kOwnersSlot] = static_cast<std::uint64_t>(ways);
          mine.slots[cpu_launch_abi::kOwnerSlot] = static_cast<std::uint64_t>(k);
          entry(mine.slots.data(), 0, n);
        }
      });
      return;
    }
    pool.parallel_for(n, grain_, [slots, entry](std::int64_t begin, std::int64_t end) { entry(slots, begin, end); });
  }

 private:
  std::unique_ptr<llvm_ir::JitObject> object_;
  CpuEntry entry_;
  int grain_;
  ThreadPoolSource pool_;
  bool voxelize_;       // a voxelize kernel (reads cpu_launch_abi.h's slots)
  bool owned_scatter_;  // a voxelize count/mean/max kernel (its scatter may be cell-partitioned)
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(ThreadPoolSource pool) : host_(llvm_ir::host_target()), pool_(pool) {}

  const Target& target() const override { return host_.target; }

  std::string toolchain() const override { return llvm_ir::llvm_toolchain(); }

  // The content hash of backends/cpu/ and the ABI headers, computed at build time: any change to
  // the IR emitters or the pass pipeline changes every CPU key.
  std::string generator_identity() const override { return fmt::format("llvm-ir:{}", cpu_generator_hash()); }

  Config default_config(const Spec& spec) const override {
    Config config;
    // About 16K channel values per task: big enough that waking a worker (~10 µs) is noise,
    // small enough that a few thousand targets (or points, or cells) still spread over the pool.
    std::int64_t dim = 1;
    switch (spec.op()) {
      case OpKind::Resample: dim = spec.resample().dim; break;
      case OpKind::Fuse: dim = spec.fuse().total_dim(); break;
      case OpKind::Voxelize: dim = std::max<std::int64_t>(spec.voxelize().features, 1); break;
    }
    config.cpu_grain = static_cast<int>(std::clamp<std::int64_t>((1 << 14) / std::max<std::int64_t>(dim, 1), 16, 4096));
    return config;
  }

  std::vector<Config> config_space(const Spec& spec) const override {
    // Only the grain matters on the CPU: powers of 4 span "one task per few rows" to "a few big
    // tasks", around the heuristic's choice, which comes first so ties keep it.
    std::vector<Config> space{default_config(spec)};
    for (int grain = 16; grain <= 4096; grain *= 4) {
      Config c = space.front();
      c.cpu_grain = grain;
      if (std::find(space.begin(), space.end(), c) == space.end()) space.push_back(c);
    }
    return space;
  }

  KernelSource generate(const Spec& spec, const Config& config) const override {
    KernelSource source;
    source.target = host_.target;
    source.config = config;
    source.language = "llvm-ir";
    source.spec_json = spec.canonical_json();
    try {
      llvm::LLVMContext ctx;
      std::unique_ptr<llvm::Module> m;
      switch (spec.op()) {
        case OpKind::Resample:
          source.entry = llvm_ir::resample_entry_name(spec.resample());
          m = llvm_ir::build_resample_module(ctx, spec.resample(), source.entry, host_.triple, host_.data_layout);
          break;
        case OpKind::Fuse:
          source.entry = llvm_ir::fuse_entry_name(spec.fuse());
          m = llvm_ir::build_fuse_module(ctx, spec.fuse(), source.entry, host_.triple, host_.data_layout);
          break;
        case OpKind::Voxelize:
          source.entry = llvm_ir::voxelize_entry_name(spec.voxelize());
          m = llvm_ir::build_voxelize_module(ctx, spec.voxelize(), source.entry, host_.triple, host_.data_layout);
          break;
      }
      llvm::raw_string_ostream os(source.text);
      m->print(os, nullptr);
      os.flush();
    } catch (const std::invalid_argument& e) {
      throw CompileError("generate", source.spec_json, e.what(), "");
    }
    return source;
  }

  ObjectCode compile(const KernelSource& source) const override { return llvm_ir::compile_to_object(source); }

  std::string emit(const KernelSource& source, const std::string& form) const override {
    if (form != "asm") return Backend::emit(source, form);
    return llvm_ir::compile_to_assembly(source);
  }

  std::unique_ptr<LoadedKernel> load(const ObjectCode& code) const override {
    if (code.format != "elf-object")
      throw RuntimeFailure(fmt::format("the CPU backend loads 'elf-object' code, got '{}'", code.format));
    // Code built for another CPU could use instructions this one lacks (SIGILL at launch).
    if (!(code.target == host_.target))
      throw BackendUnavailable(fmt::format("the object was compiled for {}, which is not this host ({})",
                                           code.target.identity(), host_.target.identity()));
    const bool voxelize = code.symbol.rfind("robocache_voxelize_", 0) == 0;
    const bool owned_scatter = llvm_ir::voxelize_entry_partitions_cells(code.symbol);
    return std::make_unique<CpuKernel>(llvm_ir::jit_load_object(code.bytes, code.symbol), code.config.cpu_grain,
                                       pool_, voxelize, owned_scatter);
  }

 private:
  const llvm_ir::HostTarget& host_;
  ThreadPoolSource pool_;
};

}  // namespace

std::shared_ptr<Backend> make_llvm_cpu_backend(ThreadPoolSource pool) { return std::make_shared<CpuBackend>(pool); }

std::shared_ptr<Backend> make_cpu_backend() { return make_llvm_cpu_backend(&default_thread_pool); }

}  // namespace robocache
