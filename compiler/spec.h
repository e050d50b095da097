#pragma once
/// The operation descriptor ("spec"): what a kernel computes, independent of how it runs.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "compiler/dtype.h"
#include "support/json.h"

namespace robocache {

/// Interpolation modes of ops.md §1.
enum class Interp : std::uint8_t { Linear, Nearest, Previous, Cubic, Slerp };

/// Spec spelling of an interpolation mode.
std::string_view interp_name(Interp m);

/// Largest channel count a spec may ask for; keeps generated code and launch shapes sane.
inline constexpr std::int64_t kMaxDim = 1 << 16;
/// Most modalities one fuse spec may hold.
inline constexpr int kMaxModalities = 16;

/// Consecutive channels [start, start+size) resampled with one mode.
struct ChannelGroup {
  std::int64_t start = 0;
  std::int64_t size = 1;
  Interp interp = Interp::Linear;
  bool operator==(const ChannelGroup&) const = default;
};

/// ops.md §1 resample: data [B,S,D] at src_times → [B,T,D] at tgt_times.
struct ResampleSpec {
  DType dtype = DType::F32;       ///< value dtype of data and output
  DType time_dtype = DType::F64;  ///< dtype of src_times and tgt_times
  std::int64_t dim = 1;           ///< channel count D
  Interp interp = Interp::Linear; ///< mode of every channel when `groups` is empty
  std::vector<ChannelGroup> groups;  ///< optional: consecutive groups tiling [0, dim) exactly

  /// The groups that apply: `groups`, or one group of all channels with `interp`.
  std::vector<ChannelGroup> effective_groups() const;
  bool operator==(const ResampleSpec&) const = default;
};

/// One modality of a fuse spec: its channel count and mode (slerp needs dim 4).
struct Modality {
  std::int64_t dim = 1;
  Interp interp = Interp::Linear;
  bool operator==(const Modality&) const = default;
};

/// ops.md §2 fuse: N modalities resampled onto one timeline, concatenated over channels.
struct FuseSpec {
  DType dtype = DType::F32;       ///< value dtype of every modality and the output
  DType time_dtype = DType::F64;  ///< dtype of every time array
  std::vector<Modality> modalities;  ///< 1..kMaxModalities, in argument order

  /// Sum of the modalities' channel counts (the output's last dim).
  std::int64_t total_dim() const;
  /// Channel offset of modality i in the output.
  std::int64_t offset(std::size_t i) const;
  bool operator==(const FuseSpec&) const = default;
};

/// Voxelisation modes of ops.md §3.
enum class VoxelMode : std::uint8_t { Occupancy, Count, Mean, Max };

/// Spec spelling of a voxel mode.
std::string_view voxel_mode_name(VoxelMode m);

/// ops.md §3 voxelize: points [N,3] or [B,N,3] → grid [X,Y,Z] or [B,X,Y,Z] (+F for mean/max).
struct VoxelizeSpec {
  VoxelMode mode = VoxelMode::Occupancy;
  std::int64_t features = 0;       ///< F: feature channels (mean/max only; 0 otherwise)
  DType coord_dtype = DType::F32;  ///< dtype of points
  DType out_dtype = DType::F32;    ///< dtype of the output (and of features for mean/max)
  bool operator==(const VoxelizeSpec&) const = default;
};

/// The kinds of operation a spec can describe.
enum class OpKind : std::uint8_t { Resample, Fuse, Voxelize };

/// A validated spec of any operation.
class Spec {
 public:
  /// Wraps a resample spec, validating it (SpecError naming the field).
  explicit Spec(ResampleSpec s);
  /// Wraps a fuse spec, validating it.
  explicit Spec(FuseSpec s);
  /// Wraps a voxelize spec, validating it.
  explicit Spec(VoxelizeSpec s);

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
  OpKind op() const { return static_cast<OpKind>(v_.index()); }
  /// The resample spec; requires op() == OpKind::Resample.
  const ResampleSpec& resample() const { return std::get<ResampleSpec>(v_); }
  /// The fuse spec; requires op() == OpKind::Fuse.
  const FuseSpec& fuse() const { return std::get<FuseSpec>(v_); }
  /// The voxelize spec; requires op() == OpKind::Voxelize.
  const VoxelizeSpec& voxelize() const { return std::get<VoxelizeSpec>(v_); }

  bool operator==(const Spec& o) const { return v_ == o.v_; }

 private:
  std::variant<ResampleSpec, FuseSpec, VoxelizeSpec> v_;
};

}  // namespace robocache
