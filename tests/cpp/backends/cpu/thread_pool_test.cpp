#include "backends/cpu/thread_pool.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace robocache {
namespace {

// Sets or clears an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void expect_each_index_once(ThreadPool& pool, std::int64_t n, std::int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  pool.parallel_for(n, grain, [&](std::int64_t begin, std::int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, n);
    for (std::int64_t i = begin; i < end; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
  });
  for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)].load(), 1) << "index " << i;
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4);
  for (std::int64_t n : {1, 2, 3, 7, 64, 1000, 12345})
    for (std::int64_t grain : {1, 3, 64, 1000, 100000}) expect_each_index_once(pool, n, grain);
}

TEST(ThreadPool, NothingToDoCallsNothing) {
  ThreadPool pool(2);
  int calls = 0;
  pool.parallel_for(0, 10, [&](std::int64_t, std::int64_t) { ++calls; });
  pool.parallel_for(-5, 10, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPool, SmallLoopRunsInlineOnTheCaller) {
  ThreadPool pool(4);
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  std::thread::id ran_on;
  pool.parallel_for(100, 100, [&](std::int64_t b, std::int64_t e) {
    calls.emplace_back(b, e);  // no lock: an inline run is the only call
    ran_on = std::this_thread::get_id();
  });
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(std::int64_t{0}, std::int64_t{100}));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(ThreadPool, LoopJustAboveGrainStillUsesEveryThread) {
  ThreadPool pool(4);
  std::mutex m;
  std::set<std::pair<std::int64_t, std::int64_t>> chunks;
  pool.parallel_for(1001, 1000, [&](std::int64_t b, std::int64_t e) {
    std::lock_guard<std::mutex> lock(m);
    chunks.emplace(b, e);
  });
  EXPECT_EQ(chunks.size(), 4u);
}

TEST(ThreadPool, OneThreadPoolRunsEverythingInline) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1);
  int calls = 0;
  pool.parallel_for(1000, 1, [&](std::int64_t b, std::int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1000);
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, ExceptionReachesTheCallerAndPoolKeepsWorking) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(1000, 10,
                                 [](std::int64_t b, std::int64_t e) {
                                   if (b <= 500 && 500 < e) throw std::runtime_error("chunk with 500 failed");
                                 }),
               std::runtime_error);
  try {
    pool.parallel_for(10, 100, [](std::int64_t, std::int64_t) { throw std::logic_error("inline failure"); });
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "inline failure");
  }
  expect_each_index_once(pool, 5000, 7);
}

TEST(ThreadPool, ConcurrentCallersAndNestedLoops) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<std::int64_t> total{0};
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 20; ++rep) {
        pool.parallel_for(64, 4, [&](std::int64_t b, std::int64_t e) {
          // A loop inside a loop must not deadlock, whichever thread runs the outer chunk.
          pool.parallel_for(100, 10, [&](std::int64_t ib, std::int64_t ie) { total.fetch_add((e - b) * (ie - ib)); });
        });
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 20 * 64 * 100);
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool(0), std::invalid_argument); }

TEST(ThreadCount, ParsesValidValues) {
  EXPECT_EQ(parse_thread_count("1"), 1);
  EXPECT_EQ(parse_thread_count("16"), 16);
  EXPECT_EQ(parse_thread_count(" 8 "), 8);
  EXPECT_EQ(parse_thread_count("4096"), 4096);
}

TEST(ThreadCount, RejectsBadValuesNamingTheVariable) {
  for (const char* bad : {"0", "-1", "abc", "4x", "1.5", "99999", "", "0x10", "+3"}) {
    try {
      parse_thread_count(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("ROBOCACHE_NUM_THREADS"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(ThreadCount, EnvironmentOverridesAffinity) {
  {
    ScopedEnv env("ROBOCACHE_NUM_THREADS", "3");
    EXPECT_EQ(default_thread_count(), 3);
    EXPECT_EQ(ThreadPool().size(), 3);
  }
  {
    ScopedEnv env("ROBOCACHE_NUM_THREADS", "lots");
    EXPECT_THROW(default_thread_count(), std::invalid_argument);
  }
  {
    ScopedEnv env("ROBOCACHE_NUM_THREADS", nullptr);
    int n = default_thread_count();
    EXPECT_GE(n, 1);
    EXPECT_LE(n, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
  {
    ScopedEnv env("ROBOCACHE_NUM_THREADS", "");  // empty counts as unset
    EXPECT_GE(default_thread_count(), 1);
  }
}

TEST(ThreadPool, DefaultPoolIsSharedAndWorksInAForkedChild) {
  ThreadPool& pool = default_thread_pool();
  EXPECT_EQ(&pool, &default_thread_pool());
  expect_each_index_once(pool, 10000, 10);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    alarm(20);  // a deadlock in the child fails the test instead of hanging it
    std::atomic<std::int64_t> sum{0};
    default_thread_pool().parallel_for(10000, 10, [&](std::int64_t b, std::int64_t e) { sum.fetch_add(e - b); });
    _exit(sum.load() == 10000 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ThreadPool, ALoopUsesAtMostTheWaysSetEvenInABiggerPool) {
  ThreadPool pool(4);
  pool.set_ways(2);
  EXPECT_EQ(pool.size(), 4);
  EXPECT_EQ(pool.ways(), 2);
  for (int rep = 0; rep < 20; ++rep) {
    std::mutex mu;
    std::set<std::thread::id> ids;
    pool.parallel_for(4000, 1, [&](std::int64_t, std::int64_t) {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    });
    EXPECT_LE(ids.size(), 2u);
  }
  expect_each_index_once(pool, 10000, 10);
}

TEST(ThreadPool, SetWaysGrowsThePool) {
  ThreadPool pool(1);
  pool.set_ways(3);
  EXPECT_EQ(pool.size(), 3);
  expect_each_index_once(pool, 10000, 10);
  EXPECT_THROW(pool.set_ways(0), std::invalid_argument);
}

TEST(ThreadPolicy, ExplicitCountWinsAndZeroRestoresTheDefault) {
  const int before = thread_count_in_force();
  set_thread_count(3);
  EXPECT_EQ(thread_count_in_force(), 3);
  EXPECT_STREQ(thread_count_reason(), "set_num_threads");
  EXPECT_EQ(default_thread_pool().ways(), 3);
  set_thread_count(0);
  EXPECT_EQ(thread_count_in_force(), before);
  EXPECT_THROW(set_thread_count(-1), std::invalid_argument);
}

TEST(ThreadPolicy, AForkedChildUsesOneThread) {
  set_thread_count(2);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    alarm(20);
    const bool one = thread_count_in_force() == 1 && default_thread_pool().ways() == 1 &&
                     std::string(thread_count_reason()) == "forked child";
    _exit(one ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  set_thread_count(0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace robocache
