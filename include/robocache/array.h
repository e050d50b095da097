#pragma once
/// Arrays in the public API: a borrowed pointer with dtype, shape and device; the caller owns the memory.
#include <cstdint>
#include <utility>
#include <vector>

#include "robocache/dtype.h"

namespace robocache::api {

/// Where an array's memory lives.
enum class Device : std::uint8_t { Cpu, Cuda };

/// A caller's array: pointer, dtype, shape and optional strides (in elements). An Array with an
/// empty shape stands for an absent optional argument (e.g. no `lengths`).
struct Array {
  const void* data = nullptr;          ///< first element (written through for outputs)
  DType dtype = DType::F32;            ///< element type
  std::vector<std::int64_t> shape;     ///< dims, outermost first
  std::vector<std::int64_t> strides;   ///< in elements; empty means C-contiguous
  Device device = Device::Cpu;         ///< host or CUDA device memory
  int device_index = 0;                ///< CUDA device ordinal

  /// An absent optional argument.
  Array() = default;
  /// Host memory of any dtype, C-contiguous.
  Array(const void* p, DType t, std::vector<std::int64_t> dims) : data(p), dtype(t), shape(std::move(dims)) {}
  /// Host float32 memory, C-contiguous.
  Array(const float* p, std::vector<std::int64_t> dims) : Array(p, DType::F32, std::move(dims)) {}
  /// Host float64 memory, C-contiguous.
  Array(const double* p, std::vector<std::int64_t> dims) : Array(p, DType::F64, std::move(dims)) {}
  /// Host int32 memory, C-contiguous.
  Array(const std::int32_t* p, std::vector<std::int64_t> dims) : Array(p, DType::I32, std::move(dims)) {}
  /// Host int64 memory, C-contiguous.
  Array(const std::int64_t* p, std::vector<std::int64_t> dims) : Array(p, DType::I64, std::move(dims)) {}
  /// Host uint8 memory, C-contiguous.
  Array(const std::uint8_t* p, std::vector<std::int64_t> dims) : Array(p, DType::U8, std::move(dims)) {}

  /// CUDA device memory (a CUdeviceptr or a pointer from cudaMalloc), C-contiguous.
  static Array cuda(const void* p, DType t, std::vector<std::int64_t> dims, int device = 0) {
    Array a(p, t, std::move(dims));
    a.device = Device::Cuda;
    a.device_index = device;
    return a;
  }
  /// Number of elements (1 for a 0-d array).
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// What to allocate before a launch: the output, and for voxelize mean/max an int32 scratch array.
struct OutputPlan {
  std::vector<std::int64_t> shape;          ///< output dims
  DType dtype = DType::F32;                 ///< output element type
  std::vector<std::int64_t> scratch_shape;  ///< int32 scratch dims; empty when none is needed

  /// Number of output elements.
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

}  // namespace robocache::api
