#pragma once
/// Argument-slot layout of the fuse kernel (ops.md §2), shared by the runtime and both code
/// generators. Work shape: rows = B, items = T; one launch computes every modality.
/// Modality i (0-based, i < N from the spec) is resampled exactly as resample does and written at
/// channel offset D_0 + ... + D_{i-1} of out [B, T, sum D_i] (contiguous).

namespace robocache::fuse_abi {

enum Slot : int {
  kOut = 0,           ///< T*          [B,T,sum D_i] contiguous
  kTgtTimes = 1,      ///< const Time* [B,T] or [T]
  kB = 2,             ///< int64 batch
  kT = 3,             ///< int64 target samples
  kTgtRowStride = 4,  ///< int64 (0 when tgt_times is shared by the batch)
  kValidate = 5,      ///< int64: 1 makes a CUDA kernel check lengths and source times on the device
  kErrorFlag = 6,     ///< uint64* the device's error word (backends/cuda/device_errors.h); set at launch
  kTileTargets = 7,   ///< int64 targets per block; set at launch (CUDA)
  kFirstModality = 8, ///< modality i's slots start at kFirstModality + kSlotsPerModality * i
};

/// Slots of one modality, relative to its first slot.
enum ModalitySlot : int {
  kData = 0,          ///< const T*    [B,S_i,D_i] contiguous
  kTimes = 1,         ///< const Time* [B,S_i] or [S_i]
  kS = 2,             ///< int64 S_i
  kTimesRowStride = 3,///< int64 (0 when shared by the batch)
  kLengths = 4,       ///< const int64* [B] valid samples per row, or 0: all S_i
  kSlotsPerModality = 5,
};

/// First slot of modality i.
constexpr int modality_slot(int i, ModalitySlot s) { return kFirstModality + kSlotsPerModality * i + s; }

}  // namespace robocache::fuse_abi
