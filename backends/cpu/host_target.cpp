#include "backends/cpu/host_target.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/Triple.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>

#include "support/errors.h"

namespace robocache::llvm_ir {

namespace {

const llvm::Target& lookup_target(const std::string& triple) {
  std::string error;
  const llvm::Target* t = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!t) throw BackendUnavailable(fmt::format("LLVM cannot generate code for this host ({}): {}", triple, error));
  return *t;
}

std::unique_ptr<llvm::TargetMachine> make_machine(const std::string& triple, const std::string& cpu,
                                                  const std::string& features) {
  llvm::TargetOptions options;
  // Only the explicit llvm.fma in the IR may fuse; fsub/fmul stay separate roundings.
  options.AllowFPOpFusion = llvm::FPOpFusion::Strict;
  std::unique_ptr<llvm::TargetMachine> tm(lookup_target(triple).createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, llvm::CodeModel::Small, llvm::CodeGenOpt::Aggressive));
  if (!tm) throw BackendUnavailable(fmt::format("LLVM could not create a target machine for {} ({})", triple, cpu));
  return tm;
}

HostTarget detect_host() {
  initialize_native_llvm();
  HostTarget host;
  host.triple = llvm::sys::getProcessTriple();
  if (!llvm::Triple(host.triple).isOSBinFormatELF())
    throw BackendUnavailable(fmt::format("the CPU backend loads ELF objects, and this host ({}) does not use ELF", host.triple));
  host.target.kind = Target::Kind::Cpu;
  host.target.arch = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features;
  std::vector<std::string> enabled, all;
  if (llvm::sys::getHostCPUFeatures(features)) {
    for (const auto& f : features) {
      all.push_back(fmt::format("{}{}", f.getValue() ? '+' : '-', f.getKey().str()));
      if (f.getValue()) enabled.push_back(all.back());
    }
  }
  // StringMap iterates in hash order; sort so the string (part of the cache key) is stable.
  std::sort(enabled.begin(), enabled.end());
  std::sort(all.begin(), all.end());
  host.target.features = fmt::format("{}", fmt::join(enabled, ","));
  host.machine_features = fmt::format("{}", fmt::join(all, ","));
  host.data_layout =
      make_machine(host.triple, host.target.arch, host.machine_features)->createDataLayout().getStringRepresentation();
  return host;
}

}  // namespace

std::string llvm_toolchain() { return "llvm " LLVM_VERSION_STRING; }

void initialize_native_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

const HostTarget& host_target() {
  static const HostTarget host = detect_host();
  return host;
}

std::unique_ptr<llvm::TargetMachine> create_host_target_machine() {
  const HostTarget& host = host_target();
  return make_machine(host.triple, host.target.arch, host.machine_features);
}

}  // namespace robocache::llvm_ir
