// The error word a kernel writes (templates/common.cuh, device_error) becomes the ArgumentError a
// host-side check would have thrown: the argument, the batch row and the reason.
#include <gtest/gtest.h>

#include <string>

#include "support/errors.h"
#include "backends/cuda/device_errors.h"

namespace robocache {
namespace {

std::string message_of(std::uint64_t word, std::string* argument = nullptr) {
  try {
    device_error::throw_error(word);
  } catch (const DeviceArgumentError& e) {  // its own type: the fast paths rethrow it, never retry
    if (argument) *argument = e.argument();
    return e.what();
  }
  ADD_FAILURE() << "no ArgumentError for word " << word;
  return {};
}

// The layout of templates/common.cuh's device_error::where() | reason.
std::uint64_t word(std::uint64_t reason, std::uint64_t op, std::uint64_t arg, std::uint64_t row) {
  return reason | (op << 4) | (arg << 8) | (row << 16);
}

TEST(DeviceErrors, ResampleNamesLengthsOrSourceTimesAndTheRow) {
  std::string arg;
  EXPECT_NE(message_of(word(device_error::kLengthOutOfRange, device_error::kOpResample, 0, 7), &arg).find("row 7"),
            std::string::npos);
  EXPECT_EQ(arg, "lengths");
  const std::string m = message_of(word(device_error::kDecreasingTime, device_error::kOpResample, 0, 123456789), &arg);
  EXPECT_EQ(arg, "src_times");
  EXPECT_NE(m.find("row 123456789"), std::string::npos);
  EXPECT_NE(m.find("decrease"), std::string::npos);
  EXPECT_NE(message_of(word(device_error::kNanTime, device_error::kOpResample, 0, 0), &arg).find("NaN"),
            std::string::npos);
  EXPECT_EQ(arg, "src_times");
}

TEST(DeviceErrors, FuseNamesTheStream) {
  std::string arg;
  message_of(word(device_error::kLengthOutOfRange, device_error::kOpFuse, 3, 1), &arg);
  EXPECT_EQ(arg, "streams[3].lengths");
  message_of(word(device_error::kNanTime, device_error::kOpFuse, 15, 1), &arg);
  EXPECT_EQ(arg, "streams[15].times");
}

TEST(DeviceErrors, VoxelizeNamesLengths) {
  std::string arg;
  message_of(word(device_error::kLengthOutOfRange, device_error::kOpVoxelize, 0, 2), &arg);
  EXPECT_EQ(arg, "lengths");
}

}  // namespace
}  // namespace robocache
