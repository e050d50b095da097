#include "compiler/generator_identity.h"

#include "compiler/generator_identity_data.h"

namespace robocache {

namespace {

std::vector<std::string_view> listed(const char* const* files) {
  std::vector<std::string_view> out;
  for (; *files; ++files) out.emplace_back(*files);
  return out;
}

}  // namespace

std::string_view cuda_generator_hash() { return generator_detail::kCudaHash; }
std::string_view cpu_generator_hash() { return generator_detail::kCpuHash; }
std::vector<std::string_view> cuda_generator_files() { return listed(generator_detail::kCudaFiles); }
std::vector<std::string_view> cpu_generator_files() { return listed(generator_detail::kCpuFiles); }

}  // namespace robocache
