#include "cache/bundle.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "cache/cache_entry.h"

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
    if (key.size() != kKeyBytes) throw std::invalid_argument("bundle keys are 64 hex characters: " + key);
    out += key;
    put_le(out, offset, 8);
    put_le(out, bytes.size(), 8);
    offset += bytes.size();
  }
  for (const auto& [key, bytes] : entries) out += bytes;

  fs::path tmp = path;
  tmp += fmt::format(".{}.tmp", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) throw std::runtime_error(fmt::format("cannot write bundle {}", tmp.string()));
  }
  fs::rename(tmp, path);
}

std::unique_ptr<BundleReader> BundleReader::open(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("cannot open cache bundle {}", path.string()));
  std::ostringstream ss;
  ss << f.rdbuf();
  auto r = std::unique_ptr<BundleReader>(new BundleReader());
  r->path_ = path;
  r->bytes_ = ss.str();
  const std::string_view b = r->bytes_;
  auto bad = [&](const char* why) {
    return std::runtime_error(fmt::format("{} is not a robocache bundle: {}", path.string(), why));
  };
  if (b.size() < kMagic.size() + 8 || b.substr(0, kMagic.size()) != kMagic) throw bad("bad magic");
  if (get_le(b, kMagic.size(), 4) != kVersion) throw bad("unsupported version");
  const std::uint64_t count = get_le(b, kMagic.size() + 4, 4);
  const std::size_t index_at = kMagic.size() + 8;
  if (b.size() < index_at + count * kIndexRow) throw bad("truncated index");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t row = index_at + i * kIndexRow;
    std::string key(b.substr(row, kKeyBytes));
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

}  // namespace robocache
