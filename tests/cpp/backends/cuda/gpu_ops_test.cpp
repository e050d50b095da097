// The CUDA resample modes, channel groups, lengths, fuse and voxelize kernels on a real device
// against ops.md. Suites are named Gpu* and skip cleanly without a CUDA device.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <random>

#include "compiler/backend.h"
#include "support/errors.h"
#include "compiler/fuse_abi.h"
#include "compiler/resample_abi.h"
#include "compiler/voxelize_abi.h"
#include "backends/cuda/cuda_status.h"
#include "tests/cpp/backends/cuda/mode_reference.h"
#include "tests/cpp/backends/cuda/resample_problem.h"

#if ROBOCACHE_HAVE_CUDA
#include "backends/cuda/driver_api.h"
#include "backends/cuda/primary_context.h"
#endif

namespace robocache {
namespace {

#if ROBOCACHE_HAVE_CUDA

using testing::BF16Bits;
using testing::F16Bits;
using testing::HostValue;
using testing::kTimeDType;
using testing::kValueDType;
using testing::make_problem;
using testing::Problem;

class Buf {
 public:
  explicit Buf(std::size_t bytes) {
    ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemAlloc, &ptr_, std::max<std::size_t>(bytes, 1));
  }
  ~Buf() { cuda::driver_api().cuMemFree(ptr_); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  template <class T>
  static std::unique_ptr<Buf> from(const std::vector<T>& host) {
    auto b = std::make_unique<Buf>(host.size() * sizeof(T));
    if (!host.empty()) ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemcpyHtoD, b->ptr_, host.data(), host.size() * sizeof(T));
    return b;
  }
  template <class T>
  std::vector<T> download(std::size_t count) const {
    std::vector<T> host(count);
    if (count) ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemcpyDtoH, host.data(), ptr_, count * sizeof(T));
    return host;
  }
  void* get() const { return reinterpret_cast<void*>(ptr_); }

 private:
  CUdeviceptr ptr_ = 0;
};

class GpuOps : public ::testing::Test {
 protected:
  void SetUp() override {
    CudaStatus st = probe_cuda();
    if (!st.driver_available || st.devices.empty()) GTEST_SKIP() << "no CUDA device: " << st.driver_detail;
    backend_ = make_cuda_backend("");
    context_ = std::make_unique<cuda::PrimaryContext>(0);
    scope_ = std::make_unique<cuda::ScopedContext>(context_->get());
  }
  void TearDown() override { scope_.reset(); }

  std::unique_ptr<LoadedKernel> load(const Spec& spec) {
    return backend_->load(backend_->compile(backend_->generate(spec, backend_->default_config(spec))));
  }
  static void sync() { ROBOCACHE_CU_CHECK(cuda::driver_api(), cuCtxSynchronize); }

  // Runs a resample spec with groups on p (lengths included) and returns the output.
  template <class V, class Time>
  std::vector<V> run_resample(const Problem<V, Time>& p, const std::vector<ChannelGroup>& groups) {
    ResampleSpec rs;
    rs.dtype = kValueDType<V>;
    rs.time_dtype = kTimeDType<Time>;
    rs.dim = p.D;
    rs.groups = groups;
    auto k = load(Spec(rs));
    auto data = Buf::from(p.data), src = Buf::from(p.src), tgt = Buf::from(p.tgt), len = Buf::from(p.lengths);
    Buf out(static_cast<std::size_t>(p.B * p.T * p.D) * sizeof(V));
    namespace abi = resample_abi;
    KernelArgs a;
    a.set_ptr(abi::kData, data->get());
    a.set_ptr(abi::kSrcTimes, src->get());
    a.set_ptr(abi::kTgtTimes, tgt->get());
    a.set_ptr(abi::kOut, out.get());
    a.set_int(abi::kB, p.B);
    a.set_int(abi::kS, p.S);
    a.set_int(abi::kT, p.T);
    a.set_int(abi::kSrcRowStride, p.shared_src ? 0 : p.S);
    a.set_int(abi::kTgtRowStride, p.shared_tgt ? 0 : p.T);
    a.set_ptr(abi::kLengths, p.lengths.empty() ? nullptr : len->get());
    k->launch(a, WorkShape{p.B, p.T}, LaunchPlace{});
    sync();
    return out.download<V>(static_cast<std::size_t>(p.B * p.T * p.D));
  }

