#pragma once
/// A fixed-size pool of worker threads that runs data-parallel loops for CPU kernels.
#include <atomic>
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
  int size() const { return workers_count_.load(std::memory_order_acquire) + 1; }

  /// Ways a loop uses from now on (the thread policy's count, see thread_count_in_force()): grows
  /// the pool to `ways` when it is smaller; a smaller count leaves the extra workers asleep.
  /// Throws std::invalid_argument outside [1, 4096].
  void set_ways(int ways);
  /// Ways a loop uses: size() unless set_ways() lowered it.
  int ways() const { return ways_.load(std::memory_order_acquire); }

  /// Runs body over [0,n) in chunks of about `grain` and returns when all are done.
  /// Runs inline on the caller when n <= grain; rethrows the first exception a chunk threw.
  /// Safe to call from several threads at once and from inside a body.
  void parallel_for(std::int64_t n, std::int64_t grain,
                    const std::function<void(std::int64_t begin, std::int64_t end)>& body);

 private:
  struct Loop;
  void worker_main();
  static void run_chunks(Loop& loop);

  std::vector<std::thread> workers_;      // grows under mutex_ (set_ways)
  std::atomic<int> workers_count_{0};     // workers_.size(), readable without the lock
  std::atomic<int> ways_{1};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Loop>> queue_;  // loops that may still have unclaimed chunks
  bool stopping_ = false;
};

/// The process-wide pool, created on first use (a forked child gets a fresh one), with its ways set
/// to thread_count_in_force() on every call (a kernel launch calls it once).
ThreadPool& default_thread_pool();

/// The thread policy: the ways a CPU kernel launched now uses, the first of
///  1. set_thread_count() in this process (robocache.set_num_threads),
///  2. set_default_thread_count() (an engine's `threads` option),
///  3. 1 in a worker process: a forked child, or a process the worker probe says is one (the Python
///     module's probe: torch.utils.data.get_worker_info() is set), so N DataLoader workers use N cores,
///  4. ROBOCACHE_NUM_THREADS (read once per process, at the first launch),
///  5. the CPUs this process may run on.
/// Throws std::invalid_argument when ROBOCACHE_NUM_THREADS is set but is not a count.
int thread_count_in_force();

/// Sets the ways of every later launch in this process (1 of the policy); 0 returns to the policy's
/// default. Not inherited by a forked child. Throws std::invalid_argument outside [0, 4096].
void set_thread_count(int threads);

/// Tells the policy how to recognise a worker process (3 of the policy): the probe answers 1 (a
/// worker), 0 (not one; kept for the process) or -1 (cannot tell now; asked again at the next
/// launch the earlier rules leave to it). nullptr removes the probe.
void set_worker_probe(int (*probe)());

/// Why thread_count_in_force() gives what it gives: "set_num_threads", "engine", "forked child",
/// "worker", "ROBOCACHE_NUM_THREADS" or "cpus".
const char* thread_count_reason();

/// Sizes the process-wide pool instead of default_thread_count(), once: the first request (or the
/// pool's creation) fixes the count. Returns the count in force afterwards, which differs from
/// `threads` when it was fixed before. Throws std::invalid_argument outside [1, 4096].
int set_default_thread_count(int threads);

}  // namespace robocache
