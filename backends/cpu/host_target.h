#pragma once
/// The host CPU as LLVM sees it, and TargetMachines for it.
#include <memory>
#include <string>

#include <llvm/Target/TargetMachine.h>

#include "compiler/target.h"

namespace robocache::llvm_ir {

/// Everything about the host that code generation depends on; detected once per process.
struct HostTarget {
  /// Kind::Cpu, the host CPU name, and its enabled features as a sorted "+a,+b" string.
  Target target;
  /// The process's target triple, e.g. "x86_64-pc-linux-gnu".
  std::string triple;
  /// Enabled and disabled features ("+a,-b,..."), so a CPU name that claims more than this host
  /// (a VM hiding AVX-512, say) cannot switch on missing features.
  std::string machine_features;
  /// The TargetMachine's data layout string.
  std::string data_layout;
};

/// "llvm <version>": the toolchain identity hashed into cache keys.
std::string llvm_toolchain();

/// Initialises LLVM's native target, asm printer and parser (once per process).
void initialize_native_llvm();

/// The host description, detected on first use; throws BackendUnavailable if LLVM cannot target it.
const HostTarget& host_target();

/// A new TargetMachine for the host: PIC, small code model, -O3, no FP contraction.
/// Not shared: a TargetMachine must not emit code from two threads at once.
std::unique_ptr<llvm::TargetMachine> create_host_target_machine();

}  // namespace robocache::llvm_ir
