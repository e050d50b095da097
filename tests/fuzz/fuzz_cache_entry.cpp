// libFuzzer target: the cache-entry decoder and the bundle reader on arbitrary bytes.
//
// 1. decode_cache_entry(bytes, fixed key). On success, re-encoding the result and decoding that
//    must give the same ObjectCode.
// 2. The same bytes with the checksum field recomputed, so mutations reach the JSON header and
//    field checks instead of stopping at "checksum mismatch" (a fuzzer cannot forge SHA-256).
// 3. The bytes as a bundle file: BundleReader::open (std::invalid_argument or std::runtime_error
//    is the expected rejection), then raw_entry/find for every key it lists.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cache/bundle.h"
#include "cache/cache_entry.h"
#include "support/sha256.h"
#include "tests/fuzz/fuzz_common.h"

using namespace robocache;

namespace {

constexpr std::size_t kChecksumAt = 16;  // "RCKENTRY" | u32 version | u32 header length
constexpr std::size_t kFixedBytes = kChecksumAt + 32;

bool same(const ObjectCode& a, const ObjectCode& b) {
  return a.target == b.target && a.config == b.config && a.format == b.format && a.bytes == b.bytes &&
         a.symbol == b.symbol && a.spec_json == b.spec_json && a.toolchain == b.toolchain;
}

void check_entry(std::string_view bytes) {
  EntryRejection why;
  auto code = decode_cache_entry(bytes, fuzz::kKey, &why);
  if (!code) {
    if (why.reason.empty()) fuzz::fail("rejection without a reason");
    return;
  }
  const std::string again = encode_cache_entry(fuzz::kKey, *code);
  auto code2 = decode_cache_entry(again, fuzz::kKey, &why);
  if (!code2) fuzz::fail("re-encoded entry is rejected", why.reason);
  if (!same(*code, *code2)) fuzz::fail("entry does not round-trip through encode/decode");
  if (encode_cache_entry(fuzz::kKey, *code2) != again) fuzz::fail("encoding is not deterministic");
  if (decode_cache_entry(again, fuzz::kKey + "0")) fuzz::fail("entry accepted under another key");
}

const std::filesystem::path& bundle_path() {
  static const std::filesystem::path p = [] {
    std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    return dir / ("robocache-fuzz-bundle-" + std::to_string(::getpid()));
  }();
  return p;
}

void check_bundle(std::string_view bytes) {
  const auto& path = bundle_path();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fuzz::fail("cannot write the temp bundle", path.string());
    if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  // Private, so the reader's trust check (no group/other write) passes whatever the umask.
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<BundleReader> r;
  try {
    r = BundleReader::open(path);
  } catch (const std::invalid_argument&) {  // not a bundle, or a key that is not a cache key
    return;
  } catch (const std::runtime_error&) {  // unreadable or untrusted
    return;
  }
  for (const std::string& key : r->keys()) {
    auto raw = r->raw_entry(key);
    if (!raw) fuzz::fail("listed key has no entry", key);
    bool rejected = false;
    auto code = r->find(key, &rejected);
    if (code.has_value() == rejected) fuzz::fail("find() result and `rejected` disagree", key);
  }
  if (r->find(fuzz::kKey + "x")) fuzz::fail("bundle finds a key it cannot hold");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_entry(bytes);
  if (size >= kFixedBytes) {
    std::string fixed(bytes);
    auto sum = Sha256().update(std::string_view(fixed).substr(kFixedBytes)).digest();
    fixed.replace(kChecksumAt, sum.size(), reinterpret_cast<const char*>(sum.data()), sum.size());
    check_entry(fixed);
  }
  check_bundle(bytes);
  return 0;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit([] { std::error_code ec; std::filesystem::remove(bundle_path(), ec); });
  return 0;
}
