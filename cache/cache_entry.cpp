#include "cache/cache_entry.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "cache/cache_key.h"
#include "support/json.h"
#include "support/sha256.h"

namespace robocache {

namespace {

constexpr std::string_view kMagic = "RCKENTRY";
constexpr std::uint32_t kMaxHeaderBytes = 1 << 20;
constexpr std::size_t kChecksumBytes = 32;
constexpr std::size_t kFixedBytes = 8 + 4 + 4 + kChecksumBytes;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint32_t get_u32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return v;
}

Json target_to_json(const Target& t) {
  Json::Object o;
  o["kind"] = Json::string(t.kind == Target::Kind::Cpu ? "cpu" : "cuda");
  o["arch"] = Json::string(t.arch);
  o["features"] = Json::string(t.features);
  return Json::object(std::move(o));
}

const Json& field(const Json& j, const char* name, bool (Json::*is)() const) {
  auto it = j.as_object().find(name);
  if (it == j.as_object().end() || !(it->second.*is)())
    throw std::invalid_argument(fmt::format("header field '{}' missing or of the wrong type", name));
  return it->second;
}

}  // namespace

std::string encode_cache_entry(const std::string& key, const ObjectCode& code) {
  Json::Object h;
  h["key"] = Json::string(key);
  h["format"] = Json::string(code.format);
  h["symbol"] = Json::string(code.symbol);
  h["target"] = target_to_json(code.target);
  h["config"] = code.config.to_json();
  h["binary_bytes"] = Json::integer(static_cast<std::int64_t>(code.bytes.size()));
  h["spec"] = Json::string(code.spec_json);
  h["toolchain"] = Json::string(code.toolchain);
  std::string header = Json::object(std::move(h)).dump();
  auto checksum = Sha256().update(header).update(code.bytes).digest();

  std::string out;
  out.reserve(kFixedBytes + header.size() + code.bytes.size());
  out += kMagic;
  put_u32(out, kCacheFormatVersion);
  put_u32(out, static_cast<std::uint32_t>(header.size()));
  out.append(reinterpret_cast<const char*>(checksum.data()), checksum.size());
  out += header;
  out += code.bytes;
  return out;
}

std::optional<ObjectCode> decode_cache_entry(std::string_view bytes, const std::string& expected_key,
                                             EntryRejection* why) {
  auto reject = [why](std::string reason) -> std::optional<ObjectCode> {
    if (why) why->reason = std::move(reason);
    return std::nullopt;
  };
  const std::size_t fixed = kFixedBytes;
  if (bytes.size() < fixed) return reject("file shorter than the entry header");
  if (bytes.substr(0, kMagic.size()) != kMagic) return reject("bad magic");
  if (get_u32(bytes, kMagic.size()) != kCacheFormatVersion)
    return reject(fmt::format("format version {} (expected {})", get_u32(bytes, kMagic.size()),
                              kCacheFormatVersion));
  std::uint32_t header_len = get_u32(bytes, kMagic.size() + 4);
  if (header_len > kMaxHeaderBytes || bytes.size() < fixed + header_len)
    return reject("truncated header");
  const std::string_view header = bytes.substr(fixed, header_len);
  const std::string_view binary = bytes.substr(fixed + header_len);
  auto checksum = Sha256().update(header).update(binary).digest();
  if (bytes.substr(kMagic.size() + 8, kChecksumBytes) !=
      std::string_view(reinterpret_cast<const char*>(checksum.data()), checksum.size()))
    return reject("checksum mismatch (corrupted or truncated)");
  try {
    Json h = Json::parse(header);
    if (!h.is_object()) return reject("header is not an object");
    if (field(h, "key", &Json::is_string).as_string() != expected_key)
      return reject("entry belongs to another key");
    if (field(h, "binary_bytes", &Json::is_int).as_int() != static_cast<std::int64_t>(binary.size()))
      return reject("binary length does not match the header");
    ObjectCode code;
    code.format = field(h, "format", &Json::is_string).as_string();
    code.symbol = field(h, "symbol", &Json::is_string).as_string();
    code.spec_json = field(h, "spec", &Json::is_string).as_string();
    code.toolchain = field(h, "toolchain", &Json::is_string).as_string();
    code.config = Config::from_json(field(h, "config", &Json::is_object));
    const Json& t = field(h, "target", &Json::is_object);
    code.target.kind = field(t, "kind", &Json::is_string).as_string() == "cpu" ? Target::Kind::Cpu
                                                                               : Target::Kind::Cuda;
    code.target.arch = field(t, "arch", &Json::is_string).as_string();
    code.target.features = field(t, "features", &Json::is_string).as_string();
    code.bytes.assign(binary.data(), binary.size());
    return code;
  } catch (const std::exception& e) {
    return reject(std::string("malformed header: ") + e.what());
  }
}

}  // namespace robocache
