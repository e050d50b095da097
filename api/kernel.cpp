#include "robocache/kernel.h"

#include "api/convert.h"
#include "runtime/compiled_kernel.h"
#include "runtime/engine.h"

namespace robocache::api {

namespace {

std::vector<ArrayView> to_views(const std::vector<Array>& arrays) {
  std::vector<ArrayView> views;
  views.reserve(arrays.size());
  for (const Array& a : arrays) views.push_back(to_view(a));
  return views;
}

}  // namespace

Kernel::Kernel(std::shared_ptr<robocache::Engine> engine, std::shared_ptr<const robocache::CompiledKernel> impl)
    : engine_(std::move(engine)), impl_(std::move(impl)) {}

Spec Kernel::spec() const { return Spec::parse(impl_->spec().canonical_json()); }

const std::string& Kernel::key() const { return impl_->key(); }

std::string Kernel::target() const { return impl_->target().name(); }

const std::string& Kernel::origin() const { return impl_->origin(); }

std::string Kernel::source() const { return impl_->source(); }

OutputPlan Kernel::plan(const std::vector<Array>& inputs, const std::vector<double>& scalars) const {
  OutputSpec o = impl_->plan(to_views(inputs), scalars);
  return OutputPlan{std::move(o.shape), to_public(o.dtype), std::move(o.scratch_shape)};
}

void Kernel::run(const std::vector<Array>& inputs, const std::vector<double>& scalars, const Array& out,
                 void* stream, bool check_values) const {
  impl_->run(to_views(inputs), scalars, to_view(out), stream, check_values);
}

}  // namespace robocache::api
