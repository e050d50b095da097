#pragma once
/// The operation descriptor ("spec"): what a kernel computes, independent of how it runs.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "compiler/dtype.h"
#include "compiler/json.h"

namespace robocache {

/// Interpolation modes of ops.md §1.
enum class Interp : std::uint8_t { Linear };

/// Spec spelling of an interpolation mode.
std::string_view interp_name(Interp m);

/// Largest channel count a spec may ask for; keeps generated code and launch shapes sane.
inline constexpr std::int64_t kMaxDim = 1 << 16;

/// ops.md §1 resample: data [B,S,D] at src_times → [B,T,D] at tgt_times.
struct ResampleSpec {
  DType dtype = DType::F32;       ///< value dtype of data and output
  DType time_dtype = DType::F64;  ///< dtype of src_times and tgt_times
  std::int64_t dim = 1;           ///< channel count D
  Interp interp = Interp::Linear; ///< interpolation mode for every channel
  bool operator==(const ResampleSpec&) const = default;
};

/// The kinds of operation a spec can describe.
enum class OpKind : std::uint8_t { Resample };

/// A validated spec of any operation.
class Spec {
 public:
  /// Wraps a resample spec, validating it.
  explicit Spec(ResampleSpec s);

  /// Parses and validates a JSON document; throws SpecError naming the field.
  static Spec parse(std::string_view json_text);
  /// Validates a parsed JSON object; throws SpecError naming the field.
  static Spec from_json(const Json& j);

  /// The spec as a JSON object with every field present (defaults filled in).
  Json to_json() const;
  /// Canonical JSON text: sorted keys, defaults filled in; equal specs give equal text.
  std::string canonical_json() const;
  /// Hex SHA-256 of the canonical JSON: stable across key order, processes and machines.
  std::string hash() const;

  /// Which operation this is.
  OpKind op() const;
  /// The resample spec; requires op() == OpKind::Resample.
  const ResampleSpec& resample() const { return std::get<ResampleSpec>(v_); }

  bool operator==(const Spec& o) const { return v_ == o.v_; }

 private:
  std::variant<ResampleSpec> v_;
};

}  // namespace robocache
