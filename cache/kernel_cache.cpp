#include "cache/kernel_cache.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "cache/cache_maintenance.h"
#include "support/log.h"
#include "support/user_text.h"

namespace robocache {

CacheOptions CacheOptions::from_environment() {
  CacheOptions o;
  if (const char* m = std::getenv("ROBOCACHE_CACHE_MODE"); m && *m) {
    std::string mode = m;
    if (mode == "readwrite") o.mode = CacheMode::ReadWrite;
    else if (mode == "readonly") o.mode = CacheMode::ReadOnly;
    else if (mode == "strict") o.mode = CacheMode::Strict;
    else
      throw std::invalid_argument(fmt::format(
          "ROBOCACHE_CACHE_MODE='{}' is not one of readwrite, readonly, strict", shown(mode)));
  }
  if (const char* b = std::getenv("ROBOCACHE_CACHE_BUNDLES"); b && *b) {
    std::string list = b;
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) o.bundles.emplace_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  if (const char* s = std::getenv("ROBOCACHE_CACHE_MAX_BYTES"); s && *s) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
      throw std::invalid_argument(
          fmt::format("ROBOCACHE_CACHE_MAX_BYTES='{}' is not a byte count", shown(s)));
    o.max_bytes = v;
  }
  if (const char* s = std::getenv("ROBOCACHE_LOCK_TIMEOUT"); s && *s) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e6)
      throw std::invalid_argument(fmt::format(
          "ROBOCACHE_LOCK_TIMEOUT='{}' is not a number of seconds in [0, 1e6]", shown(s)));
    o.lock_timeout_s = v;
  }
  return o;
}

const char* cache_mode_name(CacheMode m) {
  switch (m) {
    case CacheMode::ReadWrite: return "readwrite";
    case CacheMode::ReadOnly: return "readonly";
    case CacheMode::Strict: return "strict";
  }
  return "?";
}

KernelCache::KernelCache(CacheOptions options) : options_(std::move(options)) {
  if (!options_.dir.empty()) disk_ = std::make_unique<DiskCache>(options_.dir);
  for (const auto& path : options_.bundles) {
    try {
      bundles_.push_back(BundleReader::open(path));
    } catch (const std::exception& e) {
      warn_once(fmt::format("skipping cache bundle: {}", e.what()));
    }
  }
}

std::optional<KernelCache::Hit> KernelCache::find(const std::string& key, int* rejected) const {
  bool bad = false;
  if (disk_) {
    if (auto code = disk_->load(key, &bad)) {
      if (options_.mode == CacheMode::ReadWrite) disk_->touch(key);
      return Hit{std::move(*code), CacheLayer::Directory};
    }
    if (bad && rejected) ++*rejected;
  }
  for (const auto& b : bundles_) {
    if (auto code = b->find(key, &bad)) return Hit{std::move(*code), CacheLayer::Bundle};
    if (bad) {
      if (rejected) ++*rejected;
      warn_once(fmt::format("damaged entry {} in cache bundle {}", key, b->path().string()));
    }
  }
  return std::nullopt;
}

std::string KernelCache::explain_bundle_miss(const std::string& spec_json, const Target& target,
                                             const std::string& toolchain, const Config& config) const {
  std::string out;
  for (const auto& b : bundles_) {
    for (const ObjectCode& code : b->builds_of(spec_json)) {
      std::string why;
      if (code.target.kind != target.kind || code.target.arch != target.arch)
        why = fmt::format("it was built for {} '{}', this process runs {} '{}'",
                          code.target.kind == Target::Kind::Cpu ? "CPU" : "GPU arch", code.target.arch,
                          target.kind == Target::Kind::Cpu ? "CPU" : "GPU arch", target.arch);
      else if (code.target.features != target.features)
        why = fmt::format("it was built for CPU features '{}', this CPU has '{}'", code.target.features,
                          target.features);
      else if (code.toolchain != toolchain)
        why = fmt::format("it was built with '{}', this process has '{}'", code.toolchain, toolchain);
      else if (!(code.config == config))
        why = fmt::format("it was built with launch config {}, this process chose {} (tuning database)",
                          code.config.canonical_json(), config.canonical_json());
      else
        why = "it was built by another RoboCache version (its code generators or kernel templates differ)";
      out += fmt::format("; bundle {} holds this spec for target '{}', but {}", b->path().string(),
                         code.target.name(), why);
    }
  }
  return out;
}

bool KernelCache::publish(const std::string& key, const ObjectCode& code) const {
  if (!disk_ || options_.mode != CacheMode::ReadWrite) return false;
  if (!disk_->store(key, code)) return false;
  if (cache_size_bytes(*disk_) > options_.max_bytes)
    evict_least_recently_used(*disk_, options_.max_bytes, key);
  return true;
}

DiskCache::KeyLock KernelCache::lock(const std::string& key) const {
  if (!disk_ || options_.mode != CacheMode::ReadWrite) return DiskCache::KeyLock();
  return disk_->lock(key, options_.lock_timeout_s);
}

}  // namespace robocache