  template <class V, class Time>
  void check_all_modes() {
    SCOPED_TRACE(::testing::Message() << dtype_name(kValueDType<V>) << "/" << dtype_name(kTimeDType<Time>));
    for (Interp m : {Interp::Linear, Interp::Nearest, Interp::Previous, Interp::Cubic}) {
      SCOPED_TRACE(interp_name(m));
      const std::vector<ChannelGroup> g = {{0, 5, m}};
      auto p = make_problem<V, Time>(3, 37, 203, 5, false, false);
      EXPECT_TRUE(testing::check_groups(p, g, run_resample(p, g)));
      p.lengths = {37, 20, 2};
      EXPECT_TRUE(testing::check_groups(p, g, run_resample(p, g)));
      auto q = make_problem<V, Time>(2, 1, 40, 5, true, true);  // one sample holds everywhere
      EXPECT_TRUE(testing::check_groups(q, g, run_resample(q, g)));
    }
    const std::vector<ChannelGroup> s = {{0, 4, Interp::Slerp}};
    auto r = make_problem<V, Time>(2, 25, 300, 4, false, true);
    testing::make_quaternions(r, s);
    EXPECT_TRUE(testing::check_groups(r, s, run_resample(r, s)));
    const std::vector<ChannelGroup> grouped = {{0, 3, Interp::Linear}, {3, 4, Interp::Slerp}, {7, 1, Interp::Previous}};
    auto u = make_problem<V, Time>(3, 40, 500, 8, true, false);
    u.lengths = {40, 9, 2};
    testing::make_quaternions(u, grouped);
    EXPECT_TRUE(testing::check_groups(u, grouped, run_resample(u, grouped)));
  }

  std::shared_ptr<Backend> backend_;
  std::unique_ptr<cuda::PrimaryContext> context_;
  std::unique_ptr<cuda::ScopedContext> scope_;
};

class GpuResampleModes : public GpuOps {};

TEST_F(GpuResampleModes, EveryModeGroupsAndLengthsF32) {
  check_all_modes<float, double>();
  check_all_modes<float, float>();
}
TEST_F(GpuResampleModes, EveryModeGroupsAndLengthsF64) {
  check_all_modes<double, double>();
  check_all_modes<double, float>();
}
TEST_F(GpuResampleModes, EveryModeGroupsAndLengths16Bit) {
  check_all_modes<F16Bits, double>();
  check_all_modes<BF16Bits, float>();
  check_all_modes<F16Bits, float>();
  check_all_modes<BF16Bits, double>();
}
TEST_F(GpuResampleModes, EpochSecondsCubicAndSlerp) {
  const std::vector<ChannelGroup> g = {{0, 2, Interp::Cubic}, {2, 4, Interp::Slerp}, {6, 1, Interp::Nearest}};
  auto p = make_problem<float, double>(2, 300, 500, 7, false, false, 1.7e9, 0.01);
  testing::make_quaternions(p, g);
  EXPECT_TRUE(testing::check_groups(p, g, run_resample(p, g)));
}

class GpuFuse : public GpuOps {
 protected:
  // Fuses the problems (which share tgt and B) with the given modes; compares each modality's
  // slice with a separate resample launch of the same mode, bit for bit.
  template <class V, class Time>
  void check_fuse(std::vector<Problem<V, Time>> mods, const std::vector<Interp>& modes) {
    FuseSpec fs;
    fs.dtype = kValueDType<V>;
    fs.time_dtype = kTimeDType<Time>;
    for (std::size_t i = 0; i < mods.size(); ++i) fs.modalities.push_back({mods[i].D, modes[i]});
    Spec spec(fs);
    auto k = load(spec);
    const auto& p0 = mods[0];
    const std::int64_t B = p0.B, T = p0.T, DT = fs.total_dim();
    auto tgt = Buf::from(p0.tgt);
    Buf out(static_cast<std::size_t>(B * T * DT) * sizeof(V));
    namespace abi = fuse_abi;
    KernelArgs a;
    a.set_ptr(abi::kOut, out.get());
    a.set_ptr(abi::kTgtTimes, tgt->get());
    a.set_int(abi::kB, B);
    a.set_int(abi::kT, T);
    a.set_int(abi::kTgtRowStride, p0.shared_tgt ? 0 : T);
    std::vector<std::unique_ptr<Buf>> keep;
    for (std::size_t i = 0; i < mods.size(); ++i) {
      const auto& p = mods[i];
      const int m = static_cast<int>(i);
      keep.push_back(Buf::from(p.data));
      a.set_ptr(abi::modality_slot(m, abi::kData), keep.back()->get());
      keep.push_back(Buf::from(p.src));
      a.set_ptr(abi::modality_slot(m, abi::kTimes), keep.back()->get());
      a.set_int(abi::modality_slot(m, abi::kS), p.S);
      a.set_int(abi::modality_slot(m, abi::kTimesRowStride), p.shared_src ? 0 : p.S);
      keep.push_back(Buf::from(p.lengths));
      a.set_ptr(abi::modality_slot(m, abi::kLengths), p.lengths.empty() ? nullptr : keep.back()->get());
    }
    k->launch(a, WorkShape{B, T}, LaunchPlace{});
    sync();
    auto fused = out.download<V>(static_cast<std::size_t>(B * T * DT));
    for (std::size_t i = 0; i < mods.size(); ++i) {
      auto& p = mods[i];
      p.tgt = p0.tgt;
      p.shared_tgt = p0.shared_tgt;
      const std::vector<ChannelGroup> g = {{0, p.D, modes[i]}};
      auto alone = run_resample(p, g);
      const std::int64_t off = fs.offset(i);
      int failures = 0;
      std::vector<V> slice(alone.size());
      for (std::int64_t r = 0; r < B * T; ++r)
        for (std::int64_t c = 0; c < p.D; ++c) {
          const V got = fused[static_cast<std::size_t>(r * DT + off + c)];
          slice[static_cast<std::size_t>(r * p.D + c)] = got;
          if (!testing::same_bits(got, alone[static_cast<std::size_t>(r * p.D + c)]) && failures++ < 5)
            ADD_FAILURE() << "modality " << i << " row " << r << " channel " << c;
        }
      EXPECT_EQ(failures, 0) << "modality " << i;
      EXPECT_TRUE(testing::check_groups(p, g, slice)) << "modality " << i;
    }
  }
};

