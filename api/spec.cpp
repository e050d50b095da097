// Public specs: builders go through the same JSON validation as spec files, so a field built in code
// fails with the same SpecError (naming the field) as the same field in a file.
#include "robocache/spec.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "api/convert.h"
#include "support/json.h"
#include "compiler/spec.h"

namespace robocache::api {

namespace {

Json str(std::string_view s) { return Json::string(std::string(s)); }
Json dtype_json(DType t) { return str(dtype_name(t)); }

Json spec_json(const Resample& r) {
  Json::Object o{{"op", str("resample")},        {"dtype", dtype_json(r.dtype)},
                 {"time_dtype", dtype_json(r.time_dtype)}, {"dim", Json::integer(r.dim)},
                 {"interp", str(r.interp)}};
  if (!r.groups.empty()) {
    Json::Array groups;
    for (const ChannelGroup& g : r.groups)
      groups.push_back(Json::object({{"start", Json::integer(g.start)},
                                     {"size", Json::integer(g.size)},
                                     {"interp", str(g.interp)}}));
    o.emplace("groups", Json::array(std::move(groups)));
  }
  return Json::object(std::move(o));
}

Json spec_json(const Fuse& f) {
  Json::Array mods;
  for (const Modality& m : f.modalities)
    mods.push_back(Json::object({{"dim", Json::integer(m.dim)}, {"interp", str(m.interp)}}));
  return Json::object({{"op", str("fuse")},
                       {"dtype", dtype_json(f.dtype)},
                       {"time_dtype", dtype_json(f.time_dtype)},
                       {"modalities", Json::array(std::move(mods))}});
}

Json spec_json(const Voxelize& v) {
  return Json::object({{"op", str("voxelize")},
                       {"mode", str(v.mode)},
                       {"features", Json::integer(v.features)},
                       {"coord_dtype", dtype_json(v.coord_dtype)},
                       {"out_dtype", dtype_json(v.out_dtype)}});
}

std::shared_ptr<const robocache::Spec> parse_object(const Json& j) {
  return std::make_shared<const robocache::Spec>(robocache::Spec::from_json(j));
}

}  // namespace

Spec::Spec(std::shared_ptr<const robocache::Spec> impl) : impl_(std::move(impl)) {}

Spec Spec::parse(std::string_view json_text) {
  return Spec(std::make_shared<const robocache::Spec>(robocache::Spec::parse(json_text)));
}

Spec Spec::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read spec file '" + file.string() + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

Spec::Spec(const Resample& resample) : impl_(parse_object(spec_json(resample))) {}
Spec::Spec(const Fuse& fuse) : impl_(parse_object(spec_json(fuse))) {}
Spec::Spec(const Voxelize& voxelize) : impl_(parse_object(spec_json(voxelize))) {}

std::string Spec::op() const {
  switch (impl_->op()) {
    case OpKind::Resample: return "resample";
    case OpKind::Fuse: return "fuse";
    case OpKind::Voxelize: return "voxelize";
  }
  return "unknown";
}

std::string Spec::to_json() const { return impl_->canonical_json(); }

std::string Spec::hash() const { return impl_->hash(); }

std::optional<Resample> Spec::as_resample() const {
  if (impl_->op() != OpKind::Resample) return std::nullopt;
  const ResampleSpec& s = impl_->resample();
  Resample r;
  r.dtype = to_public(s.dtype);
  r.time_dtype = to_public(s.time_dtype);
  r.dim = s.dim;
  r.interp = std::string(interp_name(s.interp));
  for (const robocache::ChannelGroup& g : s.groups)
    r.groups.push_back({g.start, g.size, std::string(interp_name(g.interp))});
  return r;
}

std::optional<Fuse> Spec::as_fuse() const {
  if (impl_->op() != OpKind::Fuse) return std::nullopt;
  const FuseSpec& s = impl_->fuse();
  Fuse f;
  f.dtype = to_public(s.dtype);
  f.time_dtype = to_public(s.time_dtype);
  for (const robocache::Modality& m : s.modalities) f.modalities.push_back({m.dim, std::string(interp_name(m.interp))});
  return f;
}

std::optional<Voxelize> Spec::as_voxelize() const {
  if (impl_->op() != OpKind::Voxelize) return std::nullopt;
  const VoxelizeSpec& s = impl_->voxelize();
  return Voxelize{std::string(voxel_mode_name(s.mode)), s.features, to_public(s.coord_dtype), to_public(s.out_dtype)};
}

}  // namespace robocache::api
