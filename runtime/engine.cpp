#include "runtime/engine.h"

#include <chrono>

#include <fmt/format.h>

#include "cache/cache_key.h"
#include "support/errors.h"
#include "support/log.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cuda/cuda_status.h"
#include "support/user_text.h"

namespace robocache {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool is_sm_arch(const std::string& t) {
  if (t.size() < 4 || t.rfind("sm_", 0) != 0) return false;
  for (std::size_t i = 3; i < t.size(); ++i)
    if (!(std::isdigit(static_cast<unsigned char>(t[i])) || (i + 1 == t.size() && t[i] == 'a')))
      return false;
  return true;
}

}  // namespace

Engine::Engine(CacheOptions options)
    : cache_(std::move(options)), tuning_path_(tuning_db_path(cache_.options().dir)) {}

Engine& Engine::global() {
  // Leaked on purpose: destroying kernels at exit would unload CUDA modules and JIT dylibs after
  // the driver or LLVM may already have shut down.
  static Engine* engine = new Engine(CacheOptions::from_environment());
  return *engine;
}

std::string Engine::resolve_target(const std::string& target) {
  if (target == "auto") {
    CudaStatus cuda = probe_cuda();
    return cuda.driver_available && !cuda.devices.empty() ? "cuda" : "cpu";
  }
  if (target == "cpu" || target == "cuda" || is_sm_arch(target)) return target;
  throw std::invalid_argument(fmt::format(
      "unknown target '{}' (expected 'auto', 'cpu', 'cuda' or a CUDA arch such as 'sm_90')", shown(target)));
}

std::shared_ptr<Backend> Engine::backend(const std::string& target) {
  const std::string name = resolve_target(target);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = backends_.find(name);
  if (it != backends_.end()) return it->second;
  std::shared_ptr<Backend> b =
      name == "cpu" ? make_cpu_backend() : make_cuda_backend(name == "cuda" ? "" : name);
  backends_.emplace(name, b);
  return b;
}

int Engine::sm_count(const std::string& target) {
  const std::string name = resolve_target(target);
  std::lock_guard<std::mutex> lock(tuning_mu_);
  if (auto it = sm_counts_.find(name); it != sm_counts_.end()) return it->second;
  int count = 0;
  if (name == "cpu") {
    count = default_thread_pool().size();
  } else {
    for (const CudaDeviceInfo& d : probe_cuda().devices) {
      if (name == "cuda" || d.arch == name) {
        count = d.sm_count;
        break;
      }
    }
  }
  sm_counts_.emplace(name, count);
  return count;
}

TuningKey Engine::tuning_key(const Spec& spec, const std::string& target) {
  const std::string name = resolve_target(target);  // once: "auto" probes the driver
  std::shared_ptr<Backend> be = backend(name);
  return {spec.hash(), be->target().name(), sm_count(name), be->toolchain()};
}

void Engine::load_tuning_locked() {
  tuning_loaded_ = true;
  tuning_ = {};
  if (tuning_path_.empty()) return;
  try {
    tuning_ = TuningDb::load(tuning_path_);
  } catch (const std::invalid_argument& e) {
    // Tuning only makes kernels faster: a damaged file must not stop anything from running.
    warn_once(fmt::format("ignoring the tuning database: {}; heuristic configs are used", e.what()));
  }
}

TuningDb Engine::tuning() {
  std::lock_guard<std::mutex> lock(tuning_mu_);
  if (!tuning_loaded_) load_tuning_locked();
  return tuning_;
}

void Engine::reload_tuning() {
  std::lock_guard<std::mutex> lock(tuning_mu_);
  load_tuning_locked();
}

void Engine::update_tuning(const std::function<void(TuningDb&)>& change) {
  std::lock_guard<std::mutex> lock(tuning_mu_);
  load_tuning_locked();
  change(tuning_);
  if (!tuning_path_.empty()) tuning_.save(tuning_path_);
}

