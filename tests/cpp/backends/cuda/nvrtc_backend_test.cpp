// The CUDA backend up to the cubin: needs NVRTC, not a GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/generator_identity.h"
#include "backends/cuda/cuda_status.h"
#include "templates/embedded.h"
#include "tests/cpp/backends/cuda/cubin_header.h"

#if ROBOCACHE_HAVE_CUDA
#include "backends/cuda/cuda_arch.h"
#include "backends/cuda/nvrtc_options.h"
#include "backends/cuda/resample_codegen.h"
#include "backends/cuda/resample_codegen.h"
#endif

namespace robocache {
namespace {

#if ROBOCACHE_HAVE_CUDA

Spec resample_spec(DType dtype, DType time_dtype, std::int64_t dim) {
  ResampleSpec s;
  s.dtype = dtype;
  s.time_dtype = time_dtype;
  s.dim = dim;
  return Spec(s);
}

std::shared_ptr<Backend> backend_for(const std::string& arch) {
  return make_cuda_backend(arch);
}

class NvrtcBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      backend_ = backend_for("sm_90");
    } catch (const BackendUnavailable& e) {
      GTEST_SKIP() << "NVRTC not loadable here: " << e.what();
    }
  }
  std::shared_ptr<Backend> backend_;
};

TEST_F(NvrtcBackend, TargetAndIdentities) {
  EXPECT_EQ(backend_->target().kind, Target::Kind::Cuda);
  EXPECT_EQ(backend_->target().arch, "sm_90");
  EXPECT_TRUE(backend_->target().features.empty());
  EXPECT_EQ(backend_->toolchain().rfind("nvrtc ", 0), 0u) << backend_->toolchain();
  EXPECT_NE(backend_->toolchain().find("--fmad=false"), std::string::npos) << backend_->toolchain();
  EXPECT_NE(backend_->generator_identity().find(cuda_generator_hash()), std::string::npos);
}

TEST_F(NvrtcBackend, CompilesEveryDtypePairToAnSm90Cubin) {
  for (DType v : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    for (DType t : {DType::F32, DType::F64}) {
      Spec spec = resample_spec(v, t, 4);
      SCOPED_TRACE(spec.canonical_json());
      KernelSource src = backend_->generate(spec, backend_->default_config(spec));
      auto start = std::chrono::steady_clock::now();
      ObjectCode code = backend_->compile(src);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::printf("  NVRTC compile of %s: %.0f ms, %zu bytes\n", spec.canonical_json().c_str(), ms,
                  code.bytes.size());
      EXPECT_EQ(code.format, "cubin");
      EXPECT_EQ(code.target, backend_->target());
      EXPECT_EQ(code.config, src.config);
      auto h = testing::read_cubin_header(code.bytes);
      EXPECT_TRUE(h.elf_magic);
      EXPECT_EQ(h.elf_class, 2);  // ELFCLASS64
      EXPECT_EQ(h.machine, 190);  // EM_CUDA
      EXPECT_EQ(h.sm(), 90) << std::hex << "e_flags 0x" << h.flags << " abi " << h.abi_version;
      EXPECT_EQ(code.symbol.rfind("_ZN9robocache8resample", 0), 0u) << code.symbol;
    }
  }
}

TEST(NvrtcBackendArchs, CubinHeaderCarriesTheRequestedArch) {
  for (const char* arch : {"sm_80", "sm_89", "sm_120"}) {
    std::shared_ptr<Backend> b;
    try {
      b = make_cuda_backend(arch);
    } catch (const BackendUnavailable& e) {
      GTEST_SKIP() << e.what();
    } catch (const ArgumentError&) {
      continue;  // this NVRTC does not know the arch
    }
    Spec spec = resample_spec(DType::BF16, DType::F64, 3);
    ObjectCode code = b->compile(b->generate(spec, b->default_config(spec)));
    EXPECT_EQ(testing::read_cubin_header(code.bytes).sm(), parse_cuda_arch(arch).sm) << arch;
  }
}

