#pragma once
/// A fixed-size pool of worker threads that runs data-parallel loops for CPU kernels.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace robocache {

/// Parses a ROBOCACHE_NUM_THREADS value; throws std::invalid_argument naming the variable.
int parse_thread_count(std::string_view text);

/// Threads to use by default: ROBOCACHE_NUM_THREADS when set, else the CPUs this process may run on.
int default_thread_count();

/// A fixed set of workers running parallel loops; the calling thread takes part in its own loops.
class ThreadPool {
 public:
  /// A pool giving `threads` ways of parallelism (the caller plus threads-1 workers); threads >= 1.
  explicit ThreadPool(int threads);
  /// A pool sized by default_thread_count().
  ThreadPool();
  /// Joins the workers; loops still running must have finished.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Ways of parallelism: the workers plus the calling thread.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  /// Runs body over [0,n) in chunks of about `grain` and returns when all are done.
  /// Runs inline on the caller when n <= grain; rethrows the first exception a chunk threw.
  /// Safe to call from several threads at once and from inside a body.
  void parallel_for(std::int64_t n, std::int64_t grain,
                    const std::function<void(std::int64_t begin, std::int64_t end)>& body);

 private:
  struct Loop;
  void worker_main();
  static void run_chunks(Loop& loop);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Loop>> queue_;  // loops that may still have unclaimed chunks
  bool stopping_ = false;
};

/// The process-wide pool, created on first use (a forked child gets a fresh one).
ThreadPool& default_thread_pool();

/// Sizes the process-wide pool instead of default_thread_count(), once: the first request (or the
/// pool's creation) fixes the count. Returns the count in force afterwards, which differs from
/// `threads` when it was fixed before. Throws std::invalid_argument outside [1, 4096].
int set_default_thread_count(int threads);

}  // namespace robocache