TEST_F(GpuFuse, ThreeModalitiesEqualSeparateResamples) {
  auto a = make_problem<float, double>(3, 30, 257, 3, false, false, 0.0, 1.0, 1);
  auto q = make_problem<float, double>(3, 17, 257, 4, true, false, 0.3, 2.0, 2);
  auto g = make_problem<float, double>(3, 50, 257, 1, false, false, -1.0, 0.5, 3);
  testing::make_quaternions(q, {{0, 4, Interp::Slerp}});
  g.lengths = {50, 3, 1};
  q.tgt = g.tgt = a.tgt;
  check_fuse<float, double>({a, q, g}, {Interp::Linear, Interp::Slerp, Interp::Previous});
}

TEST_F(GpuFuse, SixteenModalitiesEveryMode) {
  std::vector<Problem<BF16Bits, double>> mods;
  std::vector<Interp> modes;
  const Interp all[] = {Interp::Linear, Interp::Nearest, Interp::Previous, Interp::Cubic, Interp::Slerp};
  for (int i = 0; i < 16; ++i) {
    const Interp m = all[i % 5];
    auto p = make_problem<BF16Bits, double>(2, 5 + 7 * i, 129, m == Interp::Slerp ? 4 : 1 + i % 6, i % 2 == 0, true,
                                           0.1 * i, 1.0, 10 + i);
    if (m == Interp::Slerp) testing::make_quaternions(p, {{0, 4, Interp::Slerp}});
    if (i % 3 == 0) p.lengths = {p.S, 2};
    if (i > 0) p.tgt = mods[0].tgt;
    mods.push_back(p);
    modes.push_back(m);
  }
  check_fuse(mods, modes);
}

class GpuVoxelize : public GpuOps {
 protected:
  struct Cloud {
    std::int64_t B = 1, N = 0, F = 0;
    std::vector<double> pts;    // [B,N,3]
    std::vector<double> feats;  // [B,N,F]
    std::vector<std::int64_t> lengths;
    double gmin[3] = {-1.0, -2.0, 0.5};
    double vs[3] = {0.25, 0.5, 0.3};
    std::int64_t shape[3] = {8, 5, 6};
  };