TEST_F(NvrtcBackend, BrokenSourceIsACompileErrorWithTheLog) {
  KernelSource src;
  src.target = backend_->target();
  src.language = "cuda";
  src.text = "namespace robocache { template <int N> __global__ void k() { this is not C++; } }\n";
  src.entry = "robocache::k<1>";
  src.spec_json = R"({"broken":true})";
  try {
    backend_->compile(src);
    FAIL() << "expected CompileError";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.stage(), "nvrtc");
    EXPECT_EQ(e.spec(), src.spec_json);
    EXPECT_FALSE(e.log().empty());
    EXPECT_NE(e.log().find("error"), std::string::npos) << e.log();
    EXPECT_NE(e.options().find("--gpu-architecture=sm_90"), std::string::npos) << e.options();
  }
}

TEST_F(NvrtcBackend, UnknownEntryIsACompileError) {
  Spec spec = resample_spec(DType::F32, DType::F64, 2);
  KernelSource src = backend_->generate(spec, backend_->default_config(spec));
  src.entry = "robocache::no_such_kernel<float>";
  EXPECT_THROW(backend_->compile(src), CompileError);
}

TEST_F(NvrtcBackend, SourceForAnotherArchIsRefused) {
  Spec spec = resample_spec(DType::F32, DType::F64, 2);
  KernelSource src = backend_->generate(spec, backend_->default_config(spec));
  src.target.arch = "sm_80";
  EXPECT_THROW(backend_->compile(src), CompileError);
  src.target = Target{};  // CPU
  EXPECT_THROW(backend_->compile(src), CompileError);
}

TEST_F(NvrtcBackend, GeneratedSourceIsTheCommonPartAndTheTemplateUnderAGeneratedHeader) {
  Spec spec = resample_spec(DType::BF16, DType::F64, 8);
  Config config;
  config.block_threads = 128;
  config.targets_per_block = 64;
  KernelSource src = backend_->generate(spec, config);
  EXPECT_EQ(src.language, "cuda");
  // Config defaults: one channel per access, binary search.
  EXPECT_EQ(src.entry, "robocache::resample<robocache::bf16, double, 8, 128, 64, 1, 0, robocache::RsGroup<0, 8, 0>>");
  EXPECT_EQ(src.spec_json, spec.canonical_json());
  EXPECT_EQ(src.config, config);
  EXPECT_EQ(src.target, backend_->target());
  const std::string tpl = std::string(template_source("common.cuh")) + std::string(template_source("resample.cuh"));
  ASSERT_GT(src.text.size(), tpl.size());
  const std::string header = src.text.substr(0, src.text.size() - tpl.size());
  EXPECT_EQ(std::string_view(src.text).substr(header.size()), tpl);
  // The header is comment lines made of the spec's enum spellings and integers only.
  EXPECT_TRUE(std::regex_match(header, std::regex(R"((//[ -~]*\n){1,4})"))) << header;
  EXPECT_EQ(src.text.find("#include"), std::string::npos);
}

TEST_F(NvrtcBackend, EntryIsBuiltFromEnumsAndIntegersOnly) {
  const std::regex entry(
      R"(robocache::resample<(float|double|robocache::f16|robocache::bf16), (float|double), [0-9]+, [0-9]+, [0-9]+, (1|2|4|8), (0|1|2), robocache::RsGroup<0, [0-9]+, 0>>)");
  for (DType v : {DType::F32, DType::F16, DType::BF16, DType::F64})
    for (DType t : {DType::F32, DType::F64})
      for (std::int64_t dim : {1, 7, 65536}) {
        Spec spec = resample_spec(v, t, dim);
        EXPECT_TRUE(std::regex_match(backend_->generate(spec, backend_->default_config(spec)).entry, entry));
      }
}

TEST_F(NvrtcBackend, DefaultConfigLeavesTheTileToTheLaunch) {
  for (std::int64_t dim : {1, 3, 8, 64, 1000, 65536}) {
    Spec spec = resample_spec(DType::F32, DType::F64, dim);
    Config c = backend_->default_config(spec);
    EXPECT_EQ(c.block_threads % 32, 0);
    // The launch sizes every tile from the shapes (cuda_kernel.cpp); the config only caps it.
    EXPECT_EQ(c.targets_per_block, 1024);
    EXPECT_EQ(c.search, SearchStrategy::Interpolation);
    // 16-byte accesses where the channels allow: f32 rows of 8 or 64 channels use 4 per access.
    const int w = resample_vector_width(spec.resample(), c);
    EXPECT_EQ(w, dim % 4 == 0 ? 4 : 1) << dim;
  }
  // bf16 takes 8 channels per access; a dim of 12 only allows 4.
  EXPECT_EQ(resample_vector_width(resample_spec(DType::BF16, DType::F32, 256).resample(),
                                  backend_->default_config(resample_spec(DType::BF16, DType::F32, 256))), 8);
  EXPECT_EQ(resample_vector_width(resample_spec(DType::BF16, DType::F32, 12).resample(),
                                  backend_->default_config(resample_spec(DType::BF16, DType::F32, 12))), 4);
}

