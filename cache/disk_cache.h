#pragma once
/// The on-disk kernel cache: one self-validating file per key, atomic publish, lock-free reads.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "compiler/pipeline.h"

namespace robocache {

/// The cache directory from ROBOCACHE_CACHE_DIR, else $XDG_CACHE_HOME/robocache, else ~/.cache/robocache.
std::filesystem::path default_cache_dir();

/// A directory of cache entries, `<dir>/<key[0:2]>/<key>.rck`.
class DiskCache {
 public:
  /// Uses `dir`, creating it (mode 0700) on first store.
  explicit DiskCache(std::filesystem::path dir);

  /// The directory.
  const std::filesystem::path& dir() const { return dir_; }
  /// Where the entry for `key` lives (`key` must satisfy is_cache_key(); the cache's own methods
  /// check it and treat a malformed key as a miss that is never written).
  std::filesystem::path entry_path(const std::string& key) const;

  /// Reads the entry; a missing, short, corrupted or foreign entry is a miss (logged once).
  /// `rejected` is set when a file was there but failed its checks, including an entry file owned
  /// by another user (refused unread: a cache no one else can poison).
  /// When the directory itself is refused (see `refusal()`), every lookup is a plain miss.
  std::optional<ObjectCode> load(const std::string& key, bool* rejected = nullptr) const;
  /// Publishes an entry (temp file + fsync + rename). Returns false, with one warning, when the
  /// directory cannot be written; the caller carries on with the in-memory kernel.
  bool store(const std::string& key, const ObjectCode& code) const;

  /// Why the directory may not be used, or nullopt when it may (or does not exist yet). A directory
  /// owned by another user than the effective uid, or writable by group or others, is refused with
  /// one warning naming the path and the reason; the cache then reads and writes nothing.
  std::optional<std::string> refusal() const;

  /// Marks an entry as just used (sets its mtime), for least-recently-used eviction without atime.
  void touch(const std::string& key) const;

  /// How long lock() waits by default (ROBOCACHE_LOCK_TIMEOUT overrides it, see CacheOptions).
  static constexpr double kDefaultLockTimeoutSeconds = 60.0;

  /// An exclusive per-key lock across processes (flock on `<key>.lock`), held while compiling so
  /// concurrent processes compile a spec once. The holder writes its pid into the file and removes
  /// the file when it lets go, so lock files do not pile up. Empty (holding nothing) when the lock
  /// file cannot be made, the key is malformed, or the wait timed out.
  class KeyLock {
   public:
    KeyLock() = default;
    KeyLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
    KeyLock(KeyLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
    KeyLock& operator=(KeyLock&&) = delete;
    ~KeyLock();
    /// Whether the lock is held.
    bool held() const { return fd_ >= 0; }

   private:
    int fd_ = -1;
    std::filesystem::path path_;
  };
  /// Waits at most `timeout_s` seconds for the key's lock. On a timeout it warns once, naming the
  /// holder's pid, and returns an empty lock: the caller compiles on its own (publishing is atomic,
  /// so two compiles of one key are harmless) instead of waiting on a stopped or hung holder.
  KeyLock lock(const std::string& key, double timeout_s = kDefaultLockTimeoutSeconds) const;

 private:
  bool ensure_dir(const std::filesystem::path& shard) const;
  /// Why a shard folder may not be used (owned by another user, writable by group or others, not a
  /// folder); nullopt when it may or does not exist yet. Warns once.
  std::optional<std::string> shard_refusal(const std::filesystem::path& shard) const;
  std::filesystem::path dir_;
};

}  // namespace robocache
