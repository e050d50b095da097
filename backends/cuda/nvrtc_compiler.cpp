#include "backends/cuda/nvrtc_compiler.h"

#include <fmt/format.h>

#include "support/errors.h"
#include "backends/cuda/nvrtc_api.h"

namespace robocache {

namespace {

// Owns an nvrtcProgram. Every NVRTC failure becomes a CompileError carrying what is known.
class NvrtcProgram {
 public:
  NvrtcProgram(const cuda::NvrtcApi& api, const KernelSource& source, std::string flags_text)
      : api_(api), source_(source), flags_text_(std::move(flags_text)) {
    // NVRTC names the program in diagnostics only; the name is fixed, never user text.
    call(api_.nvrtcCreateProgram(&program_, source.text.c_str(), "robocache_kernel.cu", 0, nullptr,
                                 nullptr),
         "nvrtcCreateProgram");
  }
  ~NvrtcProgram() {
    if (program_) api_.nvrtcDestroyProgram(&program_);
  }
  NvrtcProgram(const NvrtcProgram&) = delete;
  NvrtcProgram& operator=(const NvrtcProgram&) = delete;

  void add_name_expression(const std::string& name) {
    call(api_.nvrtcAddNameExpression(program_, name.c_str()), "nvrtcAddNameExpression");
  }

  void compile(const std::vector<std::string>& flags) {
    std::vector<const char*> argv;
    for (const std::string& f : flags) argv.push_back(f.c_str());
    nvrtcResult r = api_.nvrtcCompileProgram(program_, static_cast<int>(argv.size()), argv.data());
    if (r != NVRTC_SUCCESS) fail(fmt::format("nvrtcCompileProgram: {}", api_.describe(r)));
  }

  std::string cubin() {
    std::size_t size = 0;
    call(api_.nvrtcGetCUBINSize(program_, &size), "nvrtcGetCUBINSize");
    std::string bytes(size, '\0');
    call(api_.nvrtcGetCUBIN(program_, bytes.data()), "nvrtcGetCUBIN");
    if (bytes.empty()) fail("NVRTC produced no cubin (is the arch a virtual compute_XX arch?)");
    return bytes;
  }

  std::string ptx() {
    std::size_t size = 0;
    call(api_.nvrtcGetPTXSize(program_, &size), "nvrtcGetPTXSize");
    std::string text(size, '\0');
    call(api_.nvrtcGetPTX(program_, text.data()), "nvrtcGetPTX");
    while (!text.empty() && text.back() == '\0') text.pop_back();
    return text;
  }

  std::string lowered_name(const std::string& name) {
    const char* lowered = nullptr;
    call(api_.nvrtcGetLoweredName(program_, name.c_str(), &lowered), "nvrtcGetLoweredName");
    if (!lowered || !*lowered) fail(fmt::format("no lowered name for '{}'", name));
    return lowered;
  }

 private:
  std::string log() const {
    if (!program_) return {};
    std::size_t size = 0;
    if (api_.nvrtcGetProgramLogSize(program_, &size) != NVRTC_SUCCESS || size == 0) return {};
    std::string text(size, '\0');
    if (api_.nvrtcGetProgramLog(program_, text.data()) != NVRTC_SUCCESS) return {};
    while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) text.pop_back();
    return text;
  }

  [[noreturn]] void fail(const std::string& what) const {
    std::string text = log();
    text = text.empty() ? what : what + "\n" + text;
    throw CompileError("nvrtc", source_.spec_json, text, flags_text_);
  }

  void call(nvrtcResult r, const char* name) const {
    if (r != NVRTC_SUCCESS) fail(fmt::format("{} failed: {}", name, api_.describe(r)));
  }

  const cuda::NvrtcApi& api_;
  const KernelSource& source_;
  std::string flags_text_;
  nvrtcProgram program_ = nullptr;
};

}  // namespace

ObjectCode nvrtc_compile(const KernelSource& source, const NvrtcOptions& options) {
  if (source.language != "cuda")
    throw CompileError("nvrtc", source.spec_json,
                       fmt::format("expected a 'cuda' source, got '{}'", source.language),
                       options.identity());
  if (source.entry.empty())
    throw CompileError("nvrtc", source.spec_json, "the source names no entry point", options.identity());
  const cuda::NvrtcApi& api = cuda::nvrtc_api();

  NvrtcProgram program(api, source, options.identity());
  program.add_name_expression(source.entry);
  program.compile(options.to_flags());

  ObjectCode code;
  code.target = source.target;
  code.config = source.config;
  code.format = "cubin";
  code.bytes = program.cubin();
  code.symbol = program.lowered_name(source.entry);
  return code;
}

std::string nvrtc_ptx(const KernelSource& source, NvrtcOptions options) {
  // A virtual arch makes NVRTC stop at PTX, the form ptxas would turn into the cubin.
  if (options.arch.rfind("sm_", 0) == 0) options.arch = "compute_" + options.arch.substr(3);
  const cuda::NvrtcApi& api = cuda::nvrtc_api();
  NvrtcProgram program(api, source, options.identity());
  program.add_name_expression(source.entry);
  program.compile(options.to_flags());
  return program.ptx();
}

}  // namespace robocache