TEST_F(NvrtcBackend, ConfigSpaceStartsWithTheHeuristicAndEveryConfigCompiles) {
  FuseSpec f;
  f.dtype = DType::BF16;
  f.time_dtype = DType::F32;
  f.modalities = {{512, Interp::Linear}, {64, Interp::Linear}, {12, Interp::Linear}};
  VoxelizeSpec v;
  for (const Spec& spec : {resample_spec(DType::BF16, DType::F32, 256), Spec(f), Spec(v)}) {
    const auto space = backend_->config_space(spec);
    ASSERT_GE(space.size(), 4u);
    EXPECT_EQ(space.front(), backend_->default_config(spec));
    for (std::size_t i = 0; i < space.size(); ++i)
      for (std::size_t j = i + 1; j < space.size(); ++j) EXPECT_FALSE(space[i] == space[j]) << i << " " << j;
    // Every config generates; compiling them all is the tuner's job (and the GPU tests').
    for (const Config& c : space) EXPECT_NO_THROW(backend_->generate(spec, c));
  }
  // Resample: block sizes and tile caps around the heuristic, then one channel per access and the
  // binary search.
  const auto space = backend_->config_space(resample_spec(DType::BF16, DType::F32, 256));
  auto count = [&](auto pred) { return std::count_if(space.begin(), space.end(), pred); };
  EXPECT_EQ(count([](const Config& c) { return c.vector_width == 1; }), 1);
  EXPECT_EQ(count([](const Config& c) { return c.search == SearchStrategy::Binary; }), 1);
  EXPECT_GE(count([](const Config& c) { return c.block_threads != 256; }), 6);
  EXPECT_GE(count([](const Config& c) { return c.targets_per_block != 1024; }), 6);
}

TEST_F(NvrtcBackend, UnusableConfigIsASpecError) {
  Spec spec = resample_spec(DType::F32, DType::F64, 2);
  Config c;
  c.block_threads = 100;
  try {
    backend_->generate(spec, c);
    FAIL();
  } catch (const SpecError& e) {
    EXPECT_EQ(e.field(), "config.block_threads");
  }
  c.block_threads = 256;
  c.targets_per_block = 0;
  EXPECT_THROW(backend_->generate(spec, c), SpecError);
}

// Every op, mode and dtype combination that matters compiles to an sm_90 cubin.
struct SpecCase {
  std::string name;
  Spec spec;
};

Spec resample_mode(Interp m, DType v, DType t, std::int64_t dim) {
  ResampleSpec s;
  s.dtype = v;
  s.time_dtype = t;
  s.dim = dim;
  s.interp = m;
  return Spec(s);
}

Spec grouped(DType v) {
  ResampleSpec s;
  s.dtype = v;
  s.dim = 8;
  s.groups = {{0, 3, Interp::Linear}, {3, 4, Interp::Slerp}, {7, 1, Interp::Previous}};
  return Spec(s);
}

Spec fuse_spec(int n, DType v, DType t) {
  FuseSpec f;
  f.dtype = v;
  f.time_dtype = t;
  const Interp modes[] = {Interp::Linear, Interp::Slerp, Interp::Nearest, Interp::Cubic, Interp::Previous};
  for (int i = 0; i < n; ++i) {
    const Interp m = modes[i % 5];
    f.modalities.push_back({m == Interp::Slerp ? 4 : 1 + (i % 7), m});
  }
  return Spec(f);
}

Spec voxel_spec(VoxelMode m, DType coord, DType out, std::int64_t features) {
  VoxelizeSpec v;
  v.mode = m;
  v.coord_dtype = coord;
  v.out_dtype = out;
  v.features = features;
  return Spec(v);
}

