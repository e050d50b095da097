// The CPU backend as a pipeline stage: identity, generated source, object format, errors,
// loading, thread safety, and the one-off cold/warm timing the brief asks to report.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "compiler/backend.h"
#include "compiler/generator_identity.h"
#include "support/errors.h"
#include "compiler/resample_abi.h"

namespace robocache {
namespace {

#if !ROBOCACHE_HAVE_LLVM
TEST(CpuBackendUnavailable, SaysLlvmWasNotFound) {
  try {
    make_cpu_backend();
    FAIL() << "no exception";
  } catch (const BackendUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("LLVM was not found"), std::string::npos) << e.what();
  }
}
#endif

class CpuBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ROBOCACHE_HAVE_LLVM) GTEST_SKIP() << "built without LLVM";
    backend = make_cpu_backend();
  }
  static Spec f32_spec(std::int64_t dim, DType time = DType::F64) {
    ResampleSpec s;
    s.dtype = DType::F32;
    s.time_dtype = time;
    s.dim = dim;
    return Spec(s);
  }
  std::shared_ptr<Backend> backend;
};

// Resamples a ramp v[s][c] = s*10 + c at times s onto x = 0.25 + t/2 and checks the result.
void run_ramp(const LoadedKernel& kernel, std::int64_t dim) {
  namespace abi = resample_abi;
  const std::int64_t S = 8, T = 12;
  std::vector<double> src(S), tgt(T);
  std::vector<float> data(static_cast<std::size_t>(S * dim)), out(static_cast<std::size_t>(T * dim), -1.0f);
  for (std::int64_t s = 0; s < S; ++s) {
    src[s] = static_cast<double>(s);
    for (std::int64_t c = 0; c < dim; ++c) data[s * dim + c] = static_cast<float>(s * 10 + c);
  }
  for (std::int64_t t = 0; t < T; ++t) tgt[t] = 0.25 + 0.5 * static_cast<double>(t);
  KernelArgs args;
  args.set_ptr(abi::kData, data.data());
  args.set_ptr(abi::kSrcTimes, src.data());
  args.set_ptr(abi::kTgtTimes, tgt.data());
  args.set_ptr(abi::kOut, out.data());
  args.set_int(abi::kB, 1);
  args.set_int(abi::kS, S);
  args.set_int(abi::kT, T);
  args.set_int(abi::kSrcRowStride, S);
  args.set_int(abi::kTgtRowStride, T);
  kernel.launch(args, WorkShape{1, T}, LaunchPlace{});
  for (std::int64_t t = 0; t < T; ++t) {
    double x = std::min(tgt[t], static_cast<double>(S - 1));
    for (std::int64_t c = 0; c < dim; ++c) ASSERT_FLOAT_EQ(out[t * dim + c], static_cast<float>(x * 10 + c)) << t << "," << c;
  }
}

TEST_F(CpuBackend, DescribesTheHost) {
  const Target& t = backend->target();
  EXPECT_EQ(t.kind, Target::Kind::Cpu);
  EXPECT_FALSE(t.arch.empty());
  EXPECT_EQ(t.name(), "cpu");
  // Sorted "+a,+b" list of enabled features only.
  std::vector<std::string> features;
  for (std::size_t pos = 0; pos < t.features.size();) {
    std::size_t comma = t.features.find(',', pos);
    if (comma == std::string::npos) comma = t.features.size();
    features.push_back(t.features.substr(pos, comma - pos));
    pos = comma + 1;
  }
  ASSERT_FALSE(features.empty());
  for (const auto& f : features) EXPECT_EQ(f[0], '+') << f;
  EXPECT_TRUE(std::is_sorted(features.begin(), features.end()));
  EXPECT_EQ(backend->toolchain().rfind("llvm ", 0), 0u) << backend->toolchain();
  EXPECT_NE(backend->generator_identity().find(cpu_generator_hash()), std::string::npos);
  EXPECT_EQ(make_cpu_backend()->target(), t);
}

TEST_F(CpuBackend, DefaultGrainShrinksWithWiderRows) {
  int narrow = backend->default_config(f32_spec(1)).cpu_grain;
  int wide = backend->default_config(f32_spec(256)).cpu_grain;
  EXPECT_GE(narrow, wide);
  EXPECT_GE(wide, 1);
}

TEST_F(CpuBackend, GeneratesPrintedIrWithTheEntry) {
  Spec spec = f32_spec(7);
  KernelSource src = backend->generate(spec, backend->default_config(spec));
  EXPECT_EQ(src.language, "llvm-ir");
  EXPECT_EQ(src.target, backend->target());
  EXPECT_EQ(src.spec_json, spec.canonical_json());
  EXPECT_NE(src.text.find("define void @" + src.entry + "(i64*"), std::string::npos) << src.text;
  EXPECT_NE(src.text.find("llvm.fma.f32"), std::string::npos);
  // No fast-math anywhere: exact hits and the CUDA backend depend on it.
  for (const char* flag : {" fast ", " nnan ", " ninf ", " contract ", " reassoc ", " afn ", " arcp "})
    EXPECT_EQ(src.text.find(flag), std::string::npos) << flag;
  // Same spec, same text: generation is deterministic (the text is cached by hash upstream).
  EXPECT_EQ(backend->generate(spec, backend->default_config(spec)).text, src.text);
  ResampleSpec other = spec.resample();
  other.dtype = DType::BF16;
  EXPECT_NE(backend->generate(Spec(other), Config{}).entry, src.entry);
}