  static Cloud make_cloud(std::int64_t B, std::int64_t N, std::int64_t F, unsigned seed = 5) {
    Cloud c;
    c.B = B, c.N = N, c.F = F;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-0.2, 1.2), f(-5.0, 5.0);
    for (std::int64_t i = 0; i < B * N; ++i) {
      for (int k = 0; k < 3; ++k) c.pts.push_back(c.gmin[k] + u(rng) * c.vs[k] * c.shape[k]);  // some outside
      if (i % 13 == 5) c.pts[c.pts.size() - 1 - (i % 3)] = std::nan("");
      for (std::int64_t j = 0; j < F; ++j) c.feats.push_back(f(rng) - 3.0);  // mostly negative
    }
    return c;
  }

  // Host reference: cell per point (or -1), in the coord dtype.
  template <class Coord>
  static std::int64_t cell_of(const Cloud& c, std::int64_t b, std::int64_t n) {
    std::int64_t idx[3];
    for (int k = 0; k < 3; ++k) {
      const Coord p = static_cast<Coord>(c.pts[static_cast<std::size_t>((b * c.N + n) * 3 + k)]);
      const Coord q = std::floor((p - static_cast<Coord>(c.gmin[k])) / static_cast<Coord>(c.vs[k]));
      if (!(q >= 0) || !(q < static_cast<Coord>(c.shape[k]))) return -1;
      idx[k] = static_cast<std::int64_t>(q);
    }
    return (idx[0] * c.shape[1] + idx[1]) * c.shape[2] + idx[2];
  }

  template <class Coord, class Out>
  std::vector<Out> run(const Cloud& c, VoxelMode mode) {
    VoxelizeSpec vs;
    vs.mode = mode;
    vs.coord_dtype = std::is_same_v<Coord, double> ? DType::F64 : DType::F32;
    vs.out_dtype = std::is_same_v<Out, double> ? DType::F64
                   : std::is_same_v<Out, float>  ? DType::F32
                   : std::is_same_v<Out, int>    ? DType::I32
                                                 : DType::U8;
    const bool feat = mode == VoxelMode::Mean || mode == VoxelMode::Max;
    vs.features = feat ? c.F : 0;
    auto k = load(Spec(vs));
    std::vector<Coord> pts(c.pts.begin(), c.pts.end());
    std::vector<Out> feats;
    if (feat) feats.assign(c.feats.begin(), c.feats.end());
    const std::int64_t V = c.shape[0] * c.shape[1] * c.shape[2], ch = feat ? c.F : 1;
    auto dp = Buf::from(pts), df = Buf::from(feats), dl = Buf::from(c.lengths);
    Buf out(static_cast<std::size_t>(c.B * V * ch) * sizeof(Out)), counts(static_cast<std::size_t>(c.B * V) * 4);
    ROBOCACHE_CU_CHECK(cuda::driver_api(), cuMemsetD8, reinterpret_cast<CUdeviceptr>(out.get()), 0x5a,
                       static_cast<std::size_t>(c.B * V * ch) * sizeof(Out));
    namespace abi = voxelize_abi;
    KernelArgs a;
    a.set_ptr(abi::kPoints, dp->get());
    a.set_ptr(abi::kFeatures, feat ? df->get() : nullptr);
    a.set_ptr(abi::kLengths, c.lengths.empty() ? nullptr : dl->get());
    a.set_ptr(abi::kOut, out.get());
    a.set_ptr(abi::kCounts, feat ? counts.get() : nullptr);
    a.set_int(abi::kB, c.B);
    a.set_int(abi::kN, c.N);
    for (int i = 0; i < 3; ++i) {
      a.slots[abi::kGridMinX + i] = std::bit_cast<std::uint64_t>(c.gmin[i]);
      a.slots[abi::kVoxelSizeX + i] = std::bit_cast<std::uint64_t>(c.vs[i]);
      a.set_int(abi::kShapeX + i, c.shape[i]);
    }
    a.set_int(abi::kPhase, abi::kClear);
    k->launch(a, WorkShape{c.B, V}, LaunchPlace{});
    a.set_int(abi::kPhase, abi::kScatter);
    k->launch(a, WorkShape{c.B, c.N}, LaunchPlace{});
    if (feat) {
      a.set_int(abi::kPhase, abi::kFinalize);
      k->launch(a, WorkShape{c.B, V}, LaunchPlace{});
    }
    sync();
    return out.download<Out>(static_cast<std::size_t>(c.B * V * ch));
  }

  template <class Coord, class Out>
  void check(const Cloud& c, VoxelMode mode) {
    SCOPED_TRACE(::testing::Message() << voxel_mode_name(mode) << " coord " << sizeof(Coord) << " out " << sizeof(Out));
    const bool feat = mode == VoxelMode::Mean || mode == VoxelMode::Max;
    const std::int64_t V = c.shape[0] * c.shape[1] * c.shape[2], ch = feat ? c.F : 1;
    std::vector<double> sum(static_cast<std::size_t>(c.B * V * ch), 0.0), mx(sum.size(), -INFINITY);
    std::vector<std::int64_t> cnt(static_cast<std::size_t>(c.B * V), 0);
    std::int64_t kept = 0;
    for (std::int64_t b = 0; b < c.B; ++b) {
      const std::int64_t L = c.lengths.empty() ? c.N : c.lengths[static_cast<std::size_t>(b)];
      for (std::int64_t n = 0; n < L; ++n) {
        const std::int64_t v = cell_of<Coord>(c, b, n);
        if (v < 0) continue;
        ++kept;
        const std::int64_t cell = b * V + v;
        ++cnt[static_cast<std::size_t>(cell)];
        for (std::int64_t f = 0; f < (feat ? c.F : 0); ++f) {
          const double x = static_cast<Out>(c.feats[static_cast<std::size_t>((b * c.N + n) * c.F + f)]);
          sum[static_cast<std::size_t>(cell * ch + f)] += x;
          mx[static_cast<std::size_t>(cell * ch + f)] = std::max(mx[static_cast<std::size_t>(cell * ch + f)], x);
        }
      }
    }
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, c.B * c.N) << "the cloud should have dropped points";
    auto out = run<Coord, Out>(c, mode);
    int failures = 0;
    for (std::int64_t cell = 0; cell < c.B * V; ++cell) {
      const std::int64_t n = cnt[static_cast<std::size_t>(cell)];
      for (std::int64_t f = 0; f < ch; ++f) {
        const std::size_t i = static_cast<std::size_t>(cell * ch + f);
        double want = 0;
        switch (mode) {
          case VoxelMode::Occupancy: want = n > 0 ? 1 : 0; break;
          case VoxelMode::Count: want = static_cast<double>(n); break;
          case VoxelMode::Mean: want = n ? sum[i] / static_cast<double>(n) : 0.0; break;
          case VoxelMode::Max: want = n ? mx[i] : 0.0; break;
        }
        const double got = static_cast<double>(out[i]);
        const double tol = mode == VoxelMode::Mean ? (sizeof(Out) == 4 ? 1e-5 : 1e-12) * (1 + std::fabs(want)) : 0.0;
        if (!(std::fabs(got - want) <= tol) && failures++ < 10)
          ADD_FAILURE() << "cell " << cell << " f " << f << ": got " << got << " want " << want;
      }
    }
    EXPECT_EQ(failures, 0);
  }
};

