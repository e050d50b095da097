#include "api/convert.h"

namespace robocache::api {

// Both enums list the dtypes in the same order; the static_asserts keep it that way.
static_assert(static_cast<int>(DType::F16) == static_cast<int>(robocache::DType::F16));
static_assert(static_cast<int>(DType::BF16) == static_cast<int>(robocache::DType::BF16));
static_assert(static_cast<int>(DType::F32) == static_cast<int>(robocache::DType::F32));
static_assert(static_cast<int>(DType::F64) == static_cast<int>(robocache::DType::F64));
static_assert(static_cast<int>(DType::I32) == static_cast<int>(robocache::DType::I32));
static_assert(static_cast<int>(DType::I64) == static_cast<int>(robocache::DType::I64));
static_assert(static_cast<int>(DType::U8) == static_cast<int>(robocache::DType::U8));

robocache::DType to_internal(DType t) { return static_cast<robocache::DType>(t); }

DType to_public(robocache::DType t) { return static_cast<DType>(t); }

std::string_view dtype_name(DType t) { return robocache::dtype_name(to_internal(t)); }

std::size_t dtype_size(DType t) { return robocache::dtype_size(to_internal(t)); }

ArrayView to_view(const Array& a) {
  ArrayView v;
  v.data = a.data;
  v.dtype = to_internal(a.dtype);
  v.shape = a.shape;
  v.strides = a.strides;
  v.device = a.device == Device::Cuda ? DeviceKind::Cuda : DeviceKind::Cpu;
  v.device_index = a.device_index;
  return v;
}

}  // namespace robocache::api