std::vector<SpecCase> spec_cases() {
  std::vector<SpecCase> c;
  const std::pair<const char*, Interp> modes[] = {{"linear", Interp::Linear},
                                                  {"nearest", Interp::Nearest},
                                                  {"previous", Interp::Previous},
                                                  {"cubic", Interp::Cubic},
                                                  {"slerp", Interp::Slerp}};
  for (auto [name, m] : modes) {
    c.push_back({std::string("resample_") + name + "_f32_t64", resample_mode(m, DType::F32, DType::F64, m == Interp::Slerp ? 4 : 6)});
    c.push_back({std::string("resample_") + name + "_bf16_t32", resample_mode(m, DType::BF16, DType::F32, 4)});
    c.push_back({std::string("resample_") + name + "_f64_t64", resample_mode(m, DType::F64, DType::F64, 4)});
    c.push_back({std::string("resample_") + name + "_f16_t64", resample_mode(m, DType::F16, DType::F64, 4)});
  }
  c.push_back({"resample_grouped_f32", grouped(DType::F32)});
  c.push_back({"resample_grouped_f16", grouped(DType::F16)});
  c.push_back({"resample_grouped_f64", grouped(DType::F64)});
  c.push_back({"fuse_3_f32_t64", fuse_spec(3, DType::F32, DType::F64)});
  c.push_back({"fuse_3_bf16_t32", fuse_spec(3, DType::BF16, DType::F32)});
  c.push_back({"fuse_16_f32_t64", fuse_spec(16, DType::F32, DType::F64)});
  c.push_back({"fuse_16_f64_t64", fuse_spec(16, DType::F64, DType::F64)});
  for (DType coord : {DType::F32, DType::F64}) {
    const std::string cs = coord == DType::F32 ? "c32" : "c64";
    for (DType out : {DType::F32, DType::F64, DType::U8, DType::I32})
      c.push_back({"voxel_occupancy_" + cs + "_" + std::string(dtype_name(out)), voxel_spec(VoxelMode::Occupancy, coord, out, 0)});
    c.push_back({"voxel_count_" + cs, voxel_spec(VoxelMode::Count, coord, DType::I32, 0)});
    for (DType out : {DType::F32, DType::F64}) {
      c.push_back({"voxel_mean_" + cs + "_" + std::string(dtype_name(out)), voxel_spec(VoxelMode::Mean, coord, out, 3)});
      c.push_back({"voxel_max_" + cs + "_" + std::string(dtype_name(out)), voxel_spec(VoxelMode::Max, coord, out, 2)});
    }
  }
  return c;
}

class NvrtcCompilesSpec : public ::testing::TestWithParam<SpecCase> {};

TEST_P(NvrtcCompilesSpec, ToAnSm90Cubin) {
  std::shared_ptr<Backend> backend;
  try {
    backend = backend_for("sm_90");
  } catch (const BackendUnavailable& e) {
    GTEST_SKIP() << e.what();
  }
  const Spec& spec = GetParam().spec;
  SCOPED_TRACE(spec.canonical_json());
  const Config config = backend->default_config(spec);
  EXPECT_EQ(config.block_threads % 32, 0);
  if (spec.op() == OpKind::Voxelize) EXPECT_EQ(config.targets_per_block, config.block_threads);
  KernelSource src = backend->generate(spec, config);
  EXPECT_EQ(src.text.find("#include"), std::string::npos);
  auto start = std::chrono::steady_clock::now();
  ObjectCode code = backend->compile(src);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("  NVRTC compile of %s: %.0f ms, %zu bytes (%s)\n", GetParam().name.c_str(), ms, code.bytes.size(),
              src.entry.c_str());
  EXPECT_EQ(code.format, "cubin");
  EXPECT_EQ(testing::read_cubin_header(code.bytes).sm(), 90);
  const char* prefix = spec.op() == OpKind::Resample ? "_ZN9robocache8resample"
                       : spec.op() == OpKind::Fuse  ? "_ZN9robocache4fuse"
                                                    : "_ZN9robocache8voxelize";
  EXPECT_EQ(code.symbol.rfind(prefix, 0), 0u) << code.symbol;
}

INSTANTIATE_TEST_SUITE_P(EveryOp, NvrtcCompilesSpec, ::testing::ValuesIn(spec_cases()),
                         [](const ::testing::TestParamInfo<SpecCase>& i) { return i.param.name; });

