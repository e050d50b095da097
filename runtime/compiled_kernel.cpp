#include "runtime/compiled_kernel.h"

#include <chrono>

#include <fmt/format.h>

#include "compiler/errors.h"
#include "runtime/engine.h"
#include "runtime/resample_call.h"

namespace robocache {

namespace {

ResampleInputs resample_inputs(const std::vector<ArrayView>& inputs) {
  if (inputs.size() != 3)
    throw ArgumentError("inputs", fmt::format("resample takes 3 arrays (data, src_times, tgt_times), got {}",
                                              inputs.size()));
  return ResampleInputs{inputs[0], inputs[1], inputs[2]};
}

}  // namespace

CompiledKernel::CompiledKernel(Spec spec, std::string key, std::shared_ptr<Backend> backend,
                               ObjectCode code, std::string origin, Engine* engine)
    : spec_(std::move(spec)),
      key_(std::move(key)),
      backend_(std::move(backend)),
      code_(std::move(code)),
      origin_(std::move(origin)),
      engine_(engine) {}

std::string CompiledKernel::source() const { return backend_->generate(spec_, code_.config).text; }

std::vector<std::int64_t> CompiledKernel::output_shape(const std::vector<ArrayView>& inputs) const {
  return resample_output_shape(spec_.resample(), resample_inputs(inputs));
}

const LoadedKernel& CompiledKernel::loaded() const {
  std::call_once(load_once_, [this] {
    auto t0 = std::chrono::steady_clock::now();
    loaded_ = backend_->load(code_);
    if (engine_)
      engine_->record_load(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  });
  return *loaded_;
}

void CompiledKernel::run(const std::vector<ArrayView>& inputs, const ArrayView& out, void* stream,
                         bool check_times) const {
  const DeviceKind want = target().kind == Target::Kind::Cpu ? DeviceKind::Cpu : DeviceKind::Cuda;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].device != want)
      throw ArgumentError(i == 0 ? "data" : (i == 1 ? "src_times" : "tgt_times"),
                          fmt::format("is on {} but the kernel was compiled for target '{}', which "
                                      "runs on {}",
                                      inputs[i].device_text(), target().name(),
                                      want == DeviceKind::Cpu ? "the CPU" : "a CUDA device"));
  BoundLaunch bl = bind_resample(spec_.resample(), resample_inputs(inputs), out, check_times);
  if (bl.work.rows == 0 || bl.work.items == 0) return;
  loaded().launch(bl.args, bl.work, LaunchPlace{out.device_index, stream});
}

}  // namespace robocache
