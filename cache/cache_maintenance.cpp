#include "cache/cache_maintenance.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "cache/bundle.h"
#include "cache/cache_entry.h"

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

bool is_shard(const fs::directory_entry& d) {
  const std::string n = d.path().filename().string();
  return d.is_directory() && n.size() == 2 && std::all_of(n.begin(), n.end(), ::isxdigit);
}

// Visits every regular file inside the two-hex-digit shard directories.
template <typename Fn>
void for_each_shard_file(const DiskCache& cache, Fn fn) {
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(cache.dir(), ec)) {
    if (!is_shard(shard)) continue;
    for (const auto& f : fs::directory_iterator(shard.path(), ec))
      if (f.is_regular_file()) fn(f.path());
  }
}

}  // namespace

std::vector<CacheEntryInfo> list_cache_entries(const DiskCache& cache, bool check) {
  std::vector<CacheEntryInfo> out;
  for_each_shard_file(cache, [&](const fs::path& p) {
    if (p.extension() != ".rck" || p.filename().string()[0] == '.') return;
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
  for_each_shard_file(cache, [&](const fs::path& p) {
    const std::string name = p.filename().string();
    const bool stale_tmp = name[0] == '.' && p.extension() == ".tmp" && now_s - mtime_seconds(p) > 60;
    // A lock file is only a rendezvous point; removing one nobody holds is harmless.
    const bool idle_lock = p.extension() == ".lock" && now_s - mtime_seconds(p) > 60;
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
  for_each_shard_file(cache, [&](const fs::path& p) {
    std::error_code ec;
    if (fs::remove(p, ec) && p.extension() == ".rck" && p.filename().string()[0] != '.') ++removed;
  });
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

int import_cache_bundle(const DiskCache& cache, const fs::path& bundle) {
  auto reader = BundleReader::open(bundle);
  int imported = 0;
  for (const auto& key : reader->keys())
    if (auto code = reader->find(key); code && cache.store(key, *code)) ++imported;
  return imported;
}

}  // namespace robocache
