#include "backends/cpu/thread_pool.h"
#include "support/user_text.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>

namespace robocache {

namespace {

constexpr int kMaxThreads = 4096;
constexpr const char* kEnvVar = "ROBOCACHE_NUM_THREADS";

// The CPUs this process may run on, which is what a container or `taskset` grants, unlike
// hardware_concurrency(). The set is grown for machines with more CPUs than cpu_set_t holds.
int affinity_cpu_count() {
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (!set) break;
    std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    int rc = sched_getaffinity(0, size, set);
    int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0) return std::max(count, 1);
    if (errno != EINVAL) break;
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

int parse_thread_count(std::string_view text) {
  std::string_view digits = text;
  while (!digits.empty() && (digits.front() == ' ' || digits.front() == '\t')) digits.remove_prefix(1);
  while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) digits.remove_suffix(1);
  long long value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < 1 ||
      value > kMaxThreads)
    throw std::invalid_argument(fmt::format(
        "environment variable {}='{}' is not a thread count: expected an integer in [1, {}]", kEnvVar,
        shown(text), kMaxThreads));
  return static_cast<int>(value);
}

int default_thread_count() {
  const char* env = std::getenv(kEnvVar);
  // An empty value counts as unset, as `VAR= cmd` is how shells clear a variable for one command.
  if (env && *env) return parse_thread_count(env);
  return affinity_cpu_count();
}

// One parallel_for call. Chunks are claimed with an atomic counter so the caller and any
// number of workers can share it without taking the pool lock per chunk.
struct ThreadPool::Loop {
  const std::function<void(std::int64_t, std::int64_t)>* body = nullptr;
  std::int64_t n = 0;
  std::int64_t chunk = 0;
  std::int64_t chunks = 0;
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> done{0};
  std::atomic<bool> failed{false};
  int helpers_left = 0;  // workers that may still join (ways - 1); guarded by the pool's mutex_
  std::mutex mutex;  // guards error and the finished handshake
  std::condition_variable finished;
  std::exception_ptr error;
};

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) throw std::invalid_argument(fmt::format("ThreadPool needs at least 1 thread, got {}", threads));
  set_ways(threads);
}

void ThreadPool::set_ways(int ways) {
  if (ways < 1 || ways > kMaxThreads)
    throw std::invalid_argument(fmt::format("thread count must be in [1, {}], got {}", kMaxThreads, ways));
  if (ways - 1 > workers_count_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.reserve(static_cast<std::size_t>(ways - 1));
    while (static_cast<int>(workers_.size()) < ways - 1) {
      workers_.emplace_back([this] { worker_main(); });
      workers_count_.store(static_cast<int>(workers_.size()), std::memory_order_release);
    }
  }
  ways_.store(ways, std::memory_order_release);
}

ThreadPool::ThreadPool() : ThreadPool(default_thread_count()) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // No set_ways() can run now (the pool is being destroyed), so workers_ is stable.
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_chunks(Loop& loop) {
  for (;;) {
    std::int64_t i = loop.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= loop.chunks) return;
    // After a failure the remaining chunks are only counted, so the caller can report sooner.
    if (!loop.failed.load(std::memory_order_relaxed)) {
      try {
        std::int64_t begin = i * loop.chunk;
        (*loop.body)(begin, std::min(loop.n, begin + loop.chunk));
      } catch (...) {
        std::lock_guard<std::mutex> lock(loop.mutex);
        if (!loop.error) loop.error = std::current_exception();
        loop.failed.store(true, std::memory_order_relaxed);
      }
    }
    if (loop.done.fetch_add(1, std::memory_order_acq_rel) + 1 == loop.chunks) {
      std::lock_guard<std::mutex> lock(loop.mutex);
      loop.finished.notify_all();
    }
  }
}

void ThreadPool::worker_main() {
  for (;;) {
    std::shared_ptr<Loop> loop;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      loop = queue_.front();
      // A loop takes at most ways-1 workers (the policy's count), whatever the pool's size.
      if (loop->next.load(std::memory_order_relaxed) >= loop->chunks || loop->helpers_left <= 0) {
        queue_.pop_front();
        continue;
      }
      if (--loop->helpers_left == 0) queue_.pop_front();
    }
    run_chunks(*loop);
  }
}

void ThreadPool::parallel_for(std::int64_t n, std::int64_t grain,
                              const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t threads = std::min(ways(), size());
  if (n <= grain || threads == 1) {
    body(0, n);
    return;
  }
  // Chunks of about `grain`, but never fewer than there are threads while n allows, so a
  // launch just above the grain still spreads over the whole pool.
  std::int64_t chunks = n / grain + (n % grain != 0);
  chunks = std::max(chunks, std::min(n, threads));
  auto loop = std::make_shared<Loop>();
  loop->body = &body;
  loop->n = n;
  loop->chunk = n / chunks + (n % chunks != 0);
  loop->chunks = n / loop->chunk + (n % loop->chunk != 0);

  std::int64_t helpers = std::min<std::int64_t>(loop->chunks - 1, threads - 1);
  loop->helpers_left = static_cast<int>(helpers);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(loop);
  }
  if (helpers == static_cast<std::int64_t>(size()) - 1) {
    wake_.notify_all();
  } else {
    for (std::int64_t i = 0; i < helpers; ++i) wake_.notify_one();
  }

  run_chunks(*loop);
  {
    // Every chunk is claimed now; drop the loop so idle workers do not look at it again.
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find(queue_.begin(), queue_.end(), loop);
    if (it != queue_.end()) queue_.erase(it);
  }
  {
    std::unique_lock<std::mutex> lock(loop->mutex);
    loop->finished.wait(lock, [&] { return loop->done.load(std::memory_order_acquire) == loop->chunks; });
  }
  if (loop->error) std::rethrow_exception(loop->error);
}

