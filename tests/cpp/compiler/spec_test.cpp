#include <gtest/gtest.h>

#include "support/errors.h"
#include "support/sha256.h"
#include "compiler/spec.h"

namespace robocache {
namespace {

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Spec, HashIsIndependentOfKeyOrderAndDefaults) {
  Spec a = Spec::parse(R"({"op":"resample","dtype":"bf16","time_dtype":"f64","dim":8,"interp":"linear"})");
  Spec b = Spec::parse(R"({"dim":8, "interp":"linear", "dtype":"bf16", "op":"resample"})");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.canonical_json(),
            R"({"dim":8,"dtype":"bf16","interp":"linear","op":"resample","time_dtype":"f64"})");
}

TEST(Spec, CanonicalJsonRoundTrips) {
  Spec a = Spec::parse(R"({"op":"resample","dtype":"f16","time_dtype":"f32","dim":3})");
  EXPECT_EQ(Spec::parse(a.canonical_json()), a);
  EXPECT_NE(a.hash(), Spec::parse(R"({"op":"resample","dtype":"f16","dim":3})").hash());
}

std::string field_of_error(const std::string& json) {
  try {
    Spec::parse(json);
  } catch (const SpecError& e) {
    return e.field();
  }
  return "<no error>";
}

TEST(Spec, ErrorsNameTheField) {
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32"})"), "dim");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32","dim":0})"), "dim");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32","dim":"4"})"), "dim");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"i32","dim":4})"), "dtype");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32","time_dtype":"f16","dim":4})"), "time_dtype");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32","dim":4,"interp":"spline"})"), "interp");
  EXPECT_EQ(field_of_error(R"({"op":"resample","dtype":"f32","dim":4,"colour":"red"})"), "colour");
  EXPECT_EQ(field_of_error(R"({"op":"warp","dtype":"f32","dim":4})"), "op");
  EXPECT_EQ(field_of_error(R"({"op":"resample",)"), "<spec>");
  EXPECT_EQ(field_of_error(R"([1,2])"), "<spec>");
}

}  // namespace
}  // namespace robocache
