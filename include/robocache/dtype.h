#pragma once
/// Element types of the public API.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace robocache::api {

/// A scalar element type; spelled in specs as "f16", "bf16", "f32", "f64", "i32", "i64", "u8".
enum class DType : std::uint8_t { F16, BF16, F32, F64, I32, I64, U8 };

/// The spec spelling of a dtype ("f32", ...).
std::string_view dtype_name(DType t);

/// Size of one element in bytes.
std::size_t dtype_size(DType t);

}  // namespace robocache::api
