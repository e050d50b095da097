#include "robocache/engine.h"

#include <string>

#include "cache/disk_cache.h"
#include "cache/kernel_cache.h"
#include "robocache/errors.h"
#include "backends/cpu/thread_pool.h"
#include "runtime/engine.h"

namespace robocache::api {

namespace {

CacheOptions to_internal(const EngineOptions& o) {
  CacheOptions c;
  c.dir = o.cache_dir;
  c.mode = o.cache_mode == CacheMode::Strict     ? robocache::CacheMode::Strict
           : o.cache_mode == CacheMode::ReadOnly ? robocache::CacheMode::ReadOnly
                                                 : robocache::CacheMode::ReadWrite;
  c.bundles = o.bundles;
  c.max_bytes = o.cache_max_bytes;
  return c;
}

}  // namespace

std::filesystem::path default_cache_dir() { return robocache::default_cache_dir(); }

EngineOptions EngineOptions::from_environment() {
  const CacheOptions c = CacheOptions::from_environment();
  EngineOptions o;
  o.cache_dir = c.dir;
  o.cache_mode = c.mode == robocache::CacheMode::Strict     ? CacheMode::Strict
                 : c.mode == robocache::CacheMode::ReadOnly ? CacheMode::ReadOnly
                                                            : CacheMode::ReadWrite;
  o.bundles = c.bundles;
  o.cache_max_bytes = c.max_bytes;
  return o;
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {
  if (options_.threads < 0)
    throw ArgumentError("threads", "must be >= 0 (0 keeps the default), got " + std::to_string(options_.threads));
  int in_force = options_.threads;
  try {
    if (options_.threads > 0) in_force = set_default_thread_count(options_.threads);
  } catch (const std::invalid_argument& e) {
    throw ArgumentError("threads", e.what());
  }
  if (in_force != options_.threads)
    throw ArgumentError("threads", "the process-wide CPU pool is fixed at " + std::to_string(in_force) +
                                       " threads, not " + std::to_string(options_.threads) +
                                       "; give every engine the same count (or 0)");
  impl_ = std::make_shared<robocache::Engine>(to_internal(options_));
}

Kernel Engine::compile(const Spec& spec, const std::string& target) const {
  return Kernel(impl_, impl_->compile(spec.internal(), target));
}

}  // namespace robocache::api
