#include "runtime/compiled_kernel.h"

#include <chrono>

#include <fmt/format.h>

#include "support/errors.h"
#include "runtime/engine.h"

namespace robocache {

namespace {

// The name users know the first array argument by.
const char* first_input_name(OpKind op) {
  switch (op) {
    case OpKind::Resample: return "data";
    case OpKind::Fuse: return "tgt_times";
    case OpKind::Voxelize: return "points";
  }
  return "inputs";
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

OutputSpec CompiledKernel::plan(const std::vector<ArrayView>& inputs, const std::vector<double>& scalars) const {
  return plan_output(spec_, inputs, scalars);
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

void CompiledKernel::run(const std::vector<ArrayView>& inputs, const std::vector<double>& scalars,
                         const ArrayView& out, void* stream, bool check_values) const {
  const DeviceKind want = target().kind == Target::Kind::Cpu ? DeviceKind::Cpu : DeviceKind::Cuda;
  for (const ArrayView* a : {inputs.empty() ? &out : &inputs[0], &out})
    if (a->device != want)
      throw ArgumentError(a == &out ? "out" : first_input_name(spec_.op()),
                          fmt::format("arrays are on {} but the kernel was compiled for target '{}', which "
                                      "runs on {}",
                                      a->device_text(), target().name(),
                                      want == DeviceKind::Cpu ? "the CPU" : "a CUDA device"));
  const std::vector<BoundLaunch> launches = bind_launches(spec_, inputs, scalars, out, check_values);
  for (const BoundLaunch& bl : launches) launch(bl, out.device_index, stream);
}

void CompiledKernel::launch(const BoundLaunch& bl, int device_index, void* stream) const {
  if (bl.work.rows == 0 || bl.work.items == 0) return;
  loaded().launch(bl.args, bl.work, LaunchPlace{device_index, stream});
  if (engine_) engine_->record_launch();
}

}  // namespace robocache
