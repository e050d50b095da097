#include "compiler/config.h"

#include <fmt/format.h>

#include "compiler/errors.h"

namespace robocache {

Json Config::to_json() const {
  Json::Object o;
  o["block_threads"] = Json::integer(block_threads);
  o["targets_per_block"] = Json::integer(targets_per_block);
  o["cpu_grain"] = Json::integer(cpu_grain);
  return Json::object(std::move(o));
}

Config Config::from_json(const Json& j) {
  if (!j.is_object()) throw SpecError("config", "expected an object");
  Config c;
  auto read = [&](const char* key, int& out, int lo, int hi) {
    auto it = j.as_object().find(key);
    if (it == j.as_object().end()) return;
    if (!it->second.is_int() || it->second.as_int() < lo || it->second.as_int() > hi)
      throw SpecError(fmt::format("config.{}", key), fmt::format("must be an integer in [{}, {}]", lo, hi));
    out = static_cast<int>(it->second.as_int());
  };
  read("block_threads", c.block_threads, 32, 1024);
  read("targets_per_block", c.targets_per_block, 1, 1024);
  read("cpu_grain", c.cpu_grain, 1, 1 << 20);
  for (const auto& [k, v] : j.as_object())
    if (k != "block_threads" && k != "targets_per_block" && k != "cpu_grain")
      throw SpecError("config." + k, "unknown key");
  return c;
}

}  // namespace robocache
