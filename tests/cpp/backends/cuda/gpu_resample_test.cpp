// The CUDA resample kernel on a real device against ops.md section 1. Every suite here is named
// Gpu* and skips cleanly when no CUDA device (or no CUDA backend) is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/resample_abi.h"
#include "backends/cuda/cuda_status.h"
#include "tests/cpp/backends/cuda/resample_problem.h"

#if ROBOCACHE_HAVE_CUDA
#include "backends/cuda/driver_api.h"
#include "backends/cuda/primary_context.h"
#endif

namespace robocache {
namespace {

#if ROBOCACHE_HAVE_CUDA

using testing::BF16Bits;
using testing::check_element;
using testing::F16Bits;
using testing::HostValue;
using testing::kTimeDType;
using testing::kValueDType;
using testing::make_problem;
using testing::Problem;
using testing::same_bits;

// Device memory in the current context, freed on scope exit.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    const auto& d = cuda::driver_api();
    ROBOCACHE_CU_CHECK(d, cuMemAlloc, &ptr_, std::max<std::size_t>(bytes, 1));
  }
  ~DeviceBuffer() { cuda::driver_api().cuMemFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  static DeviceBuffer from(const std::vector<T>& host) {
    DeviceBuffer b(host.size() * sizeof(T));
    if (!host.empty()) ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemcpyHtoD, b.ptr_, host.data(), b.bytes_);
    return b;
  }
  template <class T>
  std::vector<T> download(std::size_t count, std::size_t offset_elems = 0) const {
    std::vector<T> host(count);
    if (count)
      ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemcpyDtoH, host.data(), ptr_ + offset_elems * sizeof(T),
                         count * sizeof(T));
    return host;
  }
  void* get() const { return reinterpret_cast<void*>(ptr_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = 0; }

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_ = 0;
};

class GpuResample : public ::testing::Test {
 protected:
  void SetUp() override {
    CudaStatus st = probe_cuda();
    if (!st.driver_available || st.devices.empty())
      GTEST_SKIP() << "no CUDA device: " << st.driver_detail;
    backend_ = make_cuda_backend("");
    context_ = std::make_unique<cuda::PrimaryContext>(0);
    scope_ = std::make_unique<cuda::ScopedContext>(context_->get());
  }
  void TearDown() override {
    scope_.reset();
  }
  static void TearDownTestSuite() { kernels().clear(); }

  static std::map<std::string, std::unique_ptr<LoadedKernel>>& kernels() {
    static std::map<std::string, std::unique_ptr<LoadedKernel>> k;
    return k;
  }

  template <class V, class Time>
  const LoadedKernel& kernel(std::int64_t dim, const Config* config) {
    ResampleSpec rs;
    rs.dtype = kValueDType<V>;
    rs.time_dtype = kTimeDType<Time>;
    rs.dim = dim;
    Spec spec(rs);
    Config cfg = config ? *config : backend_->default_config(spec);
    auto& slot = kernels()[spec.canonical_json() + cfg.canonical_json()];
    if (!slot) slot = backend_->load(backend_->compile(backend_->generate(spec, cfg)));
    return *slot;
  }

  template <class V, class Time>
  static KernelArgs args_for(const Problem<V, Time>& p, const DeviceBuffer& data, const DeviceBuffer& src,
                             const DeviceBuffer& tgt, const DeviceBuffer& out) {
    namespace abi = resample_abi;
    KernelArgs a;
    a.set_ptr(abi::kData, data.get());
    a.set_ptr(abi::kSrcTimes, src.get());
    a.set_ptr(abi::kTgtTimes, tgt.get());
    a.set_ptr(abi::kOut, out.get());
    a.set_int(abi::kB, p.B);
    a.set_int(abi::kS, p.S);
    a.set_int(abi::kT, p.T);
    a.set_int(abi::kSrcRowStride, p.shared_src ? 0 : p.S);
    a.set_int(abi::kTgtRowStride, p.shared_tgt ? 0 : p.T);
    return a;
  }

  template <class V, class Time>
  std::vector<V> run(const Problem<V, Time>& p, const Config* config = nullptr, CUstream stream = nullptr) {
    const LoadedKernel& k = kernel<V, Time>(p.D, config);
    auto data = DeviceBuffer::from(p.data), src = DeviceBuffer::from(p.src), tgt = DeviceBuffer::from(p.tgt);
    DeviceBuffer out(static_cast<std::size_t>(p.B * p.T * p.D) * sizeof(V));
    k.launch(args_for(p, data, src, tgt, out), WorkShape{p.B, p.T}, LaunchPlace{0, stream});
    const auto& d = cuda::driver_api();
    ROBOCACHE_CU_CHECK(d, cuStreamSynchronize, stream);
    return out.download<V>(static_cast<std::size_t>(p.B * p.T * p.D));
  }

