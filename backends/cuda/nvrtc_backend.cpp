// The CUDA backend: resample templates specialised for a spec, compiled by NVRTC, run through the
// driver. Only compiling needs NVRTC; loading and launching need the driver and a device.
#include <optional>

#include <fmt/format.h>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/generator_identity.h"
#include "backends/cuda/cuda_arch.h"
#include "backends/cuda/cuda_kernel.h"
#include "backends/cuda/nvrtc_compiler.h"
#include "backends/cuda/nvrtc_options.h"
#include "backends/cuda/resample_codegen.h"
#include "backends/cuda/device_arch.h"
#include "backends/cuda/nvrtc_api.h"

namespace robocache {

namespace {

class NvrtcBackend final : public Backend {
 public:
  NvrtcBackend(const CudaArch& arch, const cuda::NvrtcApi& nvrtc) {
    target_.kind = Target::Kind::Cuda;
    target_.arch = arch.name();
    options_.arch = target_.arch;
    toolchain_ = fmt::format("nvrtc {} {}", nvrtc.version_string(), options_.identity());
  }

  const Target& target() const override { return target_; }
  std::string toolchain() const override { return toolchain_; }
  std::string generator_identity() const override {
    // The content hash of backends/cuda/, the templates and the ABI headers (built in).
    return fmt::format("cuda-generator:{}", cuda_generator_hash());
  }

  Config default_config(const Spec& spec) const override {
    return default_cuda_config(spec);
  }

  std::vector<Config> config_space(const Spec& spec) const override { return cuda_config_space(spec); }

  KernelSource generate(const Spec& spec, const Config& config) const override {
    return generate_cuda(spec, config, target_);
  }

  ObjectCode compile(const KernelSource& source) const override {
    // Code generated for another arch would be cached under this backend's key: refuse it.
    const bool other_arch = !source.target.arch.empty() && source.target.arch != target_.arch;
    if (source.target.kind != Target::Kind::Cuda || other_arch)
      throw CompileError("nvrtc", source.spec_json,
                         fmt::format("source generated for target '{}' handed to the {} backend",
                                     source.target.identity(), target_.arch),
                         options_.identity());
    KernelSource s = source;
    s.target = target_;
    return nvrtc_compile(s, options_);
  }

  std::string emit(const KernelSource& source, const std::string& form) const override {
    if (form != "ptx") return Backend::emit(source, form);
    return nvrtc_ptx(source, options_);
  }

  std::unique_ptr<LoadedKernel> load(const ObjectCode& code) const override {
    return load_cuda_kernel(code);
  }

 private:
  Target target_;
  NvrtcOptions options_;
  std::string toolchain_;
};

}  // namespace

std::shared_ptr<Backend> make_cuda_backend(const std::string& arch) {
  // A named arch needs only NVRTC, so cubins for another machine's GPU can be built anywhere.
  std::string name = arch;
  std::optional<CudaArch> parsed;
  if (!name.empty()) parsed = parse_cuda_arch(name);
  const cuda::NvrtcApi& nvrtc = cuda::nvrtc_api();
  if (!parsed) {
    if (cuda::device_count() == 0) throw BackendUnavailable("no CUDA device is visible");
    name = cuda::device_arch(0);
    parsed = parse_cuda_arch(name);
  }
  try {
    require_supported_arch(*parsed, nvrtc.supported_archs, "NVRTC " + nvrtc.version_string());
  } catch (const ArgumentError& e) {
    // The GPU's own arch being unsupported means this NVRTC is too old for the machine.
    if (arch.empty()) throw BackendUnavailable(fmt::format("device 0 is {}: {}", name, e.what()));
    throw;
  }
  return std::make_shared<NvrtcBackend>(*parsed, nvrtc);
}

}  // namespace robocache
