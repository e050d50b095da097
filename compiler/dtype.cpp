#include "compiler/dtype.h"

namespace robocache {

namespace {
struct DTypeRow {
  DType type;
  std::string_view name;
  std::size_t size;
};
constexpr DTypeRow kRows[] = {
    {DType::F16, "f16", 2}, {DType::BF16, "bf16", 2}, {DType::F32, "f32", 4},
    {DType::F64, "f64", 8}, {DType::I32, "i32", 4},   {DType::I64, "i64", 8},
    {DType::U8, "u8", 1},
};
const DTypeRow& row(DType t) { return kRows[static_cast<int>(t)]; }
}  // namespace

std::string_view dtype_name(DType t) { return row(t).name; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& r : kRows)
    if (r.name == name) return r.type;
  return std::nullopt;
}

std::size_t dtype_size(DType t) { return row(t).size; }

bool is_float(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64;
}

}  // namespace robocache
