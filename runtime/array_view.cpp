#include "runtime/array_view.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace robocache {

std::int64_t ArrayView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool ArrayView::is_contiguous() const {
  if (strides.empty()) return true;
  std::int64_t expected = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

std::string ArrayView::shape_text() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::string ArrayView::device_text() const {
  return device == DeviceKind::Cpu ? "cpu" : fmt::format("cuda:{}", device_index);
}

}  // namespace robocache
