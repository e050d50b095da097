#pragma once
/// A borrowed view of a caller's array (numpy, torch, DLPack...), as the runtime sees it.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/dtype.h"

namespace robocache {

/// Where an array's memory lives.
enum class DeviceKind { Cpu, Cuda };

/// Pointer, dtype, shape and strides (in elements) of an array the runtime does not own.
struct ArrayView {
  const void* data = nullptr;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  ///< in elements; empty means C-contiguous
  DeviceKind device = DeviceKind::Cpu;
  int device_index = 0;

  /// Number of elements.
  std::int64_t numel() const;
  /// True when the strides are those of a dense row-major array (size-1 dims ignored).
  bool is_contiguous() const;
  /// "[2, 3, 4]".
  std::string shape_text() const;
  /// "cpu" or "cuda:0".
  std::string device_text() const;
};

}  // namespace robocache
