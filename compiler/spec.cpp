#include "compiler/spec.h"

#include <set>

#include <fmt/format.h>

#include "compiler/errors.h"
#include "compiler/sha256.h"

namespace robocache {

namespace {

constexpr std::string_view kInterpNames[] = {"linear"};

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

  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
    const Json* v = find(key);
    if (!v) throw SpecError(field(key), "is required");
    if (!v->is_int())
      throw SpecError(field(key), fmt::format("expected an integer, got {}", v->type_name()));
    if (v->as_int() < lo || v->as_int() > hi)
      throw SpecError(field(key),
                      fmt::format("must be in [{}, {}], got {}", lo, hi, v->as_int()));
    return v->as_int();
  }

  DType dtype(std::string_view key, const char* fallback, std::initializer_list<DType> allowed) {
    std::string name = string(key, fallback);
    auto t = parse_dtype(name);
    bool ok = false;
    for (DType a : allowed) ok = ok || (t && *t == a);
    if (!ok) {
      std::string list;
      for (DType a : allowed) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", dtype_name(a));
      throw SpecError(field(key), fmt::format("unknown dtype '{}' (expected one of {})", name, list));
    }
    return *t;
  }

  void reject_unknown() const {
    for (const auto& [k, v] : *obj_)
      if (!seen_.count(k)) throw SpecError(field(k), "unknown key");
  }

 private:
  const Json::Object* obj_ = nullptr;
  std::string path_;
  std::set<std::string> seen_;
};

Interp parse_interp(FieldReader& r, std::string_view key) {
  std::string name = r.string(key, "linear");
  for (std::size_t i = 0; i < std::size(kInterpNames); ++i)
    if (kInterpNames[i] == name) return static_cast<Interp>(i);
  throw SpecError(r.field(key), fmt::format("unknown interpolation mode '{}' (expected 'linear')", name));
}

void validate(const ResampleSpec& s) {
  if (!is_float(s.dtype))
    throw SpecError("dtype", fmt::format("'{}' is not a value dtype", dtype_name(s.dtype)));
  if (s.time_dtype != DType::F32 && s.time_dtype != DType::F64)
    throw SpecError("time_dtype", fmt::format("'{}' is not a time dtype", dtype_name(s.time_dtype)));
  if (s.dim < 1 || s.dim > kMaxDim)
    throw SpecError("dim", fmt::format("must be in [1, {}], got {}", kMaxDim, s.dim));
}

}  // namespace

std::string_view interp_name(Interp m) { return kInterpNames[static_cast<int>(m)]; }

Spec::Spec(ResampleSpec s) : v_(s) { validate(s); }

Spec Spec::parse(std::string_view json_text) {
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
  if (op != "resample")
    throw SpecError("op", fmt::format("unknown operation '{}' (expected 'resample')", op));
  ResampleSpec s;
  s.dtype = r.dtype("dtype", nullptr, {DType::F32, DType::F16, DType::BF16, DType::F64});
  s.time_dtype = r.dtype("time_dtype", "f64", {DType::F32, DType::F64});
  s.dim = r.integer("dim", 1, kMaxDim);
  s.interp = parse_interp(r, "interp");
  r.reject_unknown();
  return Spec(s);
}

Json Spec::to_json() const {
  const ResampleSpec& s = resample();
  Json::Object o;
  o["op"] = Json::string("resample");
  o["dtype"] = Json::string(std::string(dtype_name(s.dtype)));
  o["time_dtype"] = Json::string(std::string(dtype_name(s.time_dtype)));
  o["dim"] = Json::integer(s.dim);
  o["interp"] = Json::string(std::string(interp_name(s.interp)));
  return Json::object(std::move(o));
}

std::string Spec::canonical_json() const { return to_json().dump(); }

std::string Spec::hash() const { return sha256_hex(canonical_json()); }

OpKind Spec::op() const { return OpKind::Resample; }

}  // namespace robocache
