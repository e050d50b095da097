#include "cache/cache_maintenance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cache/bundle.h"
#include "cache/cache_entry.h"
#include "cache/cache_key.h"
#include "support/user_text.h"

namespace fs = std::filesystem;

namespace robocache {

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::int64_t mtime_ns(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

std::int64_t mtime_seconds(const fs::path& p) { return mtime_ns(p) / 1000000000; }

// The cache owns only what it names itself: shard folders of two lowercase hex digits, and in
// them `<key>.rck` entries, `<key>.lock` lock files and `.<key>.<pid>.<16 hex>.tmp` temp files,
// each with a key that starts with its shard's name. Anything else a user keeps under the same
// folder (a `db/` or `00/` of their own, notes, other extensions) is never listed nor removed.
bool is_shard(const fs::directory_entry& d) {
  const std::string n = d.path().filename().string();
  std::error_code ec;
  return d.is_directory(ec) && !d.is_symlink(ec) && n.size() == 2 &&
         std::all_of(n.begin(), n.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

enum class OwnFile { None, Entry, Lock, Temp };

bool all_digits(std::string_view s, bool hex) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Which of the cache's own kinds of file `name` is, inside the shard `shard`; None for any other.
OwnFile own_file(const std::string& shard, std::string_view name) {
  auto keyed = [&](std::string_view key) { return is_cache_key(key) && key.substr(0, 2) == shard; };
  auto ends = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends(".rck") && name[0] != '.' && keyed(name.substr(0, name.size() - 4))) return OwnFile::Entry;
  if (ends(".lock") && keyed(name.substr(0, name.size() - 5))) return OwnFile::Lock;
  if (ends(".tmp") && name[0] == '.' && name.size() > 65 && keyed(name.substr(1, 64)) && name[65] == '.') {
    // .<key>.<pid>.<16 hex>.tmp
    std::string_view rest = name.substr(66, name.size() - 66 - 4);
    const std::size_t dot = rest.find('.');
    if (dot != std::string_view::npos && all_digits(rest.substr(0, dot), false) &&
        rest.size() - dot - 1 == 16 && all_digits(rest.substr(dot + 1), true))
      return OwnFile::Temp;
  }
  return OwnFile::None;
}

// Visits the cache's own regular files (not symbolic links) inside the shard folders.
template <typename Fn>
void for_each_own_file(const DiskCache& cache, Fn fn) {
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(cache.dir(), ec)) {
    if (!is_shard(shard)) continue;
    const std::string shard_name = shard.path().filename().string();
    std::error_code ec2;
    for (const auto& f : fs::directory_iterator(shard.path(), ec2)) {
      std::error_code ec3;
      if (!f.is_regular_file(ec3) || f.is_symlink(ec3)) continue;
      const OwnFile kind = own_file(shard_name, f.path().filename().string());
      if (kind != OwnFile::None) fn(f.path(), kind);
    }
  }
}

}  // namespace

std::vector<CacheEntryInfo> list_cache_entries(const DiskCache& cache, bool check) {
  std::vector<CacheEntryInfo> out;
  for_each_own_file(cache, [&](const fs::path& p, OwnFile kind) {
    if (kind != OwnFile::Entry) return;
    CacheEntryInfo e;
    e.key = p.stem().string();
    e.path = p;
    std::error_code ec;
    e.bytes = fs::file_size(p, ec);
    e.last_used_ns = mtime_ns(p);
    if (check) {
      EntryRejection why;
      if (auto code = decode_cache_entry(read_all(p), e.key, &why)) {
        e.valid = true;
        e.format = code->format;
        e.target = code->target.name();
        e.spec_json = code->spec_json;
        e.toolchain = code->toolchain;
      } else {
        e.problem = why.reason;
      }
    }
    out.push_back(std::move(e));
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.last_used_ns != b.last_used_ns ? a.last_used_ns < b.last_used_ns : a.key < b.key;
  });
  return out;
}

std::uint64_t cache_size_bytes(const DiskCache& cache) {
  std::uint64_t total = 0;
  for (const auto& e : list_cache_entries(cache, false)) total += e.bytes;
  return total;
}

int evict_least_recently_used(const DiskCache& cache, std::uint64_t max_bytes, const std::string& keep_key) {
  auto entries = list_cache_entries(cache, false);
  std::uint64_t total = 0;
  for (const auto& e : entries) total += e.bytes;
  int removed = 0;
  for (const auto& e : entries) {
    if (total <= max_bytes) break;
    if (e.key == keep_key) continue;
    std::error_code ec;
    if (fs::remove(e.path, ec)) {
      total -= e.bytes;
      ++removed;
    }
  }
  return removed;
}

GcReport gc_cache(const DiskCache& cache, std::uint64_t max_bytes) {
  GcReport r;
  const auto now = std::chrono::system_clock::now();
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  for_each_own_file(cache, [&](const fs::path& p, OwnFile kind) {
    const bool stale_tmp = kind == OwnFile::Temp && now_s - mtime_seconds(p) > 60;
    // A lock file is only a rendezvous point; removing one nobody holds is harmless.
    const bool idle_lock = kind == OwnFile::Lock && now_s - mtime_seconds(p) > 60;
    std::error_code ec;
    if ((stale_tmp || idle_lock) && fs::remove(p, ec)) ++r.stale_removed;
  });
  for (const auto& e : list_cache_entries(cache, true)) {
    std::error_code ec;
    if (!e.valid && fs::remove(e.path, ec)) ++r.bad_removed;
  }
  r.evicted = evict_least_recently_used(cache, max_bytes);
  return r;
}

int clear_cache(const DiskCache& cache) {
  int removed = 0;
  std::vector<fs::path> shards;
  for_each_own_file(cache, [&](const fs::path& p, OwnFile kind) {
    std::error_code ec;
    if (fs::remove(p, ec) && kind == OwnFile::Entry) ++removed;
    shards.push_back(p.parent_path());
  });
  // Shard folders left empty go too; rmdir leaves any folder that still holds something.
  for (const auto& s : shards) ::rmdir(s.c_str());
  return removed;
}

int export_cache_bundle(const DiskCache& cache, const fs::path& bundle) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& e : list_cache_entries(cache, false)) {
    std::string bytes = read_all(e.path);
    if (decode_cache_entry(bytes, e.key)) entries.emplace_back(e.key, std::move(bytes));
  }
  std::sort(entries.begin(), entries.end());
  write_bundle(bundle, entries);
  return static_cast<int>(entries.size());
}

int export_cache_bundle(const DiskCache& cache, const fs::path& bundle, const std::vector<std::string>& keys) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& key : keys) {
    if (!is_cache_key(key))
      throw std::invalid_argument(fmt::format("'{}' is not a cache key (64 hex digits)", shown(key)));
    if (std::any_of(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; })) continue;
    const fs::path path = cache.entry_path(key);
    std::error_code ec;
    std::string bytes = fs::is_regular_file(path, ec) ? read_all(path) : std::string();
    if (!decode_cache_entry(bytes, key))
      throw std::invalid_argument(fmt::format("no valid entry for key {} in the cache directory {}", key,
                                              cache.dir().string()));
    entries.emplace_back(key, std::move(bytes));
  }
  std::sort(entries.begin(), entries.end());
  write_bundle(bundle, entries);
  return static_cast<int>(entries.size());
}

int import_cache_bundle(const DiskCache& cache, const fs::path& bundle) {
  auto reader = BundleReader::open(bundle);
  int imported = 0;
  for (const auto& key : reader->keys())
    if (auto code = reader->find(key); code && cache.store(key, *code)) ++imported;
  return imported;
}

}  // namespace robocache
