#include "backends/cuda/cuda_arch.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "support/errors.h"
#include "support/user_text.h"

namespace robocache {

std::string CudaArch::name() const { return fmt::format("sm_{}{}", sm, suffix); }

CudaArch parse_cuda_arch(std::string_view text) {
  auto bad = [&] {
    return ArgumentError("arch", fmt::format("'{}' is not a CUDA arch: expected sm_ followed by the "
                                             "compute capability digits, e.g. 'sm_90' or 'sm_90a'",
                                             shown(text)));
  };
  constexpr std::string_view kPrefix = "sm_";
  if (text.substr(0, kPrefix.size()) != kPrefix) throw bad();
  std::string_view rest = text.substr(kPrefix.size());
  std::size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  // Two or three digits: sm_75 ... sm_121; no leading zero.
  if (digits < 2 || digits > 3 || rest[0] == '0') throw bad();
  std::string_view suffix = rest.substr(digits);
  if (!suffix.empty() && suffix != "a" && suffix != "f") throw bad();
  CudaArch arch;
  for (char c : rest.substr(0, digits)) arch.sm = arch.sm * 10 + (c - '0');
  arch.suffix = std::string(suffix);
  return arch;
}

void require_supported_arch(const CudaArch& arch, const std::vector<int>& supported,
                            std::string_view compiler) {
  if (std::find(supported.begin(), supported.end(), arch.sm) != supported.end()) return;
  std::string list;
  for (int sm : supported) list += fmt::format("{}sm_{}", list.empty() ? "" : ", ", sm);
  throw ArgumentError("arch", fmt::format("{} cannot compile for {} (it supports: {})", compiler,
                                          arch.name(), list.empty() ? "nothing" : list));
}

}  // namespace robocache
