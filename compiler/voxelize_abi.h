#pragma once
/// Argument-slot layout of the voxelize kernel (ops.md §3), shared by the runtime and both code
/// generators.
///
/// One kernel, launched in phases (the `kPhase` slot) on the same stream:
///   phase 0, clear:    the cells of the range. CUDA: out := 0, counts := 0 (mean); CPU: out := 0
///                      (max: NaN), counts := 0.
///   phase 1, scatter:  work rows = B, items = N. Point n of row b (n < L_b) with voxel index
///                      i = floor((p - grid_min) / voxel_size) per axis, computed in the coord
///                      dtype without fast-math; dropped if any index is outside [0, shape) or any
///                      coordinate is NaN. occupancy: out[v] = 1; count: out[v] += 1 (atomic);
///                      mean: out[v,f] += feature, counts[v] += 1; max: out[v,f] = max(...)
///                      (CUDA: an integer max of order-preserving keys, templates/voxelize.cuh;
///                      CPU: a compare-exchange, counts[v] += 1). CUDA skips points whose cell is
///                      outside the range.
///   phase 2, finalize (mean and max only): the cells of the range. mean: out /= counts (0 where
///                      counts is 0); max: 0 where empty.
/// The range (kCellLo, kCellHi) is of flat cells over all rows; kCellHi = 0 means every cell. The
/// CPU kernels ignore it and are always launched with the whole grid. On CUDA a grid larger than
/// kCudaPassBytes is split into ranges, each cleared, scattered and finalised before the next, so
/// its atomics meet in L2 (ncu, 4M points into 256^3 counts on an H200: one pass read and wrote
/// 254 MB of DRAM, one 32-byte sector each way per point).
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
  kCellLo = 18,   ///< int64 first flat cell (over all rows) of the launch's range (CUDA)
  kCellHi = 19,   ///< int64 one past its last cell; 0: every cell
  kSlotCount = 20,
};

/// CUDA: the most grid bytes (output and counts) one range covers, about 80% of an H100's or
/// H200's 50 MB L2, so a range stays in L2 while the points stream past it. Measured on the H200
/// (bench/results/gpu-h200-2026-12-02-voxpass-*.jsonl): 4M points into 256^3 counts (67 MB) took
/// 168 us in one pass, 108 us in two ranges, 128 us in three; a 33 MB max grid was 110 us in one
/// pass and 125 us in two (re-reading the points costs more than the L2 saves).
inline constexpr long long kCudaPassBytes = 40ll << 20;

/// The phases, in launch order.
enum Phase : int { kClear = 0, kScatter = 1, kFinalize = 2 };

}  // namespace robocache::voxelize_abi
