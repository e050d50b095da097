#pragma once
/// Argument-slot layout of the resample kernel, shared by the runtime and both code generators.
/// templates/resample.cuh mirrors these numbers (it is compiled without this header).

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
  kSlotCount = 9,
};

}  // namespace robocache::resample_abi
