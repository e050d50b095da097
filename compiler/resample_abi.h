#pragma once
/// Argument-slot layout of the resample kernel, shared by the runtime and both code generators.
/// templates/resample.cuh mirrors these numbers (it is compiled without this header).
/// Work shape: rows = B, items = T. `out` never overlaps an input. Row b uses only its first
/// L_b source samples (data row stride stays S*D, times row stride stays as given).

namespace robocache::resample_abi {

enum Slot : int {
  kData = 0,        ///< const T*    [B,S,D] contiguous
  kSrcTimes = 1,    ///< const Time* [B,S] or [S]
  kTgtTimes = 2,    ///< const Time* [B,T] or [T]
  kOut = 3,         ///< T*          [B,T,D] contiguous
  kB = 4,           ///< int64 batch
  kS = 5,           ///< int64 source samples
  kT = 6,           ///< int64 target samples
  kSrcRowStride = 7,///< int64 elements between rows of src_times (0 when shared by the batch)
  kTgtRowStride = 8,///< int64 elements between rows of tgt_times (0 when shared by the batch)
  kLengths = 9,     ///< const int64* [B] valid source samples per row (1 <= L_b <= S), or 0: all S
  kValidate = 10,   ///< int64: 1 makes a CUDA kernel check lengths and source times on the device
  kErrorFlag = 11,  ///< uint64* the device's error word (backends/cuda/device_errors.h); set at launch
  kTileTargets = 12,///< int64 targets per block; set at launch (CUDA)
  kSlotCount = 13,
};

}  // namespace robocache::resample_abi
