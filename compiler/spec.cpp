#include "compiler/spec.h"

#include <optional>
#include <set>

#include <fmt/format.h>

#include "support/errors.h"
#include "support/sha256.h"
#include "support/user_text.h"

namespace robocache {

namespace {

constexpr std::string_view kInterpNames[] = {"linear", "nearest", "previous", "cubic", "slerp"};
constexpr std::string_view kVoxelModeNames[] = {"occupancy", "count", "mean", "max"};

template <std::size_t N>
std::string one_of(const std::string_view (&names)[N]) {
  std::string out;
  for (auto n : names) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", n);
  return out;
}

std::string join_dtypes(std::initializer_list<DType> allowed) {
  std::string list;
  for (DType a : allowed) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", dtype_name(a));
  return list;
}

// Reads fields of one JSON object, remembering which were used so leftovers can be rejected.
class FieldReader {
 public:
  FieldReader(const Json& j, std::string path) : path_(std::move(path)) {
    if (!j.is_object())
      throw SpecError(path_.empty() ? "<spec>" : path_,
                      fmt::format("expected an object, got {}", j.type_name()));
    obj_ = &j.as_object();
  }

  const Json* find(std::string_view key) {
    seen_.insert(std::string(key));
    auto it = obj_->find(key);
    return it == obj_->end() ? nullptr : &it->second;
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  std::string string(std::string_view key, const char* fallback) {
    const Json* v = find(key);
    if (!v) {
      if (fallback) return fallback;
      throw SpecError(field(key), "is required");
    }
    if (!v->is_string())
      throw SpecError(field(key), fmt::format("expected a string, got {}", v->type_name()));
    return v->as_string();
  }

  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                       std::optional<std::int64_t> fallback = std::nullopt) {
    const Json* v = find(key);
    if (!v) {
      if (fallback) return *fallback;
      throw SpecError(field(key), "is required");
    }
    if (!v->is_int())
      throw SpecError(field(key), fmt::format("expected an integer, got {}", v->type_name()));
    if (v->as_int() < lo || v->as_int() > hi)
      throw SpecError(field(key), fmt::format("must be in [{}, {}], got {}", lo, hi, v->as_int()));
    return v->as_int();
  }

  DType dtype(std::string_view key, const char* fallback, std::initializer_list<DType> allowed) {
    std::string name = string(key, fallback);
    auto t = parse_dtype(name);
    for (DType a : allowed)
      if (t && *t == a) return a;
    throw SpecError(field(key), fmt::format("unknown dtype '{}' (expected one of {})", shown(name),
                                            join_dtypes(allowed)));
  }

  Interp interp(std::string_view key) {
    std::string name = string(key, "linear");
    for (std::size_t i = 0; i < std::size(kInterpNames); ++i)
      if (kInterpNames[i] == name) return static_cast<Interp>(i);
    throw SpecError(field(key), fmt::format("unknown interpolation mode '{}' (expected one of {})",
                                            shown(name), one_of(kInterpNames)));
  }

  const Json::Array* array(std::string_view key) {
    const Json* v = find(key);
    if (!v) return nullptr;
    if (!v->is_array())
      throw SpecError(field(key), fmt::format("expected a list, got {}", v->type_name()));
    return &v->as_array();
  }

  void reject_unknown() const {
    for (const auto& [k, v] : *obj_)
      if (!seen_.count(k)) throw SpecError(field(shown(k)), "unknown key");
  }

