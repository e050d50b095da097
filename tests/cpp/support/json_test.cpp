#include <gtest/gtest.h>

#include <stdexcept>

#include "support/json.h"

namespace robocache {
namespace {

TEST(Json, DumpsCanonicallyWithSortedKeys) {
  Json j = Json::parse(R"( { "b" : [1, 2.5, true, null], "a" : "x\"y\n" } )");
  EXPECT_EQ(j.dump(), R"({"a":"x\"y\n","b":[1,2.5,true,null]})");
}

TEST(Json, KeepsIntegersExact) {
  Json j = Json::parse("9007199254740993");
  ASSERT_TRUE(j.is_int());
  EXPECT_EQ(j.as_int(), 9007199254740993LL);
}

TEST(Json, WholeDoublesStayDoublesThroughDumpAndParse) {
  for (const char* text : {"1.0", "-0.0", "1e20", "2.5"}) {
    Json once = Json::parse(text);
    Json twice = Json::parse(once.dump());
    EXPECT_FALSE(twice.is_int()) << text << " -> " << once.dump();
    EXPECT_EQ(twice.dump(), once.dump()) << text;
  }
  EXPECT_EQ(Json::parse("-0.0").dump(), "-0.0");
  EXPECT_EQ(Json::parse("1.0").dump(), "1.0");
}

TEST(Json, DecodesUnicodeEscapes) {
  EXPECT_EQ(Json::parse(R"("\u00e9\ud83d\ude00")").as_string(), "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(Json, RejectsMalformedDocuments) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"abc", "tru", "{\"a\":1 \"b\":2}",
                          "{\"a\":1,\"a\":2}", "1 2", "\"\\x\"", "1e999"}) {
    EXPECT_THROW(Json::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(Json, RejectsDeepNesting) {
  std::string deep(1000, '[');
  EXPECT_THROW(Json::parse(deep), std::invalid_argument);
}

}  // namespace
}  // namespace robocache