  template <class V, class Time>
  void expect_matches(const Problem<V, Time>& p, const std::vector<V>& out) {
    int failures = 0;
    for (std::int64_t b = 0; b < p.B; ++b)
      for (std::int64_t i = 0; i < p.T; ++i)
        for (std::int64_t c = 0; c < p.D; ++c) {
          auto r = check_element(p, b, i, c, out[static_cast<std::size_t>((b * p.T + i) * p.D + c)]);
          if (!r && failures++ < 10) ADD_FAILURE() << r.message();
        }
    EXPECT_EQ(failures, 0);
  }

  template <class V, class Time>
  void check_shapes(bool shared_src, bool shared_tgt) {
    for (std::int64_t D : {1, 5, 64}) {
      SCOPED_TRACE(::testing::Message() << "D=" << D);
      auto p = make_problem<V, Time>(3, 37, 203, D, shared_src, shared_tgt);
      expect_matches(p, run(p));
    }
  }

  template <class Fn>
  static void for_each_dtype(Fn&& fn) {
    fn(V_<float>{}, V_<float>{});
    fn(V_<float>{}, V_<double>{});
    fn(V_<double>{}, V_<float>{});
    fn(V_<double>{}, V_<double>{});
    fn(V_<F16Bits>{}, V_<float>{});
    fn(V_<F16Bits>{}, V_<double>{});
    fn(V_<BF16Bits>{}, V_<float>{});
    fn(V_<BF16Bits>{}, V_<double>{});
  }
  template <class T>
  struct V_ {
    using type = T;
  };

  std::shared_ptr<Backend> backend_;
  std::unique_ptr<cuda::PrimaryContext> context_;
  std::unique_ptr<cuda::ScopedContext> scope_;
};

TEST_F(GpuResample, EveryDtypeWithSharedTimes) {
  for_each_dtype([&](auto v, auto t) {
    using V = typename decltype(v)::type;
    using Time = typename decltype(t)::type;
    SCOPED_TRACE(::testing::Message() << dtype_name(kValueDType<V>) << "/" << dtype_name(kTimeDType<Time>));
    check_shapes<V, Time>(true, true);
  });
}

TEST_F(GpuResample, EveryDtypeWithPerRowTimes) {
  for_each_dtype([&](auto v, auto t) {
    using V = typename decltype(v)::type;
    using Time = typename decltype(t)::type;
    SCOPED_TRACE(::testing::Message() << dtype_name(kValueDType<V>) << "/" << dtype_name(kTimeDType<Time>));
    check_shapes<V, Time>(false, false);
  });
}

TEST_F(GpuResample, MixedSharingOfSourceAndTargetTimes) {
  auto a = make_problem<float, double>(4, 50, 77, 3, false, true);
  expect_matches(a, run(a));
  auto b = make_problem<BF16Bits, float>(4, 50, 77, 3, true, false);
  expect_matches(b, run(b));
}

TEST_F(GpuResample, EpochSecondsNeedF64Times) {
  // 1.7e9 s with 10 ms steps: f32 cannot even tell the samples apart, f64 must interpolate.
  auto p = make_problem<float, double>(2, 300, 500, 4, false, false, 1.7e9, 0.01);
  expect_matches(p, run(p));
}

TEST_F(GpuResample, TilesLargerThanTheBlockAndRaggedEnds) {
  Config c;
  c.block_threads = 32;
  c.targets_per_block = 100;  // each thread searches several targets
  for (std::int64_t T : {1, 99, 100, 101, 1000}) {
    SCOPED_TRACE(::testing::Message() << "T=" << T);
    auto p = make_problem<F16Bits, double>(3, 20, T, 3, false, false);
    expect_matches(p, run(p, &c));
  }
  c.block_threads = 1024;
  c.targets_per_block = 1;  // one target, many channels
  auto p = make_problem<double, double>(2, 9, 31, 3000, true, true);
  expect_matches(p, run(p, &c));
}

TEST_F(GpuResample, SingleSourceSampleHoldsEverywhere) {
  auto p = make_problem<float, float>(2, 1, 40, 2, false, true);
  expect_matches(p, run(p));
}