Config Engine::choose_config(const Spec& spec, const std::string& target) {
  const std::string name = resolve_target(target);
  std::shared_ptr<Backend> be = backend(name);
  const TuningKey key = tuning_key(spec, name);
  {
    std::lock_guard<std::mutex> lock(tuning_mu_);
    if (!tuning_loaded_) load_tuning_locked();
    if (auto entry = tuning_.find(key)) return entry->best;
  }
  return be->default_config(spec);
}

std::shared_ptr<const CompiledKernel> Engine::compile(const Spec& spec, const std::string& target,
                                                      std::optional<Config> requested) {
  const std::string name = resolve_target(target);
  std::shared_ptr<Backend> be = backend(name);
  const Config config = requested ? *requested : choose_config(spec, name);
  const std::string key =
      cache_key({spec.canonical_json(), config.canonical_json(), be->target().identity(),
                 be->toolchain(), be->generator_identity()});
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = kernels_.find(key); it != kernels_.end()) {
      ++stats_.memory_hits;
      return it->second;
    }
  }

  // Threads of this process that miss the same key queue here; the first compiles, the others then
  // find its kernel in memory.
  std::shared_ptr<std::mutex> key_mutex;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<std::mutex>& slot = compiling_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    key_mutex = slot;
  }
  std::lock_guard<std::mutex> compiling(*key_mutex);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = kernels_.find(key); it != kernels_.end()) {
      ++stats_.memory_hits;
      return it->second;
    }
  }

  std::string origin = "compiled";
  // The second read (after taking the lock) meets the same damaged file again: count it once.
  auto read_cache = [&](bool count_damage) -> std::optional<ObjectCode> {
    auto t0 = std::chrono::steady_clock::now();
    int rejected = 0;
    auto hit = cache_.find(key, &rejected);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.disk_read_ms += ms_since(t0);
    if (count_damage) stats_.bad_entries += rejected;
    if (!hit) return std::nullopt;
    ++(hit->layer == CacheLayer::Directory ? stats_.disk_hits : stats_.bundle_hits);
    origin = hit->layer == CacheLayer::Directory ? "directory" : "bundle";
    return std::move(hit->code);
  };

  std::optional<ObjectCode> code = read_cache(true);
  if (!code && cache_.options().mode == CacheMode::Strict)
    throw CacheMissError(fmt::format(
        "strict cache mode: no compiled kernel for spec {} on target '{}' in {}{} (key {}){}; warm the "
        "cache with `robocache warmup` or unset ROBOCACHE_CACHE_MODE",
        spec.canonical_json(), be->target().name(), cache_.options().dir.string(),
        cache_.options().bundles.empty() ? "" : " or the bundles in ROBOCACHE_CACHE_BUNDLES", key,
        cache_.explain_bundle_miss(spec.canonical_json(), be->target(), be->toolchain(), config)));
  if (!code) {
    // Compile once across processes: whoever holds the key's lock compiles, the others wait and
    // then find the published entry.
    DiskCache::KeyLock key_lock = cache_.lock(key);
    code = read_cache(false);
    if (!code) {
      auto t0 = std::chrono::steady_clock::now();
      KernelSource source = be->generate(spec, config);
      double gen_ms = ms_since(t0);
      t0 = std::chrono::steady_clock::now();
      ObjectCode compiled = be->compile(source);
      double compile_ms = ms_since(t0);
      compiled.spec_json = spec.canonical_json();
      compiled.toolchain = be->toolchain();
      t0 = std::chrono::steady_clock::now();
      const bool stored = cache_.publish(key, compiled);
      const double write_ms = ms_since(t0);
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.compiles;
      stats_.generate_ms += gen_ms;
      stats_.compile_ms += compile_ms;
      stats_.disk_write_ms += write_ms;
      if (!stored && cache_.options().mode == CacheMode::ReadWrite) ++stats_.store_failures;
      code = std::move(compiled);
    }
  }

  auto kernel = std::make_shared<const CompiledKernel>(spec, key, be, std::move(*code), origin, this);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = kernels_.emplace(key, kernel);
  return it->second;
}

CacheStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  CacheStats s = stats_;
  s.launches = launches_.load(std::memory_order_relaxed);
  return s;
}

void Engine::clear_memory_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  kernels_.clear();
}

void Engine::record_load(double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.load_ms += ms;
}

}  // namespace robocache