TEST_F(NvrtcBackend, GroupsAreMergedAndEntriesNameTheSpecialisation) {
  ResampleSpec s;
  s.dim = 9;
  s.groups = {{0, 2, Interp::Linear}, {2, 1, Interp::Linear}, {3, 4, Interp::Slerp}, {7, 1, Interp::Previous},
              {8, 1, Interp::Previous}};
  Config c;
  c.block_threads = 256;
  c.targets_per_block = 64;
  EXPECT_EQ(backend_->generate(Spec(s), c).entry,
            "robocache::resample<float, double, 9, 256, 64, 1, 0, robocache::RsGroup<0, 3, 0>, "
            "robocache::RsGroup<3, 4, 4>, robocache::RsGroup<7, 2, 2>>");
  // A width of 4 is cut to what every group allows: 9 channels take one per access. The narrow
  // search of older configs runs as the interpolation search (2).
  c.vector_width = 4;
  c.search = SearchStrategy::Narrow;
  EXPECT_EQ(backend_->generate(Spec(s), c).entry,
            "robocache::resample<float, double, 9, 256, 64, 1, 2, robocache::RsGroup<0, 3, 0>, "
            "robocache::RsGroup<3, 4, 4>, robocache::RsGroup<7, 2, 2>>");
  c.vector_width = 1;
  c.search = SearchStrategy::Binary;
  FuseSpec f;
  f.modalities = {{3, Interp::Linear}, {4, Interp::Slerp}, {1, Interp::Previous}};
  EXPECT_EQ(backend_->generate(Spec(f), c).entry,
            "robocache::fuse<float, double, 8, 256, 64, 0, robocache::FuseMod<0, 0, 3, 0, 1>, "
            "robocache::FuseMod<1, 3, 4, 4, 1>, robocache::FuseMod<2, 7, 1, 2, 1>>");
  // Per-modality widths: 4 channels at offset 4 of an 8-channel row take 4 per access.
  FuseSpec g;
  g.modalities = {{4, Interp::Linear}, {4, Interp::Nearest}};
  c.vector_width = 8;
  EXPECT_EQ(backend_->generate(Spec(g), c).entry,
            "robocache::fuse<float, double, 8, 256, 64, 0, robocache::FuseMod<0, 0, 4, 0, 4>, "
            "robocache::FuseMod<1, 4, 4, 1, 4>>");
  VoxelizeSpec v;
  v.mode = VoxelMode::Mean;
  v.features = 4;
  EXPECT_EQ(backend_->generate(Spec(v), backend_->default_config(Spec(v))).entry,
            "robocache::voxelize<float, float, 2, 4, 256, 256>");
}

// Past kMaxTemplateGroups the groups become a table in device memory: the entry names one group
// type, and the source grows by the table alone (a few bytes a chunk), so code size and compile
// time stay linear in the number of groups (issue 14); the kernel itself is the same template.
TEST_F(NvrtcBackend, ManyGroupsBecomeATableAndTheSourceGrowsOnlyByIt) {
  auto spec_of = [](int quaternions) {
    ResampleSpec s;
    s.dim = 4 * quaternions;
    for (int i = 0; i < quaternions; ++i) s.groups.push_back({4 * i, 4, Interp::Slerp});
    return Spec(s);
  };
  const KernelSource few = backend_->generate(spec_of(4), backend_->default_config(spec_of(4)));
  EXPECT_NE(few.entry.find("RsGroup<12, 4, 4>"), std::string::npos);
  EXPECT_EQ(few.text.find("rc_group_code"), std::string::npos);
  std::size_t last = 0;
  for (int n : {64, 256, 1024, 4096}) {
    const KernelSource src = backend_->generate(spec_of(n), backend_->default_config(spec_of(n)));
    EXPECT_NE(src.entry.find("robocache::RsTableGroups"), std::string::npos);
    EXPECT_EQ(src.entry.find("RsGroup"), std::string::npos);
    // One entry of the table a chunk (the vector width is 4 for f32 slerp groups): "12," or "4,".
    const std::size_t table = src.text.find("rc_group_code[" + std::to_string(n) + "]");
    EXPECT_NE(table, std::string::npos) << n;
    if (last) EXPECT_LE(src.text.size() - last, static_cast<std::size_t>(4 * (n - n / 4)) + 64) << n;
    last = src.text.size();
  }
  // Mixed modes: codes are the mode numbers, +8 on a slerp group's first chunk.
  ResampleSpec m;
  m.dim = 40;
  for (int i = 0; i < 40; ++i) m.groups.push_back({i, 1, i % 2 ? Interp::Linear : Interp::Previous});
  m.groups.resize(36);
  m.groups.push_back({36, 4, Interp::Slerp});
  const KernelSource mixed = backend_->generate(Spec(m), backend_->default_config(Spec(m)));
  EXPECT_NE(mixed.text.find("rc_group_code[40] = {2,0,2,0,"), std::string::npos);
  EXPECT_NE(mixed.text.find("0,12,4,4,4,}"), std::string::npos);
  EXPECT_NE(mixed.text.find("kModes = 21;"), std::string::npos);  // linear, previous, slerp
  EXPECT_NO_THROW(backend_->compile(mixed));
}