TEST_F(GpuResample, ExactHitsKeepSignedZeroAndInfinityNeighbours) {
  // Same case as the CPU backend's test: the hit on the sample holding -0, +inf, -inf copies it.
  auto run_case = [&](auto tag) {
    using V = typename decltype(tag)::type;
    using H = HostValue<V>;
    const double inf = std::numeric_limits<double>::infinity();
    const double v[3][3] = {{1, 2, 3}, {-0.0, inf, -inf}, {4, 5, 6}};
    Problem<V, double> p;
    p.B = 1, p.S = 3, p.T = 3, p.D = 3;
    p.src = {0.0, 1.0, 2.0};
    p.tgt = {1.0, 0.5, 1.5};
    for (auto& row : v)
      for (double x : row) p.data.push_back(H::from_double(x));
    std::vector<V> out = run(p);
    for (int c = 0; c < 3; ++c) EXPECT_TRUE(same_bits(out[c], p.data[3 + c])) << "channel " << c;
    EXPECT_TRUE(std::signbit(H::to_double(out[0])));
    EXPECT_EQ(H::to_double(out[3 + 1]), inf);
    EXPECT_EQ(H::to_double(out[3 + 2]), -inf);
    EXPECT_EQ(H::to_double(out[6 + 0]), 2.0);
  };
  run_case(V_<float>{});
  run_case(V_<double>{});
  run_case(V_<F16Bits>{});
  run_case(V_<BF16Bits>{});
}

TEST_F(GpuResample, NanTargetWritesTheCpuBackendsQuietNan) {
  auto bits_of = [&](auto tag) {
    using V = typename decltype(tag)::type;
    Problem<V, float> p;
    p.B = 1, p.S = 2, p.T = 1, p.D = 1;
    p.src = {0.0f, 1.0f};
    p.tgt = {-std::numeric_limits<float>::quiet_NaN()};
    p.data = {HostValue<V>::from_double(1.0), HostValue<V>::from_double(2.0)};
    V out = run(p)[0];
    std::uint64_t bits = 0;
    std::memcpy(&bits, &out, sizeof(V));
    return bits;
  };
  EXPECT_EQ(bits_of(V_<float>{}), 0x7fc00000u);
  EXPECT_EQ(bits_of(V_<double>{}), 0x7ff8000000000000u);
  EXPECT_EQ(bits_of(V_<F16Bits>{}), 0x7e00u);
  EXPECT_EQ(bits_of(V_<BF16Bits>{}), 0x7fc0u);
}

TEST_F(GpuResample, RunsOnTheGivenStream) {
  const auto& d = cuda::driver_api();
  CUstream s = nullptr;
  ROBOCACHE_CU_CHECK(d, cuStreamCreate, &s, CU_STREAM_NON_BLOCKING);
  auto p = make_problem<float, double>(2, 30, 64, 2, true, true);
  expect_matches(p, run(p, nullptr, s));
  ROBOCACHE_CU_CHECK(d, cuStreamDestroy, s);
}

TEST_F(GpuResample, EmptyWorkLaunchesNothing) {
  auto p = make_problem<float, double>(1, 4, 8, 2, true, true);
  const LoadedKernel& k = kernel<float, double>(2, nullptr);
  auto data = DeviceBuffer::from(p.data), src = DeviceBuffer::from(p.src), tgt = DeviceBuffer::from(p.tgt);
  DeviceBuffer out(16 * sizeof(float));
  const auto& d = cuda::driver_api();
  ROBOCACHE_CU_CHECK(d, cuMemsetD8, reinterpret_cast<CUdeviceptr>(out.get()), 0xab, 16 * sizeof(float));
  KernelArgs a = args_for(p, data, src, tgt, out);
  k.launch(a, WorkShape{0, 8}, LaunchPlace{});
  k.launch(a, WorkShape{1, 0}, LaunchPlace{});
  ROBOCACHE_CU_CHECK(d, cuCtxSynchronize);
  for (std::uint32_t bits : out.download<std::uint32_t>(16)) EXPECT_EQ(bits, 0xababababu);
}

