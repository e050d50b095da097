#include "runtime/cpu/thread_pool.h"
#include "compiler/user_text.h"

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
  std::mutex mutex;  // guards error and the finished handshake
  std::condition_variable finished;
  std::exception_ptr error;
};

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) throw std::invalid_argument(fmt::format("ThreadPool needs at least 1 thread, got {}", threads));
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 0; i + 1 < threads; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPool::ThreadPool() : ThreadPool(default_thread_count()) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
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
      if (loop->next.load(std::memory_order_relaxed) >= loop->chunks) {
        queue_.pop_front();
        continue;
      }
    }
    run_chunks(*loop);
  }
}

void ThreadPool::parallel_for(std::int64_t n, std::int64_t grain,
                              const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t threads = size();
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

  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(loop);
  }
  std::int64_t helpers = std::min<std::int64_t>(loop->chunks - 1, static_cast<std::int64_t>(workers_.size()));
  if (helpers == static_cast<std::int64_t>(workers_.size())) {
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
std::atomic<int> g_requested_threads{0};  // 0: default_thread_count()

// A forked child has none of the parent's workers, and the pool's lock may have been held at
// the fork; the child abandons that pool (leaking it) and builds its own on next use.
void forget_pool_in_child() { g_default_pool.store(nullptr, std::memory_order_relaxed); }

}  // namespace

ThreadPool& default_thread_pool() {
  if (ThreadPool* pool = g_default_pool.load(std::memory_order_acquire)) return *pool;
  static std::once_flag atfork_once;
  std::call_once(atfork_once, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
  // Leaked on purpose: kernels may still launch from other static destructors at exit.
  const int requested = g_requested_threads.load(std::memory_order_acquire);
  auto fresh = requested > 0 ? std::make_unique<ThreadPool>(requested) : std::make_unique<ThreadPool>();
  ThreadPool* expected = nullptr;
  if (g_default_pool.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel))
    return *fresh.release();
  return *expected;
}

int set_default_thread_count(int threads) {
  if (threads < 1 || threads > kMaxThreads)
    throw std::invalid_argument(fmt::format("thread count must be in [1, {}], got {}", kMaxThreads, threads));
  if (const ThreadPool* pool = g_default_pool.load(std::memory_order_acquire)) return pool->size();
  int expected = 0;
  if (!g_requested_threads.compare_exchange_strong(expected, threads, std::memory_order_acq_rel)) return expected;
  // A pool created between the two loads may not have seen the request; its size is what counts.
  const ThreadPool* pool = g_default_pool.load(std::memory_order_acquire);
  return pool ? pool->size() : threads;
}

}  // namespace robocache