namespace {

std::atomic<ThreadPool*> g_default_pool{nullptr};
std::atomic<int> g_requested_threads{0};  // an engine's `threads`; 0: none
std::atomic<int> g_explicit_threads{0};   // set_thread_count(); 0: none
std::atomic<bool> g_forked_child{false};
std::atomic<int> g_worker{-1};            // the probe's answer: -1 not asked yet, 0 no, 1 yes
std::atomic<int> g_env_threads{-1};       // ROBOCACHE_NUM_THREADS: -1 not read yet, 0 unset
std::atomic<int (*)()> g_worker_probe{nullptr};

// A forked child has none of the parent's workers, and the pool's lock may have been held at
// the fork; the child abandons that pool (leaking it) and builds its own on next use. It is a
// worker process (a DataLoader worker, a multiprocessing pool's worker): one thread, unless it
// asks for more itself.
void forget_pool_in_child() {
  g_default_pool.store(nullptr, std::memory_order_relaxed);
  g_explicit_threads.store(0, std::memory_order_relaxed);
  g_requested_threads.store(0, std::memory_order_relaxed);
  g_forked_child.store(true, std::memory_order_relaxed);
}

void install_atfork() {
  static std::once_flag atfork_once;
  std::call_once(atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
}

enum class Reason { Explicit, Engine, ForkedChild, Worker, Env, Cpus };

int resolve(Reason* why) {
  if (int n = g_explicit_threads.load(std::memory_order_acquire); n > 0) return *why = Reason::Explicit, n;
  if (int n = g_requested_threads.load(std::memory_order_acquire); n > 0) return *why = Reason::Engine, n;
  if (g_forked_child.load(std::memory_order_acquire)) return *why = Reason::ForkedChild, 1;
  int worker = g_worker.load(std::memory_order_acquire);
  if (worker < 0) {
    int (*probe)() = g_worker_probe.load(std::memory_order_acquire);
    worker = probe ? probe() : 0;
    if (worker >= 0) g_worker.store(worker, std::memory_order_release);
  }
  if (worker == 1) return *why = Reason::Worker, 1;
  int env = g_env_threads.load(std::memory_order_acquire);
  if (env < 0) {
    const char* text = std::getenv(kEnvVar);
    env = text && *text ? parse_thread_count(text) : 0;  // throws on a bad value, every launch
    g_env_threads.store(env, std::memory_order_release);
  }
  if (env > 0) return *why = Reason::Env, env;
  static const int cpus = affinity_cpu_count();
  return *why = Reason::Cpus, cpus;
}

}  // namespace

int thread_count_in_force() {
  install_atfork();
  Reason why;
  return resolve(&why);
}

void set_thread_count(int threads) {
  if (threads < 0 || threads > kMaxThreads)
    throw std::invalid_argument(
        fmt::format("thread count must be in [1, {}] (or 0 for the default), got {}", kMaxThreads, threads));
  install_atfork();
  g_explicit_threads.store(threads, std::memory_order_release);
}

void set_worker_probe(int (*probe)()) {
  g_worker_probe.store(probe, std::memory_order_release);
  g_worker.store(-1, std::memory_order_release);
}

const char* thread_count_reason() {
  install_atfork();
  Reason why;
  resolve(&why);
  switch (why) {
    case Reason::Explicit: return "set_num_threads";
    case Reason::Engine: return "engine";
    case Reason::ForkedChild: return "forked child";
    case Reason::Worker: return "worker";
    case Reason::Env: return kEnvVar;
    case Reason::Cpus: break;
  }
  return "cpus";
}

ThreadPool& default_thread_pool() {
  const int ways = thread_count_in_force();
  ThreadPool* pool = g_default_pool.load(std::memory_order_acquire);
  if (!pool) {
    // Leaked on purpose: kernels may still launch from other static destructors at exit.
    auto fresh = std::make_unique<ThreadPool>(ways);
    ThreadPool* expected = nullptr;
    if (g_default_pool.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel))
      pool = fresh.release();
    else
      pool = expected;
  }
  if (pool->ways() != ways) pool->set_ways(ways);
  return *pool;
}

int set_default_thread_count(int threads) {
  if (threads < 1 || threads > kMaxThreads)
    throw std::invalid_argument(fmt::format("thread count must be in [1, {}], got {}", kMaxThreads, threads));
  install_atfork();
  int expected = 0;
  if (!g_requested_threads.compare_exchange_strong(expected, threads, std::memory_order_acq_rel)) return expected;
  return threads;
}

}  // namespace robocache
