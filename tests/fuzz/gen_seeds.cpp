// Writes the generated seeds of the fuzz corpora (run by hand after a format change; the output
// is committed):
//   fuzz_gen_seeds <tests/fuzz/corpus>
// - fuzz_spec_parser/gen_*.json: canonical JSON of one spec of each op (and channel groups);
// - fuzz_cache_entry/entry.bin: a real encoded cache entry under fuzz::kKey;
// - fuzz_cache_entry/bundle.bin: a real bundle holding that entry.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cache/bundle.h"
#include "cache/cache_entry.h"
#include "compiler/spec.h"
#include "tests/fuzz/fuzz_common.h"

using namespace robocache;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
  std::printf("wrote %s (%zu bytes)\n", p.c_str(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];

  ResampleSpec grouped;
  grouped.dtype = DType::F32;
  grouped.dim = 7;
  grouped.groups = {{0, 3, Interp::Linear}, {3, 4, Interp::Slerp}};
  FuseSpec fuse;
  fuse.dtype = DType::F32;
  fuse.modalities = {{3, Interp::Linear}, {4, Interp::Slerp}, {1, Interp::Previous}};
  VoxelizeSpec vox;
  vox.mode = VoxelMode::Mean;
  vox.features = 2;
  write(out / "fuzz_spec_parser/gen_resample_groups.json", Spec(grouped).canonical_json());
  write(out / "fuzz_spec_parser/gen_fuse.json", Spec(fuse).canonical_json());
  write(out / "fuzz_spec_parser/gen_voxelize.json", Spec(vox).canonical_json());

  ResampleSpec plain;
  plain.dim = 8;
  ObjectCode code;
  code.target.kind = Target::Kind::Cpu;
  code.target.arch = "x86-64";
  code.target.features = "+sse2";
  code.format = "elf-object";
  code.symbol = "robocache_resample_f32_f64_d8";
  code.bytes = std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16) + std::string(48, '\0');
  code.spec_json = Spec(plain).canonical_json();
  code.toolchain = "llvm-14 -O3";
  const std::string entry = encode_cache_entry(fuzz::kKey, code);
  if (!decode_cache_entry(entry, fuzz::kKey)) throw std::runtime_error("seed entry does not decode");
  write(out / "fuzz_cache_entry/entry.bin", entry);

  const fs::path bundle = out / "fuzz_cache_entry/bundle.bin";
  write_bundle(bundle, {{fuzz::kKey, entry}});
  if (!BundleReader::open(bundle)->find(fuzz::kKey)) throw std::runtime_error("seed bundle does not read");
  std::printf("wrote %s\n", bundle.c_str());
  return 0;
}
