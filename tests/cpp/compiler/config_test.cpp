// Config JSON: every field round-trips, absent fields keep defaults, bad values name their field.
#include <gtest/gtest.h>

#include "compiler/config.h"
#include "support/errors.h"

namespace robocache {
namespace {

std::string field_of_error(const std::string& json) {
  try {
    Config::from_json(Json::parse(json));
  } catch (const SpecError& e) {
    return e.field();
  }
  return "(no error)";
}

TEST(Config, EveryFieldRoundTrips) {
  Config c;
  c.block_threads = 128;
  c.targets_per_block = 64;
  c.vector_width = 4;
  c.search = SearchStrategy::Narrow;
  c.cpu_grain = 1024;
  const Config back = Config::from_json(Json::parse(c.canonical_json()));
  EXPECT_EQ(back, c);
  EXPECT_NE(c.canonical_json(), Config().canonical_json());
}

TEST(Config, SearchAndVectorWidthAreSpelledInJson) {
  Config c;
  c.vector_width = 8;
  c.search = SearchStrategy::Narrow;
  const Json j = c.to_json();
  EXPECT_EQ(j.as_object().at("vector_width").as_int(), 8);
  EXPECT_EQ(j.as_object().at("search").as_string(), "narrow");
  EXPECT_EQ(Config().to_json().as_object().at("search").as_string(), "binary");
}

TEST(Config, AbsentFieldsKeepDefaults) {
  const Config c = Config::from_json(Json::parse(R"({"vector_width":2})"));
  EXPECT_EQ(c.vector_width, 2);
  EXPECT_EQ(c.search, SearchStrategy::Binary);
  EXPECT_EQ(c.block_threads, Config().block_threads);
}

TEST(Config, BadValuesNameTheirField) {
  EXPECT_EQ(field_of_error(R"({"vector_width":3})"), "config.vector_width");
  EXPECT_EQ(field_of_error(R"({"vector_width":"4"})"), "config.vector_width");
  EXPECT_EQ(field_of_error(R"({"search":"linear"})"), "config.search");
  EXPECT_EQ(field_of_error(R"({"search":1})"), "config.search");
  EXPECT_EQ(field_of_error(R"({"block_threads":16})"), "config.block_threads");
  EXPECT_EQ(field_of_error(R"({"cpu_grain":0})"), "config.cpu_grain");
  EXPECT_EQ(field_of_error(R"({"warps":4})"), "config.warps");
  EXPECT_EQ(field_of_error(R"([])"), "config");
}

TEST(Config, StrategyNamesParseBack) {
  for (SearchStrategy s : {SearchStrategy::Binary, SearchStrategy::Narrow, SearchStrategy::Interpolation})
    EXPECT_EQ(parse_search_strategy(search_strategy_name(s)), s);
  EXPECT_FALSE(parse_search_strategy("Binary"));
}

}  // namespace
}  // namespace robocache
