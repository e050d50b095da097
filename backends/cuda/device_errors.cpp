#include "backends/cuda/device_errors.h"

#include <string>

#include <fmt/format.h>

#include "support/errors.h"

namespace robocache::device_error {

void throw_error(std::uint64_t word) {
  const std::uint64_t reason = word & 0xf, op = (word >> 4) & 0xf, arg = (word >> 8) & 0xff, row = word >> 16;
  const bool lengths = reason == kLengthOutOfRange;
  std::string name;
  if (op == kOpFuse) {
    name = fmt::format("streams[{}].{}", arg, lengths ? "lengths" : "times");
  } else {
    name = lengths ? "lengths" : (op == kOpVoxelize ? "points" : "src_times");
  }
  const char* what = reason == kLengthOutOfRange ? "is outside its range (1 <= length <= S; 0 <= length <= N for points)"
                     : reason == kNanTime        ? "holds a NaN source time"
                     : reason == kDecreasingTime ? "has source times that decrease"
                                                 : "is invalid";
  throw DeviceArgumentError(name, fmt::format("batch row {} {}; found on the GPU by an earlier call, whose output for that "
                                        "row was written as NaN (nothing past the row's length was read)",
                                        row, what));
}

}  // namespace robocache::device_error
