#include "cache/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "cache/cache_entry.h"
#include "cache/cache_key.h"
#include "support/user_text.h"

namespace fs = std::filesystem;

namespace robocache {

namespace {

constexpr std::string_view kMagic = "RCBUNDLE";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kKeyBytes = 64;
constexpr std::size_t kIndexRow = kKeyBytes + 16;

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

}  // namespace

void write_bundle(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  out += kMagic;
  put_le(out, kVersion, 4);
  put_le(out, entries.size(), 4);
  std::uint64_t offset = out.size() + entries.size() * kIndexRow;
  for (const auto& [key, bytes] : entries) {
    if (!is_cache_key(key))
      throw std::invalid_argument(fmt::format("bundle keys are 64 hex digits, got '{}'", shown(key)));
    out += key;
    put_le(out, offset, 8);
    put_le(out, bytes.size(), 8);
    offset += bytes.size();
  }
  for (const auto& [key, bytes] : entries) out += bytes;

  fs::path tmp = path;
  tmp += fmt::format(".{}.tmp", ::getpid());
  // Whatever fails (a full disk, a folder in the way of the rename), no temp file is left behind.
  auto fail = [&](const std::string& what) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return std::runtime_error(fmt::format("cannot write bundle {}: {}", path.string(), what));
  };
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw fail(fmt::format("cannot create {}", tmp.string()));
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) throw fail("write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw fail(ec.message());
}

std::optional<std::string> bundle_trust_problem(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return std::string("not a regular file");
  // Deployments ship bundles owned by root and read-only; a user's own bundles are trusted too.
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    return fmt::format("owned by uid {}, neither this process's uid {} nor root", st.st_uid, ::geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format("writable by group or others (mode {:04o}); chmod it 0644 or 0444", st.st_mode & 07777);
  return std::nullopt;
}

std::unique_ptr<BundleReader> BundleReader::open(const fs::path& path) {
  // The checks read the opened file's own status, so the file cannot be swapped between check and read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open cache bundle {}", path.string()));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot open cache bundle {}", path.string()));
  }
  if (auto why = bundle_trust_problem(st)) {
    ::close(fd);
    throw std::runtime_error(fmt::format("refusing cache bundle {} ({}): its native code would run in this process",
                                         path.string(), *why));
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw std::runtime_error(fmt::format("cannot read cache bundle {}", path.string()));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto r = std::unique_ptr<BundleReader>(new BundleReader());
  r->path_ = path;
  r->bytes_ = std::move(bytes);
  const std::string_view b = r->bytes_;
  auto bad = [&](const std::string& why) {
    return std::invalid_argument(fmt::format("{} is not a robocache bundle: {}", path.string(), why));
  };
  if (b.size() < kMagic.size() + 8 || b.substr(0, kMagic.size()) != kMagic) throw bad("bad magic");
  if (get_le(b, kMagic.size(), 4) != kVersion) throw bad("unsupported version");
  const std::uint64_t count = get_le(b, kMagic.size() + 4, 4);
  const std::size_t index_at = kMagic.size() + 8;
  if (b.size() < index_at + count * kIndexRow) throw bad("truncated index");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t row = index_at + i * kIndexRow;
    std::string key(b.substr(row, kKeyBytes));
    // A key names a file when the bundle is imported: one that is not a cache key ("../..", "/")
    // marks a forged bundle, refused whole.
    if (!is_cache_key(key))
      throw bad(fmt::format("entry {} has the key '{}', which is not 64 hex digits", i, shown(key)));
    std::uint64_t off = get_le(b, row + kKeyBytes, 8), len = get_le(b, row + kKeyBytes + 8, 8);
    if (off > b.size() || len > b.size() - off) throw bad("entry outside the file");
    r->index_[key] = {off, len};
  }
  return r;
}

std::vector<std::string> BundleReader::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : index_) out.push_back(k);
  return out;
}

std::optional<std::string> BundleReader::raw_entry(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return bytes_.substr(it->second.first, it->second.second);
}

std::optional<ObjectCode> BundleReader::find(const std::string& key, bool* rejected) const {
  if (rejected) *rejected = false;
  auto raw = raw_entry(key);
  if (!raw) return std::nullopt;
  auto code = decode_cache_entry(*raw, key);
  if (!code && rejected) *rejected = true;
  return code;
}

std::vector<ObjectCode> BundleReader::builds_of(const std::string& spec_json) const {
  std::vector<ObjectCode> out;
  for (const auto& key : keys()) {
    auto code = find(key);
    if (code && code->spec_json == spec_json) out.push_back(std::move(*code));
  }
  return out;
}

}  // namespace robocache