TEST_F(GpuVoxelize, EveryModeAndOutDtype) {
  Cloud c = make_cloud(1, 3000, 3);
  check<float, float>(c, VoxelMode::Occupancy);
  check<double, double>(c, VoxelMode::Occupancy);
  check<float, unsigned char>(c, VoxelMode::Occupancy);
  check<double, int>(c, VoxelMode::Occupancy);
  check<float, int>(c, VoxelMode::Count);
  check<double, int>(c, VoxelMode::Count);
  check<float, float>(c, VoxelMode::Mean);
  check<double, double>(c, VoxelMode::Mean);
  check<float, float>(c, VoxelMode::Max);
  check<double, double>(c, VoxelMode::Max);
}

TEST_F(GpuVoxelize, BatchWithLengthsIncludingZero) {
  Cloud c = make_cloud(3, 2000, 2, 9);
  c.lengths = {2000, 0, 777};
  check<float, int>(c, VoxelMode::Count);
  check<float, float>(c, VoxelMode::Mean);
  check<double, float>(c, VoxelMode::Max);
  check<double, unsigned char>(c, VoxelMode::Occupancy);
}

TEST_F(GpuVoxelize, BoundaryPointsAndNan) {
  // On the lower edge: kept; exactly on the upper edge: dropped; NaN/inf: dropped.
  Cloud c;
  c.B = 1, c.N = 6, c.F = 1;
  c.gmin[0] = c.gmin[1] = c.gmin[2] = 0.0;
  c.vs[0] = c.vs[1] = c.vs[2] = 1.0;
  c.shape[0] = c.shape[1] = c.shape[2] = 2;
  c.pts = {0, 0, 0, 2, 0, 0, 1.999, 1.5, 0.5, std::nan(""), 0, 0, -1e-9, 0, 0, INFINITY, 0, 0};
  c.feats = {-4, -2, -3, 7, 8, 9};
  auto cnt = run<double, int>(c, VoxelMode::Count);
  EXPECT_EQ(cnt, (std::vector<int>{1, 0, 0, 0, 0, 0, 1, 0}));
  auto mx = run<double, double>(c, VoxelMode::Max);
  EXPECT_EQ(mx, (std::vector<double>{-4, 0, 0, 0, 0, 0, -3, 0}));
}

#endif  // ROBOCACHE_HAVE_CUDA

}  // namespace
}  // namespace robocache