 private:
  const Json::Object* obj_ = nullptr;
  std::string path_;
  std::set<std::string> seen_;
};

constexpr std::initializer_list<DType> kValueDTypes = {DType::F32, DType::F16, DType::BF16, DType::F64};
constexpr std::initializer_list<DType> kTimeDTypes = {DType::F32, DType::F64};

bool allowed(DType t, std::initializer_list<DType> set) {
  for (DType a : set)
    if (a == t) return true;
  return false;
}

void check_value_and_time(DType dtype, DType time_dtype) {
  if (!allowed(dtype, kValueDTypes))
    throw SpecError("dtype", fmt::format("'{}' is not a value dtype (expected one of {})",
                                         dtype_name(dtype), join_dtypes(kValueDTypes)));
  if (!allowed(time_dtype, kTimeDTypes))
    throw SpecError("time_dtype", fmt::format("'{}' is not a time dtype (expected one of {})",
                                              dtype_name(time_dtype), join_dtypes(kTimeDTypes)));
}

void validate(const ResampleSpec& s) {
  check_value_and_time(s.dtype, s.time_dtype);
  if (s.dim < 1 || s.dim > kMaxDim)
    throw SpecError("dim", fmt::format("must be in [1, {}], got {}", kMaxDim, s.dim));
  if (s.groups.empty()) {
    if (s.interp == Interp::Slerp && s.dim != 4)
      throw SpecError("interp", fmt::format("'slerp' needs exactly 4 channels (a quaternion x, y, z, w), "
                                            "got dim {}; use groups to slerp 4 of them",
                                            s.dim));
    return;
  }
  std::int64_t next = 0;
  for (std::size_t i = 0; i < s.groups.size(); ++i) {
    const ChannelGroup& g = s.groups[i];
    const std::string where = fmt::format("groups[{}]", i);
    if (g.size < 1) throw SpecError(where + ".size", fmt::format("must be >= 1, got {}", g.size));
    if (g.start != next)
      throw SpecError(where + ".start",
                      fmt::format("groups must tile the channels in order: expected start {}, got {}",
                                  next, g.start));
    if (g.interp == Interp::Slerp && g.size != 4)
      throw SpecError(where + ".size", fmt::format("a 'slerp' group must have size 4 (x, y, z, w), got {}", g.size));
    next = g.start + g.size;
    if (next > s.dim)
      throw SpecError(where + ".size", fmt::format("group ends at channel {} beyond dim {}", next, s.dim));
  }
  if (next != s.dim)
    throw SpecError("groups", fmt::format("groups cover channels [0, {}) but dim is {}", next, s.dim));
}

void validate(const FuseSpec& s) {
  check_value_and_time(s.dtype, s.time_dtype);
  if (s.modalities.empty() || s.modalities.size() > kMaxModalities)
    throw SpecError("modalities", fmt::format("needs 1 to {} modalities, got {}", kMaxModalities,
                                              s.modalities.size()));
  for (std::size_t i = 0; i < s.modalities.size(); ++i) {
    const Modality& m = s.modalities[i];
    if (m.dim < 1 || m.dim > kMaxDim)
      throw SpecError(fmt::format("modalities[{}].dim", i), fmt::format("must be in [1, {}], got {}", kMaxDim, m.dim));
    if (m.interp == Interp::Slerp && m.dim != 4)
      throw SpecError(fmt::format("modalities[{}].interp", i),
                      fmt::format("'slerp' needs a modality of exactly 4 channels, got dim {}", m.dim));
  }
  if (s.total_dim() > kMaxDim)
    throw SpecError("modalities", fmt::format("total channels {} exceed {}", s.total_dim(), kMaxDim));
}

std::initializer_list<DType> voxel_out_dtypes(VoxelMode m) {
  static constexpr std::initializer_list<DType> occupancy = {DType::F32, DType::F64, DType::U8, DType::I32};
  static constexpr std::initializer_list<DType> count = {DType::I32};
  static constexpr std::initializer_list<DType> feature = {DType::F32, DType::F64};
  return m == VoxelMode::Occupancy ? occupancy : (m == VoxelMode::Count ? count : feature);
}

void validate(const VoxelizeSpec& s) {
  if (!allowed(s.coord_dtype, kTimeDTypes))
    throw SpecError("coord_dtype", fmt::format("'{}' is not a coordinate dtype (expected one of {})",
                                               dtype_name(s.coord_dtype), join_dtypes(kTimeDTypes)));
  if (!allowed(s.out_dtype, voxel_out_dtypes(s.mode)))
    throw SpecError("out_dtype", fmt::format("'{}' is not an output dtype of mode '{}' (expected one of {})",
                                             dtype_name(s.out_dtype), voxel_mode_name(s.mode),
                                             join_dtypes(voxel_out_dtypes(s.mode))));
  const bool needs_features = s.mode == VoxelMode::Mean || s.mode == VoxelMode::Max;
  if (needs_features && (s.features < 1 || s.features > kMaxDim))
    throw SpecError("features", fmt::format("mode '{}' needs 1 to {} feature channels, got {}",
                                            voxel_mode_name(s.mode), kMaxDim, s.features));
  if (!needs_features && s.features != 0)
    throw SpecError("features", fmt::format("mode '{}' takes no features, got {}", voxel_mode_name(s.mode), s.features));
}

Json interp_json(Interp m) { return Json::string(std::string(interp_name(m))); }
Json dtype_json(DType t) { return Json::string(std::string(dtype_name(t))); }

Spec parse_resample(FieldReader& r) {
  ResampleSpec s;
  s.dtype = r.dtype("dtype", nullptr, kValueDTypes);
  s.time_dtype = r.dtype("time_dtype", "f64", kTimeDTypes);
  s.dim = r.integer("dim", 1, kMaxDim);
  const bool interp_given = r.find("interp") != nullptr;
  s.interp = r.interp("interp");
  if (const Json::Array* groups = r.array("groups")) {
    if (groups->empty()) throw SpecError("groups", "must not be empty (omit it for one mode)");
    // Beside groups the top-level mode is unused; a value other than the default would be a silent
    // no-op (and a different cache key for the same kernel), so it is refused. "linear" stays
    // accepted because the canonical form writes it.
    if (interp_given && s.interp != Interp::Linear)
      throw SpecError("interp", fmt::format("'{}' has no effect beside 'groups' (each group has its own "
                                            "interp); remove it or move it into the groups",
                                            interp_name(s.interp)));
    for (std::size_t i = 0; i < groups->size(); ++i) {
      FieldReader g((*groups)[i], fmt::format("groups[{}]", i));
      ChannelGroup cg;
      cg.start = g.integer("start", 0, kMaxDim);
      cg.size = g.integer("size", 1, kMaxDim);
      cg.interp = g.interp("interp");
      g.reject_unknown();
      s.groups.push_back(cg);
    }
  }
  r.reject_unknown();
  return Spec(s);
}

Spec parse_fuse(FieldReader& r) {
  FuseSpec s;
  s.dtype = r.dtype("dtype", nullptr, kValueDTypes);
  s.time_dtype = r.dtype("time_dtype", "f64", kTimeDTypes);
  const Json::Array* mods = r.array("modalities");
  if (!mods) throw SpecError("modalities", "is required");
  for (std::size_t i = 0; i < mods->size(); ++i) {
    FieldReader m((*mods)[i], fmt::format("modalities[{}]", i));
    Modality mod;
    mod.dim = m.integer("dim", 1, kMaxDim);
    mod.interp = m.interp("interp");
    m.reject_unknown();
    s.modalities.push_back(mod);
  }
  r.reject_unknown();
  return Spec(s);
}

Spec parse_voxelize(FieldReader& r) {
  VoxelizeSpec s;
  std::string mode = r.string("mode", "occupancy");
  bool known = false;
  for (std::size_t i = 0; i < std::size(kVoxelModeNames); ++i)
    if (kVoxelModeNames[i] == mode) {
      s.mode = static_cast<VoxelMode>(i);
      known = true;
    }
  if (!known)
    throw SpecError("mode", fmt::format("unknown voxel mode '{}' (expected one of {})", shown(mode), one_of(kVoxelModeNames)));
  s.features = r.integer("features", 0, kMaxDim, 0);
  s.coord_dtype = r.dtype("coord_dtype", "f32", kTimeDTypes);
  const char* default_out = s.mode == VoxelMode::Count ? "i32" : "f32";
  s.out_dtype = r.dtype("out_dtype", default_out, {DType::F32, DType::F64, DType::U8, DType::I32});
  r.reject_unknown();
  return Spec(s);
}

}  // namespace

std::string_view interp_name(Interp m) { return kInterpNames[static_cast<int>(m)]; }
std::string_view voxel_mode_name(VoxelMode m) { return kVoxelModeNames[static_cast<int>(m)]; }

std::vector<ChannelGroup> ResampleSpec::effective_groups() const {
  if (!groups.empty()) return groups;
  return {ChannelGroup{0, dim, interp}};
}

std::int64_t FuseSpec::total_dim() const {
  std::int64_t d = 0;
  for (const auto& m : modalities) d += m.dim;
  return d;
}

std::int64_t FuseSpec::offset(std::size_t i) const {
  std::int64_t d = 0;
  for (std::size_t k = 0; k < i; ++k) d += modalities[k].dim;
  return d;
}

Spec::Spec(ResampleSpec s) : v_(s) { validate(s); }
Spec::Spec(FuseSpec s) : v_(s) { validate(s); }
Spec::Spec(VoxelizeSpec s) : v_(s) { validate(s); }

Spec Spec::parse(std::string_view json_text) {
  // Editors on some systems save JSON with a UTF-8 byte-order mark; JSON parsers may ignore it.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (json_text.substr(0, kBom.size()) == kBom) json_text.remove_prefix(kBom.size());
  Json j;
  try {
    j = Json::parse(json_text);
  } catch (const std::invalid_argument& e) {
    throw SpecError("<spec>", e.what());
  }
  return from_json(j);
}

Spec Spec::from_json(const Json& j) {
  FieldReader r(j, "");
  std::string op = r.string("op", nullptr);
  if (op == "resample") return parse_resample(r);
  if (op == "fuse") return parse_fuse(r);
  if (op == "voxelize") return parse_voxelize(r);
  throw SpecError("op", fmt::format("unknown operation '{}' (expected 'resample', 'fuse' or 'voxelize')", shown(op)));
}

Json Spec::to_json() const {
  Json::Object o;
  switch (op()) {
    case OpKind::Resample: {
      const ResampleSpec& s = resample();
      o["op"] = Json::string("resample");
      o["dtype"] = dtype_json(s.dtype);
      o["time_dtype"] = dtype_json(s.time_dtype);
      o["dim"] = Json::integer(s.dim);
      o["interp"] = interp_json(s.interp);
      if (!s.groups.empty()) {
        Json::Array groups;
        for (const auto& g : s.groups)
          groups.push_back(Json::object({{"start", Json::integer(g.start)},
                                         {"size", Json::integer(g.size)},
                                         {"interp", interp_json(g.interp)}}));
        o["groups"] = Json::array(std::move(groups));
      }
      break;
    }
    case OpKind::Fuse: {
      const FuseSpec& s = fuse();
      o["op"] = Json::string("fuse");
      o["dtype"] = dtype_json(s.dtype);
      o["time_dtype"] = dtype_json(s.time_dtype);
      Json::Array mods;
      for (const auto& m : s.modalities)
        mods.push_back(Json::object({{"dim", Json::integer(m.dim)}, {"interp", interp_json(m.interp)}}));
      o["modalities"] = Json::array(std::move(mods));
      break;
    }
    case OpKind::Voxelize: {
      const VoxelizeSpec& s = voxelize();
      o["op"] = Json::string("voxelize");
      o["mode"] = Json::string(std::string(voxel_mode_name(s.mode)));
      o["features"] = Json::integer(s.features);
      o["coord_dtype"] = dtype_json(s.coord_dtype);
      o["out_dtype"] = dtype_json(s.out_dtype);
      break;
    }
  }
  return Json::object(std::move(o));
}

std::string Spec::canonical_json() const { return to_json().dump(); }

std::string Spec::hash() const { return sha256_hex(canonical_json()); }

}  // namespace robocache