TEST_F(GpuResample, LeavesTheCallersContextCurrent) {
  auto p = make_problem<float, double>(1, 4, 8, 2, true, true);
  const LoadedKernel& k = kernel<float, double>(2, nullptr);
  auto data = DeviceBuffer::from(p.data), src = DeviceBuffer::from(p.src), tgt = DeviceBuffer::from(p.tgt);
  DeviceBuffer out(16 * sizeof(float));
  KernelArgs a = args_for(p, data, src, tgt, out);
  const auto& d = cuda::driver_api();
  {
    cuda::ScopedContext none(nullptr);  // the caller has no context current
    k.launch(a, WorkShape{1, 8}, LaunchPlace{});
    CUcontext now = reinterpret_cast<CUcontext>(0x1);
    ROBOCACHE_CU_CHECK(d, cuCtxGetCurrent, &now);
    EXPECT_EQ(now, nullptr);
  }
  ROBOCACHE_CU_CHECK(d, cuCtxSynchronize);
  expect_matches(p, out.download<float>(16));
}

TEST_F(GpuResample, ConcurrentFirstLaunchesLoadOnce) {
  // A fresh LoadedKernel launched from several threads that have no context current: the lazy
  // per-device load must happen once and every launch must land.
  ResampleSpec rs;
  rs.dtype = DType::F32;
  rs.time_dtype = DType::F64;
  rs.dim = 3;
  Spec spec(rs);
  std::unique_ptr<LoadedKernel> k = backend_->load(backend_->compile(backend_->generate(spec, backend_->default_config(spec))));
  auto p = make_problem<float, double>(2, 40, 300, 3, false, false);
  auto data = DeviceBuffer::from(p.data), src = DeviceBuffer::from(p.src), tgt = DeviceBuffer::from(p.tgt);
  constexpr int kThreads = 6;
  std::vector<std::unique_ptr<DeviceBuffer>> outs;
  for (int i = 0; i < kThreads; ++i)
    outs.push_back(std::make_unique<DeviceBuffer>(static_cast<std::size_t>(p.B * p.T * p.D) * sizeof(float)));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      try {
        k->launch(args_for(p, data, src, tgt, *outs[i]), WorkShape{p.B, p.T}, LaunchPlace{});
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  ROBOCACHE_CU_CHECK(cuda::driver_api(), cuCtxSynchronize);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[i], "") << "thread " << i;
    expect_matches(p, outs[i]->download<float>(static_cast<std::size_t>(p.B * p.T * p.D)));
  }
}

TEST_F(GpuResample, UnknownDeviceIsAnArgumentError) {
  const LoadedKernel& k = kernel<float, double>(2, nullptr);
  KernelArgs a;
  EXPECT_THROW(k.launch(a, WorkShape{1, 1}, LaunchPlace{9999, nullptr}), ArgumentError);
}

TEST_F(GpuResample, IndexesBeyond32Bits) {
  // B*T*D = 32769 * 65536 > 2^31 output elements (4.3 GB of f16); only the output is large.
  constexpr std::int64_t D = 65536, T = 32769, S = 3;
  Problem<F16Bits, float> p;
  p.B = 1, p.S = S, p.T = T, p.D = D;
  p.src = {0.0f, 1.0f, 2.0f};
  for (std::int64_t i = 0; i < T; ++i) p.tgt.push_back(2.0f * static_cast<float>(i) / static_cast<float>(T - 1));
  for (std::int64_t i = 0; i < S * D; ++i)
    p.data.push_back({testing::float_to_f16(static_cast<float>((i * 37) % 1001) / 100.0f - 5.0f)});
  std::unique_ptr<DeviceBuffer> out;
  try {
    out = std::make_unique<DeviceBuffer>(static_cast<std::size_t>(T * D) * sizeof(F16Bits));
  } catch (const RuntimeFailure& e) {
    GTEST_SKIP() << "cannot allocate 4.3 GB: " << e.what();
  }
  const LoadedKernel& k = kernel<F16Bits, float>(D, nullptr);
  auto data = DeviceBuffer::from(p.data), src = DeviceBuffer::from(p.src), tgt = DeviceBuffer::from(p.tgt);
  k.launch(args_for(p, data, src, tgt, *out), WorkShape{1, T}, LaunchPlace{});
  ROBOCACHE_CU_CHECK(cuda::driver_api(), cuCtxSynchronize);
  for (std::int64_t i : {std::int64_t{0}, T / 2 - 1, T - 2, T - 1}) {
    std::vector<F16Bits> row = out->download<F16Bits>(D, static_cast<std::size_t>(i * D));
    int failures = 0;
    for (std::int64_t c = 0; c < D; ++c) {
      auto r = check_element(p, 0, i, c, row[static_cast<std::size_t>(c)]);
      if (!r && failures++ < 5) ADD_FAILURE() << r.message();
    }
    EXPECT_EQ(failures, 0) << "target " << i;
  }
}

#endif  // ROBOCACHE_HAVE_CUDA

}  // namespace
}  // namespace robocache
