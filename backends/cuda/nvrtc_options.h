#pragma once
/// The typed options of one NVRTC compilation, and the one function that turns them into flags.
#include <string>
#include <vector>

namespace robocache {

/// How NVRTC compiles a kernel. Every field changes the cubin, so identity() (hashed into the
/// cache key through Backend::toolchain()) covers them all.
struct NvrtcOptions {
  /// Real arch, e.g. "sm_90": a real arch (not compute_XX) makes NVRTC emit a cubin.
  std::string arch = "sm_90";
  /// C++ dialect of the templates.
  int cxx_standard = 17;
  /// Off: contracting a*b+c into an fma anywhere else would break bit agreement with the CPU.
  bool fmad = false;
  /// Functions without an execution space are device code; the templates have no host code.
  bool default_device = true;
  /// Line tables for profilers (Nsight Compute source view); no effect on the machine code.
  bool line_info = false;
  /// Register cap per thread passed to ptxas; 0 leaves it to __launch_bounds__.
  int max_registers = 0;

  /// The command-line flags, in a fixed order; the only place options become flags.
  std::vector<std::string> to_flags() const;
  /// The flags joined by spaces, e.g. "--gpu-architecture=sm_90 -std=c++17 --fmad=false ...".
  std::string identity() const;
  bool operator==(const NvrtcOptions&) const = default;
};

}  // namespace robocache
