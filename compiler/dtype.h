#pragma once
/// Element types understood by specs, kernels and the array boundary.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace robocache {

/// A scalar element type.
enum class DType : std::uint8_t { F16, BF16, F32, F64, I32, I64, U8 };

/// The spec spelling of a dtype ("f32", "bf16", ...).
std::string_view dtype_name(DType t);

/// Parses the spec spelling of a dtype; nullopt when unknown.
std::optional<DType> parse_dtype(std::string_view name);

/// Size of one element in bytes.
std::size_t dtype_size(DType t);

/// True for f16, bf16, f32 and f64.
bool is_float(DType t);

}  // namespace robocache
