#include "cache/tuning_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "support/errors.h"
#include "support/user_text.h"

namespace fs = std::filesystem;

namespace robocache {

namespace {

constexpr const char* kFormat = "robocache-tuning/1";

const Json& field(const Json& o, const char* name, bool (Json::*is)() const, const std::string& where) {
  auto it = o.as_object().find(name);
  if (it == o.as_object().end() || !(it->second.*is)())
    throw std::invalid_argument(fmt::format("tuning database: {}.{} is missing or has the wrong type", where, name));
  return it->second;
}

Config config_field(const Json& o, const char* name, const std::string& where) {
  try {
    return Config::from_json(field(o, name, &Json::is_object, where));
  } catch (const SpecError& e) {
    throw std::invalid_argument(fmt::format("tuning database: {}.{}: {}", where, name, e.what()));
  }
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool same_except_sm(const TuningKey& a, const TuningKey& b) {
  return a.spec_hash == b.spec_hash && a.target == b.target && a.toolchain == b.toolchain;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Json TuningEntry::to_json() const {
  Json::Object o;
  o["spec_hash"] = Json::string(key.spec_hash);
  o["target"] = Json::string(key.target);
  o["sm_count"] = Json::integer(key.sm_count);
  o["toolchain"] = Json::string(key.toolchain);
  o["best"] = best.to_json();
  o["spec"] = Json::string(spec_json);
  o["shapes"] = shapes;
  Json::Array t;
  for (const auto& c : timings) {
    Json::Object row;
    row["config"] = c.config.to_json();
    row["median_us"] = Json::number(c.median_us);
    t.push_back(Json::object(std::move(row)));
  }
  o["timings"] = Json::array(std::move(t));
  o["heuristic_us"] = Json::number(heuristic_us);
  o["date"] = Json::string(date);
  return Json::object(std::move(o));
}

TuningEntry TuningEntry::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("tuning database: an entry must be an object");
  const std::string w = "entry";
  TuningEntry e;
  e.key.spec_hash = field(j, "spec_hash", &Json::is_string, w).as_string();
  e.key.target = field(j, "target", &Json::is_string, w).as_string();
  const std::int64_t sm = field(j, "sm_count", &Json::is_int, w).as_int();
  if (sm < 0 || sm > 1 << 20) throw std::invalid_argument("tuning database: entry.sm_count out of range");
  e.key.sm_count = static_cast<int>(sm);
  e.key.toolchain = field(j, "toolchain", &Json::is_string, w).as_string();
  e.best = config_field(j, "best", w);
  e.spec_json = field(j, "spec", &Json::is_string, w).as_string();
  if (auto it = j.as_object().find("shapes"); it != j.as_object().end()) e.shapes = it->second;
  for (const Json& row : field(j, "timings", &Json::is_array, w).as_array()) {
    if (!row.is_object()) throw std::invalid_argument("tuning database: entry.timings[] must be objects");
    e.timings.push_back({config_field(row, "config", "timings[]"),
                         field(row, "median_us", &Json::is_number, "timings[]").as_double()});
  }
  e.heuristic_us = field(j, "heuristic_us", &Json::is_number, w).as_double();
  e.date = field(j, "date", &Json::is_string, w).as_string();
  return e;
}

void TuningDb::put(TuningEntry entry) {
  if (entry.date.empty()) entry.date = utc_now();
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.key == entry.key; });
  if (it != entries_.end())
    *it = std::move(entry);
  else
    entries_.push_back(std::move(entry));
}

std::optional<TuningEntry> TuningDb::find(const TuningKey& key) const {
  const TuningEntry* best = nullptr;
  for (const auto& e : entries_) {
    if (key.sm_count != 0) {
      if (e.key == key) return e;
    } else if (same_except_sm(e.key, key) && (!best || e.key.sm_count > best->key.sm_count)) {
      best = &e;
    }
  }
  if (best) return *best;
  return std::nullopt;
}

bool TuningDb::erase(const TuningKey& key) {
  auto n = std::erase_if(entries_, [&](const auto& e) { return e.key == key; });
  return n > 0;
}

int TuningDb::merge(const TuningDb& other) {
  for (const auto& e : other.entries_) put(e);
  return static_cast<int>(other.entries_.size());
}

Json TuningDb::to_json() const {
  Json::Array a;
  for (const auto& e : entries_) a.push_back(e.to_json());
  Json::Object o;
  o["format"] = Json::string(kFormat);
  o["entries"] = Json::array(std::move(a));
  return Json::object(std::move(o));
}

TuningDb TuningDb::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("tuning database: expected a JSON object");
  const Json& format = field(j, "format", &Json::is_string, "database");
  if (format.as_string() != kFormat)
    throw std::invalid_argument(fmt::format("tuning database: format '{}' is not '{}'", shown(format.as_string()), kFormat));
  TuningDb db;
  for (const Json& e : field(j, "entries", &Json::is_array, "database").as_array()) db.put(TuningEntry::from_json(e));
  return db;
}

TuningDb TuningDb::load(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::invalid_argument(fmt::format("tuning database {}: cannot read ({})", path.string(), errno_text()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return from_json(Json::parse(text.str()));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{} ({})", e.what(), path.string()));
  }
}

void TuningDb::save(const fs::path& path) const {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    // Same rule as the kernel cache: a directory we create is ours alone.
    fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw std::runtime_error(fmt::format("tuning database: cannot create {} ({})", dir.string(), errno_text()));
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = dir / fmt::format(".{}.{}.{:016x}.tmp", path.filename().string(), ::getpid(), rng());
  const std::string data = to_json().dump() + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("tuning database: cannot write {} ({})", tmp.string(), errno_text()));
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = ok ? errno_text() : std::strerror(saved);
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("tuning database: cannot write {} ({})", path.string(), why));
  }
}

fs::path tuning_db_path(const fs::path& cache_dir) {
  if (const char* p = std::getenv("ROBOCACHE_TUNING_DB"); p && *p) return p;
  if (cache_dir.empty()) return {};
  return cache_dir / "tuning.json";
}

}  // namespace robocache