TEST_F(CpuBackend, EmitsAnElfRelocatableObject) {
  Spec spec = f32_spec(4);
  KernelSource src = backend->generate(spec, backend->default_config(spec));
  ObjectCode code = backend->compile(src);
  EXPECT_EQ(code.format, "elf-object");
  EXPECT_EQ(code.symbol, src.entry);
  EXPECT_EQ(code.target, backend->target());
  EXPECT_EQ(code.config, src.config);
  EXPECT_EQ(code.spec_json, spec.canonical_json());
  EXPECT_EQ(code.toolchain, backend->toolchain());
  ASSERT_GT(code.bytes.size(), 64u);
  EXPECT_EQ(code.bytes.substr(0, 4), std::string("\x7f" "ELF", 4));
  EXPECT_EQ(code.bytes[4], 2) << "ELFCLASS64";
  std::uint16_t e_type = 0;
  std::memcpy(&e_type, code.bytes.data() + 16, 2);
  EXPECT_EQ(e_type, 1) << "ET_REL";
  EXPECT_NE(code.bytes.find(src.entry), std::string::npos) << "symbol name in the string table";
  run_ramp(*backend->load(code), 4);
}

TEST_F(CpuBackend, CompileErrorsNameTheStage) {
  Spec spec = f32_spec(2);
  KernelSource src = backend->generate(spec, backend->default_config(spec));
  KernelSource broken = src;
  broken.text = "define void @oops( {";
  try {
    backend->compile(broken);
    FAIL() << "no exception";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.stage(), "llvm-parse");
    EXPECT_EQ(e.spec(), spec.canonical_json());
    EXPECT_FALSE(e.log().empty());
    EXPECT_NE(e.options().find("-O3"), std::string::npos);
  }
  KernelSource renamed = src;
  renamed.entry = "not_there";
  try {
    backend->compile(renamed);
    FAIL() << "no exception";
  } catch (const CompileError& e) {
    EXPECT_EQ(e.stage(), "llvm-parse");
    EXPECT_NE(e.log().find("not_there"), std::string::npos) << e.log();
  }
}

TEST_F(CpuBackend, LoadRejectsForeignCode) {
  Spec spec = f32_spec(2);
  ObjectCode code = backend->compile(backend->generate(spec, backend->default_config(spec)));
  ObjectCode cubin = code;
  cubin.format = "cubin";
  EXPECT_THROW(backend->load(cubin), RuntimeFailure);
  ObjectCode elsewhere = code;
  elsewhere.target.arch = "some-other-cpu";
  EXPECT_THROW(backend->load(elsewhere), BackendUnavailable);
  ObjectCode garbage = code;
  garbage.bytes = "definitely not an object file";  // RuntimeDyld rejects it with a message
  EXPECT_THROW(backend->load(garbage), RuntimeFailure);
  ObjectCode wrong_symbol = code;
  wrong_symbol.symbol = "robocache_missing";
  EXPECT_THROW(backend->load(wrong_symbol), RuntimeFailure);
}

TEST_F(CpuBackend, UnresolvedSymbolFailsAtLoadNamingIt) {
  // Generated code may only call the few runtime functions the JIT provides; anything else
  // must fail loudly at load, not crash at launch.
  KernelSource src;
  src.target = backend->target();
  src.language = "llvm-ir";
  src.entry = "calls_outside";
  src.text =
      "declare void @robocache_no_such_function()\n"
      "define void @calls_outside(i64* %slots, i64 %begin, i64 %end) {\n"
      "  call void @robocache_no_such_function()\n"
      "  ret void\n"
      "}\n";
  ObjectCode code = backend->compile(src);
  try {
    backend->load(code);
    FAIL() << "no exception";
  } catch (const RuntimeFailure& e) {
    EXPECT_NE(std::string(e.what()).find("robocache_no_such_function"), std::string::npos) << e.what();
  }
}

TEST_F(CpuBackend, SameObjectLoadsTwiceAndUnloads) {
  Spec spec = f32_spec(3);
  ObjectCode code = backend->compile(backend->generate(spec, backend->default_config(spec)));
  auto a = backend->load(code);
  auto b = backend->load(code);  // same symbol in another JITDylib: no clash
  run_ramp(*a, 3);
  a.reset();
  run_ramp(*b, 3);
  b.reset();
  for (int i = 0; i < 20; ++i) run_ramp(*backend->load(code), 3);
}

TEST_F(CpuBackend, CompilesLoadsAndLaunchesFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<std::string> failures(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      try {
        std::int64_t dim = 1 + i;
        Spec spec = f32_spec(dim);
        auto kernel = backend->load(backend->compile(backend->generate(spec, backend->default_config(spec))));
        for (int rep = 0; rep < 50; ++rep) run_ramp(*kernel, dim);
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
}

TEST_F(CpuBackend, ReportsColdCompileAndLoadTimes) {
  // Printed, not asserted: the numbers go into the backend's report and docs.
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  Spec spec = f32_spec(32, DType::F64);
  Config config = backend->default_config(spec);
  backend->load(backend->compile(backend->generate(f32_spec(5), config)));  // LLVM and the JIT set up
  auto t0 = clock::now();
  KernelSource src = backend->generate(spec, config);
  auto t1 = clock::now();
  ObjectCode code = backend->compile(src);
  auto t2 = clock::now();
  auto kernel = backend->load(code);
  auto t3 = clock::now();
  run_ramp(*kernel, 32);
  std::printf("[ timing ] cpu resample f32/time f64/dim 32: generate %.2f ms, compile %.2f ms, load %.2f ms, object %zu bytes\n",
              ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), code.bytes.size());
  RecordProperty("generate_ms", std::to_string(ms(t1 - t0)));
  RecordProperty("compile_ms", std::to_string(ms(t2 - t1)));
  RecordProperty("load_ms", std::to_string(ms(t3 - t2)));
}

}  // namespace
}  // namespace robocache
