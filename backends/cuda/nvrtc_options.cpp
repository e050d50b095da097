#include "backends/cuda/nvrtc_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace robocache {

std::vector<std::string> NvrtcOptions::to_flags() const {
  std::vector<std::string> f;
  f.push_back("--gpu-architecture=" + arch);
  f.push_back(fmt::format("-std=c++{}", cxx_standard));
  f.push_back(fmad ? "--fmad=true" : "--fmad=false");
  // Spelled out although they are NVRTC's defaults, so a changed default cannot change results.
  f.push_back("--prec-div=true");
  f.push_back("--prec-sqrt=true");
  f.push_back("--ftz=false");
  if (default_device) f.push_back("-default-device");
  if (line_info) f.push_back("-lineinfo");
  if (max_registers > 0) f.push_back(fmt::format("--maxrregcount={}", max_registers));
  return f;
}

std::string NvrtcOptions::identity() const { return fmt::format("{}", fmt::join(to_flags(), " ")); }

}  // namespace robocache
