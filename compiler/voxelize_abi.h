#pragma once
/// Argument-slot layout of the voxelize kernel (ops.md §3), shared by the runtime and both code
/// generators.
///
/// One kernel, launched in phases (the `kPhase` slot) on the same stream:
///   phase 0, clear:    work rows = B, items = X*Y*Z. out := 0 (max: out := -inf); counts := 0.
///   phase 1, scatter:  work rows = B, items = N. Point n of row b (n < L_b) with voxel index
///                      i = floor((p - grid_min) / voxel_size) per axis, computed in the coord
///                      dtype without fast-math; dropped if any index is outside [0, shape) or any
///                      coordinate is NaN. occupancy: out[v] = 1; count: out[v] += 1 (atomic);
///                      mean: out[v,f] += feature, counts[v] += 1; max: out[v,f] = max(...),
///                      counts[v] += 1.
///   phase 2, finalize (mean and max only): rows = B, items = X*Y*Z. mean: out /= counts
///                      (0 where counts is 0); max: 0 where counts is 0.
/// Cells are x-major: flat index ((i*Y + j)*Z + k), then F feature channels for mean/max.

namespace robocache::voxelize_abi {

enum Slot : int {
  kPoints = 0,    ///< const Coord* [B,N,3] contiguous (B = 1 for one cloud)
  kFeatures = 1,  ///< const Out*   [B,N,F] contiguous (mean/max), else 0
  kLengths = 2,   ///< const int64* [B] valid points per row (0 <= L_b <= N), or 0: all N
  kOut = 3,       ///< Out*         [B,X,Y,Z] or [B,X,Y,Z,F]
  kCounts = 4,    ///< int32*       [B,X,Y,Z] scratch for mean/max, else 0
  kB = 5,         ///< int64
  kN = 6,         ///< int64 points per row
  kGridMinX = 7,  ///< double bits (std::bit_cast<uint64_t>(double)); Y = 8, Z = 9
  kVoxelSizeX = 10,  ///< double bits; Y = 11, Z = 12 (all > 0)
  kShapeX = 13,   ///< int64 X; Y = 14, Z = 15
  kPhase = 16,    ///< int64: 0 clear, 1 scatter, 2 finalize
  kErrorFlag = 17,///< uint64* the device's error word (backends/cuda/device_errors.h); set at launch (CUDA)
  kSlotCount = 18,
};

/// The phases, in launch order.
enum Phase : int { kClear = 0, kScatter = 1, kFinalize = 2 };

}  // namespace robocache::voxelize_abi
