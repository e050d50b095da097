#pragma once
/// Validation of CUDA arch names ("sm_90") handed to the CUDA backend.
#include <string>
#include <string_view>
#include <vector>

namespace robocache {

/// A parsed real (SASS) arch: "sm_90" → {90, ""}, "sm_90a" → {90, "a"}.
struct CudaArch {
  int sm = 0;          ///< major*10 + minor
  std::string suffix;  ///< "", "a" (arch-specific) or "f" (family-specific)
  /// The spelling NVRTC takes, e.g. "sm_90a".
  std::string name() const;
};

/// Parses "sm_<digits>[a|f]"; throws ArgumentError("arch", ...) saying what is expected.
CudaArch parse_cuda_arch(std::string_view text);

/// Throws ArgumentError("arch", ...) listing `supported` when `arch.sm` is not among them.
void require_supported_arch(const CudaArch& arch, const std::vector<int>& supported,
                            std::string_view compiler);

}  // namespace robocache
