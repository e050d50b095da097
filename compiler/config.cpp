#include "compiler/config.h"

#include <fmt/format.h>

#include "support/errors.h"
#include "support/user_text.h"

namespace robocache {

std::string_view search_strategy_name(SearchStrategy s) {
  switch (s) {
    case SearchStrategy::Narrow: return "narrow";
    case SearchStrategy::Interpolation: return "interpolation";
    case SearchStrategy::Binary: break;
  }
  return "binary";
}

std::optional<SearchStrategy> parse_search_strategy(std::string_view name) {
  if (name == "binary") return SearchStrategy::Binary;
  if (name == "narrow") return SearchStrategy::Narrow;
  if (name == "interpolation") return SearchStrategy::Interpolation;
  return std::nullopt;
}

Json Config::to_json() const {
  Json::Object o;
  o["block_threads"] = Json::integer(block_threads);
  o["targets_per_block"] = Json::integer(targets_per_block);
  o["vector_width"] = Json::integer(vector_width);
  o["search"] = Json::string(std::string(search_strategy_name(search)));
  o["cpu_grain"] = Json::integer(cpu_grain);
  return Json::object(std::move(o));
}

Config Config::from_json(const Json& j) {
  if (!j.is_object()) throw SpecError("config", "expected an object");
  Config c;
  const Json::Object& o = j.as_object();
  auto read = [&](const char* key, int& out, int lo, int hi) {
    auto it = o.find(key);
    if (it == o.end()) return;
    if (!it->second.is_int() || it->second.as_int() < lo || it->second.as_int() > hi)
      throw SpecError(fmt::format("config.{}", key), fmt::format("must be an integer in [{}, {}]", lo, hi));
    out = static_cast<int>(it->second.as_int());
  };
  read("block_threads", c.block_threads, 32, 1024);
  read("targets_per_block", c.targets_per_block, 1, 1024);
  read("cpu_grain", c.cpu_grain, 1, 1 << 20);
  if (auto it = o.find("vector_width"); it != o.end()) {
    const Json& v = it->second;
    if (!v.is_int() || (v.as_int() != 1 && v.as_int() != 2 && v.as_int() != 4 && v.as_int() != 8))
      throw SpecError("config.vector_width", "must be 1, 2, 4 or 8");
    c.vector_width = static_cast<int>(v.as_int());
  }
  if (auto it = o.find("search"); it != o.end()) {
    std::optional<SearchStrategy> s;
    if (it->second.is_string()) s = parse_search_strategy(it->second.as_string());
    if (!s) throw SpecError("config.search", "must be \"binary\", \"narrow\" or \"interpolation\"");
    c.search = *s;
  }
  for (const auto& [k, v] : o)
    if (k != "block_threads" && k != "targets_per_block" && k != "vector_width" && k != "search" &&
        k != "cpu_grain")
      throw SpecError("config." + shown(k), "unknown key");
  return c;
}

}  // namespace robocache
