#include "cache/disk_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "cache/cache_entry.h"
#include "cache/cache_key.h"
#include "support/log.h"
#include "support/user_text.h"

namespace fs = std::filesystem;

namespace robocache {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Why a file we are about to trust may not be trusted, from its fstat: nullopt when it may.
std::optional<std::string> untrusted_owner(const struct stat& st) {
  if (st.st_uid != ::geteuid())
    return fmt::format("owned by uid {}, not by this process's uid {}", st.st_uid, ::geteuid());
  return std::nullopt;
}

// Why a folder we are about to read from or write into may not be trusted: nullopt when it may.
std::optional<std::string> untrusted_folder(const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) return std::string("not a directory");
  if (auto owner = untrusted_owner(st)) return owner;
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format("writable by group or others (mode {:04o}); chmod it 0700", st.st_mode & 07777);
  return std::nullopt;
}

// Reads a whole file; nullopt when it cannot be opened or read (ENOENT, ESTALE, EIO...).
// A file that is not a regular file, or is owned by another user, is not read: `refused` says why.
std::optional<std::string> read_file(const fs::path& p, std::string* refused) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) *refused = "a symbolic link";
    return std::nullopt;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *refused = "not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  if (auto why = untrusted_owner(st)) {
    *refused = *why;
    ::close(fd);
    return std::nullopt;
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

}  // namespace

fs::path default_cache_dir() {
  if (const char* d = std::getenv("ROBOCACHE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "robocache";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "robocache";
  return fs::temp_directory_path() / fmt::format("robocache-{}", ::getuid());
}

DiskCache::DiskCache(fs::path dir) : dir_(std::move(dir)) {}

fs::path DiskCache::entry_path(const std::string& key) const {
  return dir_ / key.substr(0, 2) / (key + ".rck");
}

std::optional<std::string> DiskCache::refusal() const {
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0) return std::nullopt;  // absent: store() creates it 0700
  if (!S_ISDIR(st.st_mode)) return std::nullopt;  // store() fails on it with its own warning
  std::optional<std::string> why = untrusted_folder(st);
  if (why)
    warn_once(fmt::format("refusing the kernel cache directory {} ({}); nothing is read from or "
                          "written to it, kernels are compiled and kept in memory only",
                          dir_.string(), *why));
  return why;
}

std::optional<std::string> DiskCache::shard_refusal(const fs::path& shard) const {
  // lstat: a symbolic link in place of a shard folder is refused too ("not a directory").
  struct stat st;
  if (::lstat(shard.c_str(), &st) != 0) return std::nullopt;  // absent: ensure_dir() makes it 0700
  std::optional<std::string> why = untrusted_folder(st);
  if (why)
    warn_once(fmt::format("refusing the kernel cache folder {} ({}); entries in it are not read and "
                          "none are written to it",
                          shard.string(), *why));
  return why;
}

std::optional<ObjectCode> DiskCache::load(const std::string& key, bool* rejected) const {
  if (rejected) *rejected = false;
  if (!is_cache_key(key) || refusal()) return std::nullopt;
  if (shard_refusal(entry_path(key).parent_path())) return std::nullopt;
  std::string refused;
  auto bytes = read_file(entry_path(key), &refused);
  if (!refused.empty()) {
    if (rejected) *rejected = true;
    warn_once(fmt::format("refusing cache entry {} ({}); it is not loaded and the kernel is recompiled",
                          entry_path(key).string(), refused));
    return std::nullopt;
  }
  if (!bytes) return std::nullopt;
  EntryRejection why;
  auto code = decode_cache_entry(*bytes, key, &why);
  if (!code && rejected) *rejected = true;
  if (!code)
    warn_once(fmt::format("ignoring bad cache entry {} ({}); it will be recompiled and replaced",
                          entry_path(key).string(), why.reason));
  return code;
}

bool DiskCache::ensure_dir(const fs::path& shard) const {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    fs::create_directories(dir_.parent_path(), ec);
    if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  if (::mkdir(shard.c_str(), 0700) != 0 && errno != EEXIST) return false;
  return true;
}

bool DiskCache::store(const std::string& key, const ObjectCode& code) const {
  const fs::path final_path = entry_path(key);
  const fs::path shard = final_path.parent_path();
  auto fail = [&](const std::string& what) {
    warn_once(fmt::format("cannot write the kernel cache at {} ({}: {}); kernels are compiled and "
                          "kept in memory only",
                          dir_.string(), what, errno_text()));
    return false;
  };
  if (!is_cache_key(key)) {
    warn_once(fmt::format("not storing a cache entry under the malformed key '{}' (a key is 64 hex digits)",
                          shown(key)));
    return false;
  }
  if (refusal() || shard_refusal(shard)) return false;  // warned once already
  if (!ensure_dir(shard)) return fail("mkdir");
  const fs::path tmp = shard / fmt::format(".{}.{}.{}.tmp", key, ::getpid(), random_suffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("open");
  const std::string data = encode_cache_entry(key, code);
  if (!write_all(fd, data) || ::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    return fail("write");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return fail("rename");
  }
  // Make the rename itself durable.
  if (int dfd = ::open(shard.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

void DiskCache::touch(const std::string& key) const {
  if (!is_cache_key(key) || refusal()) return;
  ::utimensat(AT_FDCWD, entry_path(key).c_str(), nullptr, 0);  // best effort: a failure only ages it
}

DiskCache::KeyLock::~KeyLock() {
  if (fd_ < 0) return;
  // Unlinked while still held, then released: a waiter that opened this file sees, once it gets
  // the flock, that the path no longer names its file and starts over (see lock()).
  ::unlink(path_.c_str());
  ::close(fd_);  // closing releases the flock
}

namespace {

// The pid a lock holder wrote into its lock file, or "unknown".
std::string lock_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) pid += buf[i];
  return pid.empty() ? "unknown" : pid;
}

// Whether `fd` is still the file at `path` (a holder removes the file when it lets go).
bool still_linked(int fd, const fs::path& path) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

DiskCache::KeyLock DiskCache::lock(const std::string& key, double timeout_s) const {
  if (!is_cache_key(key)) return KeyLock();
  const fs::path shard = entry_path(key).parent_path();
  if (refusal() || shard_refusal(shard) || !ensure_dir(shard)) return KeyLock();
  const fs::path lock_path = shard / (key + ".lock");
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(std::max(0.0, timeout_s)));
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return KeyLock();
    // Poll with a growing pause instead of blocking in flock, so the wait has an end.
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) {
        ::close(fd);
        return KeyLock();
      }
      if (Clock::now() >= deadline) {
        const std::string holder = lock_holder(fd);
        ::close(fd);
        warn_once(fmt::format("waited {:g} s for the compile lock {}, held by pid {}; compiling without it "
                              "(set ROBOCACHE_LOCK_TIMEOUT to wait longer)",
                              timeout_s, lock_path.string(), holder));
        return KeyLock();
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    if (!still_linked(fd, lock_path)) {
      ::close(fd);  // the previous holder removed it after we opened it: take the new one
      continue;
    }
    // Who holds it, for the message of a waiter that gives up.
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
    return KeyLock(fd, lock_path);
  }
}

}  // namespace robocache
