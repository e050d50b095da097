#pragma once
/// Specs in the public API: parsed from JSON text (a config file) or built in code.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "robocache/dtype.h"

namespace robocache {
class Spec;  // the library's internal spec; consumers never see its definition
}

namespace robocache::api {

/// Consecutive channels [start, start+size) resampled with one mode ("linear", "slerp", ...).
struct ChannelGroup {
  std::int64_t start = 0;         ///< first channel
  std::int64_t size = 1;          ///< channel count (4 for "slerp")
  std::string interp = "linear";  ///< interpolation mode, spelled as in a JSON spec
};

/// docs/semantics.md resample: data [B,S,D] at src_times onto tgt_times → [B,T,D].
struct Resample {
  DType dtype = DType::F32;            ///< value dtype: f32, f16, bf16 or f64
  DType time_dtype = DType::F64;       ///< time dtype: f64 or f32
  std::int64_t dim = 1;                ///< channel count D
  std::string interp = "linear";       ///< mode of every channel when `groups` is empty
  std::vector<ChannelGroup> groups;    ///< optional: groups tiling [0, dim) in order
};

/// One stream of a fuse spec: its channel count and interpolation mode.
struct Modality {
  std::int64_t dim = 1;           ///< channel count D_i
  std::string interp = "linear";  ///< interpolation mode
};

/// docs/semantics.md fuse: several streams onto one timeline, concatenated over channels.
struct Fuse {
  DType dtype = DType::F32;          ///< value dtype shared by every stream
  DType time_dtype = DType::F64;     ///< time dtype shared by every stream
  std::vector<Modality> modalities;  ///< 1 to 16 streams, in argument order
};

/// docs/semantics.md voxelize: points [N,3] or [B,N,3] → grid [(B,)X,Y,Z(,F)].
struct Voxelize {
  std::string mode = "occupancy";  ///< "occupancy", "count", "mean" or "max"
  std::int64_t features = 0;       ///< feature channels F ("mean"/"max" only)
  DType coord_dtype = DType::F32;  ///< dtype of the points: f32 or f64
  DType out_dtype = DType::F32;    ///< dtype of the grid (and of the features for mean/max)
};

/// A validated spec; an immutable value, cheap to copy. Invalid input throws SpecError naming the field.
class Spec {
 public:
  /// Parses a JSON spec such as {"op": "resample", "dtype": "f32", "dim": 7}.
  static Spec parse(std::string_view json_text);
  /// Reads and parses a JSON spec file (std::runtime_error naming the file when it cannot be read).
  static Spec load(const std::filesystem::path& file);
  /// A resample spec built in code.
  Spec(const Resample& resample);  // NOLINT(google-explicit-constructor): a builder converts to its spec
  /// A fuse spec built in code.
  Spec(const Fuse& fuse);  // NOLINT(google-explicit-constructor)
  /// A voxelize spec built in code.
  Spec(const Voxelize& voxelize);  // NOLINT(google-explicit-constructor)

  /// "resample", "fuse" or "voxelize".
  std::string op() const;
  /// Canonical JSON text: sorted keys, every default filled in; equal specs give equal text.
  std::string to_json() const;
  /// Hex SHA-256 of the canonical JSON, stable across processes and machines.
  std::string hash() const;
  /// The resample fields, or nullopt for another op (e.g. to read a channel layout from a file).
  std::optional<Resample> as_resample() const;
  /// The fuse fields, or nullopt for another op.
  std::optional<Fuse> as_fuse() const;
  /// The voxelize fields, or nullopt for another op.
  std::optional<Voxelize> as_voxelize() const;

  /// The internal spec (for the library's own implementation).
  const robocache::Spec& internal() const { return *impl_; }

 private:
  explicit Spec(std::shared_ptr<const robocache::Spec> impl);
  std::shared_ptr<const robocache::Spec> impl_;
};

}  // namespace robocache::api