TEST(NvrtcOptions, FlagsAreFixedAndOrdered) {
  NvrtcOptions o;
  o.arch = "sm_90";
  EXPECT_EQ(o.to_flags(), (std::vector<std::string>{"--gpu-architecture=sm_90", "-std=c++17", "--fmad=false",
                                                    "--prec-div=true", "--prec-sqrt=true", "--ftz=false",
                                                    "-default-device"}));
  NvrtcOptions p = o;
  p.line_info = true;
  EXPECT_NE(o.identity(), p.identity());
  p = o;
  p.max_registers = 64;
  EXPECT_NE(p.identity().find("--maxrregcount=64"), std::string::npos);
}

TEST(CudaArch, ParsesAndRejects) {
  EXPECT_EQ(parse_cuda_arch("sm_90").sm, 90);
  EXPECT_EQ(parse_cuda_arch("sm_90a").name(), "sm_90a");
  EXPECT_EQ(parse_cuda_arch("sm_120").sm, 120);
  for (const char* bad : {"", "sm_9x", "sm_9", "compute_90", "SM_90", "sm_090", "sm_90b", "sm_1000", "90"}) {
    try {
      parse_cuda_arch(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ArgumentError& e) {
      EXPECT_EQ(e.argument(), "arch");
      EXPECT_NE(std::string(e.what()).find("sm_90"), std::string::npos) << "message shows the form";
    }
  }
}

TEST(MakeCudaBackend, BadArchIsAClearError) {
  try {
    make_cuda_backend("sm_9x");
    FAIL() << "expected ArgumentError";
  } catch (const ArgumentError& e) {
    EXPECT_EQ(e.argument(), "arch");
    EXPECT_NE(std::string(e.what()).find("'sm_9x' is not a CUDA arch"), std::string::npos) << e.what();
  }
}

TEST(MakeCudaBackend, ArchNvrtcDoesNotKnowIsAClearError) {
  try {
    make_cuda_backend("sm_10");
    FAIL() << "expected ArgumentError";
  } catch (const BackendUnavailable& e) {
    GTEST_SKIP() << e.what();
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot compile for sm_10"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sm_90"), std::string::npos) << "lists what it supports";
  }
}

TEST(MakeCudaBackend, EmptyArchNeedsTheDriver) {
  CudaStatus st = probe_cuda();
  if (!st.nvrtc_available) GTEST_SKIP() << st.nvrtc_detail;
  if (st.driver_available && !st.devices.empty()) {
    EXPECT_EQ(make_cuda_backend("")->target().arch, st.devices[0].arch);
  } else {
    try {
      make_cuda_backend("");
      FAIL() << "expected BackendUnavailable";
    } catch (const BackendUnavailable& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
      if (!st.driver_available) EXPECT_NE(std::string(e.what()).find("libcuda"), std::string::npos) << e.what();
    }
  }
}

TEST_F(NvrtcBackend, LoadWithoutADriverIsBackendUnavailable) {
  if (probe_cuda().driver_available) GTEST_SKIP() << "a driver is present";
  Spec spec = resample_spec(DType::F32, DType::F64, 2);
  ObjectCode code = backend_->compile(backend_->generate(spec, backend_->default_config(spec)));
  EXPECT_THROW(backend_->load(code), BackendUnavailable);
}

#else  // !ROBOCACHE_HAVE_CUDA

TEST(MakeCudaBackend, SaysTheBuildHasNoCudaBackend) {
  try {
    make_cuda_backend("sm_90");
    FAIL() << "expected BackendUnavailable";
  } catch (const BackendUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("built without the CUDA backend"), std::string::npos) << e.what();
  }
}

#endif

}  // namespace
}  // namespace robocache
