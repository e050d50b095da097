// RoboCache CUDA template: voxelize (ops.md section 3).
//
// Compiled at run time by NVRTC (and by nvcc in the build). It includes nothing. The host side
// specialises it only through template arguments built from a spec's enums and integers, e.g.
// robocache::voxelize<float, float, 2, 4, 256, 256> (coords f32, out f32, mean, 4 features).
//
// One kernel, launched in phases on the same stream (compiler/voxelize_abi.h):
//   0 clear    (items = X*Y*Z): out := 0 (max: NaN, so an all-NaN channel stays NaN), counts := 0
//   1 scatter  (items = N):     bin each valid point and accumulate with atomics
//   2 finalize (items = X*Y*Z): mean: out /= counts (0 where empty); max: 0 where empty
// Voxel index per axis: i = floor((p - grid_min) / voxel_size) in the coord type, with grid_min
// and voxel_size rounded once from double to the coord type; IEEE operations only. A point is
// dropped when any coordinate is NaN or any index falls outside [0, shape).

namespace robocache {

// Argument slots; mirrors compiler/voxelize_abi.h, which this file cannot include.
namespace voxelize_slot {
constexpr int kPoints = 0;      // const Coord* [B,N,3]
constexpr int kFeatures = 1;    // const Out*   [B,N,F] (mean/max), else 0
constexpr int kLengths = 2;     // const int64* [B], or 0: all N
constexpr int kOut = 3;         // Out*         [B,X,Y,Z] or [B,X,Y,Z,F]
constexpr int kCounts = 4;      // int32*       [B,X,Y,Z] (mean/max), else 0
constexpr int kB = 5;           // int64
constexpr int kN = 6;           // int64
constexpr int kGridMin = 7;     // double bits, x y z in 7, 8, 9
constexpr int kVoxelSize = 10;  // double bits, x y z in 10, 11, 12
constexpr int kShape = 13;      // int64 X Y Z in 13, 14, 15
constexpr int kPhase = 16;      // int64 0 clear, 1 scatter, 2 finalize
constexpr int kErrorFlag = 17;  // unsigned long long* host-mapped error word, or 0: none
}  // namespace voxelize_slot

// Voxel modes: the numbering of compiler/spec.h's VoxelMode.
namespace voxel_mode {
constexpr int kOccupancy = 0;
constexpr int kCount = 1;
constexpr int kMean = 2;
constexpr int kMax = 3;
}  // namespace voxel_mode



namespace voxel_detail {

// Coordinate arithmetic, explicitly rounded.
template <class C> struct CoordOps;
template <>
struct CoordOps<float> {
  static __device__ __forceinline__ float from_bits(unsigned long long u) {
    return __double2float_rn(__longlong_as_double(static_cast<long long>(u)));
  }
  static __device__ __forceinline__ float cell(float p, float lo, float size) {
    return floorf(__fdiv_rn(__fsub_rn(p, lo), size));
  }
};
template <>
struct CoordOps<double> {
  static __device__ __forceinline__ double from_bits(unsigned long long u) {
    return __longlong_as_double(static_cast<long long>(u));
  }
  static __device__ __forceinline__ double cell(double p, double lo, double size) {
    return floor(__ddiv_rn(__dsub_rn(p, lo), size));
  }
};

// Index along one axis, or -1 when the point is dropped (NaN, below 0, at or beyond shape).
template <class C>
__device__ __forceinline__ long long axis_index(C q, long long shape) {
  if (!(q >= C(0))) return -1;                 // NaN or negative
  if (!(q < C(4611686018427387904.0))) return -1;  // 2^62: far beyond any grid; keeps the conversion exact
  const long long i = static_cast<long long>(q);  // q is an integer value here
  return i < shape ? i : -1;
}

// Output element operations per output type.
template <class Out> struct OutOps;
template <>
struct OutOps<float> {
  static __device__ __forceinline__ float quiet_nan() { return __int_as_float(0x7fc00000); }
  static __device__ __forceinline__ float div(float a, int c) { return __fdiv_rn(a, static_cast<float>(c)); }
  static __device__ __forceinline__ void add(float* p, float v) { atomicAdd(p, v); }
  // out = max(out, v) by compare-exchange on the bits, like fmax: a NaN feature never writes, and
  // any other replaces a NaN current value (the cleared state) or a smaller one (ops.md section 3, the
  // CPU backend's rule).
  static __device__ __forceinline__ void max(float* p, float v) {
    if (v != v) return;
    unsigned* a = reinterpret_cast<unsigned*>(p);
    const unsigned vb = __float_as_uint(v);
    unsigned cur = *a;
    for (;;) {
      const float c = __uint_as_float(cur);
      if (c == c && !(v > c)) return;
      const unsigned prev = atomicCAS(a, cur, vb);
      if (prev == cur) return;
      cur = prev;
    }
  }
};
template <>
struct OutOps<double> {
  static __device__ __forceinline__ double quiet_nan() {
    return __longlong_as_double(static_cast<long long>(0x7ff8000000000000ull));
  }
  static __device__ __forceinline__ double div(double a, int c) { return __ddiv_rn(a, static_cast<double>(c)); }
  static __device__ __forceinline__ void add(double* p, double v) { atomicAdd(p, v); }
  static __device__ __forceinline__ void max(double* p, double v) {
    if (v != v) return;
    unsigned long long* a = reinterpret_cast<unsigned long long*>(p);
    const unsigned long long vb = static_cast<unsigned long long>(__double_as_longlong(v));
    unsigned long long cur = *a;
    for (;;) {
      const double c = __longlong_as_double(static_cast<long long>(cur));
      if (c == c && !(v > c)) return;
      const unsigned long long prev = atomicCAS(a, cur, vb);
      if (prev == cur) return;
      cur = prev;
    }
  }
};

// N consecutive channels of one cell, moved with one aligned access (N divides F).
template <class Out, int N>
struct alignas(sizeof(Out) * N) OutVec {
  Out v[N];
};

// Channels per access for F channels of Out: 16 or 8 bytes when F allows it, else 1.
template <class Out, int F>
constexpr int kOutVec = F >= 1 && (F * sizeof(Out)) % 16 == 0 ? 16 / static_cast<int>(sizeof(Out))
                        : F >= 1 && (F * sizeof(Out)) % 8 == 0 ? 8 / static_cast<int>(sizeof(Out))
                                                                 : 1;

// out[0..N) += v[0..N) with atomics: one vector reduction for f32 on sm_90 (each channel is still
// one IEEE addition, in whatever order the points arrive), else one atomic per channel.
template <class Out, int N>
__device__ __forceinline__ void add_vec(Out* out, const OutVec<Out, N>& v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  constexpr bool kVectorRed = sizeof(Out) == 4 && (N == 4 || N == 2);
#else
  constexpr bool kVectorRed = false;
#endif
  if constexpr (kVectorRed && N == 4) {
    asm volatile("red.add.v4.f32 [%0], {%1, %2, %3, %4};" ::"l"(out), "f"(v.v[0]), "f"(v.v[1]), "f"(v.v[2]),
                 "f"(v.v[3])
                 : "memory");
  } else if constexpr (kVectorRed && N == 2) {
    asm volatile("red.add.v2.f32 [%0], {%1, %2};" ::"l"(out), "f"(v.v[0]), "f"(v.v[1]) : "memory");
  } else {
    for (int k = 0; k < N; ++k) OutOps<Out>::add(out + k, v.v[k]);
  }
}

}  // namespace voxel_detail

// Out is float or double for mean and max, float/double/unsigned char/int for occupancy, int for
// count. F is the feature count for mean and max (0 otherwise). The host launches one block per
// TargetsPerBlock items; threads walk all rows' items with a grid-stride loop.
template <class Coord, class Out, int Mode, int F, int BlockThreads, int TargetsPerBlock>
__global__ void __launch_bounds__(BlockThreads) voxelize(RcArgs args) {
  static_assert(Mode >= voxel_mode::kOccupancy && Mode <= voxel_mode::kMax, "unknown voxel mode");
  static_assert((Mode == voxel_mode::kMean || Mode == voxel_mode::kMax) ? F >= 1 : F == 0,
                "features only for mean and max");
  static_assert(BlockThreads >= 32 && BlockThreads <= 1024, "block size out of range");
  static_assert(TargetsPerBlock >= 1 && TargetsPerBlock <= 1024, "tile size out of range");
  constexpr bool kFeatureMode = Mode == voxel_mode::kMean || Mode == voxel_mode::kMax;
  constexpr long long kCh = kFeatureMode ? F : 1;  // output elements per cell
  using C = voxel_detail::CoordOps<Coord>;

  const Coord* __restrict__ points = reinterpret_cast<const Coord*>(args.slot[voxelize_slot::kPoints]);
  const Out* __restrict__ features = reinterpret_cast<const Out*>(args.slot[voxelize_slot::kFeatures]);
  const long long* __restrict__ lengths = reinterpret_cast<const long long*>(args.slot[voxelize_slot::kLengths]);
  Out* __restrict__ out = reinterpret_cast<Out*>(args.slot[voxelize_slot::kOut]);
  int* __restrict__ counts = reinterpret_cast<int*>(args.slot[voxelize_slot::kCounts]);
  const long long B = static_cast<long long>(args.slot[voxelize_slot::kB]);
  const long long N = static_cast<long long>(args.slot[voxelize_slot::kN]);
  const long long X = static_cast<long long>(args.slot[voxelize_slot::kShape + 0]);
  const long long Y = static_cast<long long>(args.slot[voxelize_slot::kShape + 1]);
  const long long Z = static_cast<long long>(args.slot[voxelize_slot::kShape + 2]);
  const long long phase = static_cast<long long>(args.slot[voxelize_slot::kPhase]);
  const long long V = X * Y * Z;

  // Every phase is a flat grid-stride loop over its items (cells or points) of all rows: no
  // per-tile integer division, and the clear phase stores runs of consecutive cells.
  // Cells with F channels move kVec channels an access when the arrays are aligned for it.
  constexpr int kVec = kFeatureMode ? voxel_detail::kOutVec<Out, F> : 1;
  using Vec = voxel_detail::OutVec<Out, kVec>;
  const bool vec = kVec > 1 && reinterpret_cast<unsigned long long>(out) % sizeof(Vec) == 0 &&
                   (features == nullptr || reinterpret_cast<unsigned long long>(features) % sizeof(Vec) == 0);
  const long long items = phase == 1 ? N : V;
  const long long total = B * items;
  const long long step = static_cast<long long>(gridDim.x) * BlockThreads;
  for (long long g = static_cast<long long>(blockIdx.x) * BlockThreads + threadIdx.x; g < total; g += step) {
    if (phase == 0) {
      Vec fill;
      for (int k = 0; k < kVec; ++k) {
        if constexpr (Mode == voxel_mode::kMax) {
          fill.v[k] = voxel_detail::OutOps<Out>::quiet_nan();
        } else {
          fill.v[k] = Out(0);
        }
      }
      if (vec) {
        for (long long f = 0; f < kCh; f += kVec) *reinterpret_cast<Vec*>(out + g * kCh + f) = fill;
      } else {
        for (long long f = 0; f < kCh; ++f) out[g * kCh + f] = fill.v[0];
      }
      if constexpr (kFeatureMode) counts[g] = 0;
    } else if (phase == 1) {
      // One cloud (B = 1) needs no division to find the row.
      const long long b = B == 1 ? 0 : g / N;
      const long long item = g - b * N;
      if (lengths) {
        // A length outside [0, N] drops the row's points (its grid stays empty) and is reported.
        const long long len = lengths[b];
        if (len < 0 || len > N) {
          if (item == 0)
            device_error::report(reinterpret_cast<unsigned long long*>(args.slot[voxelize_slot::kErrorFlag]),
                                 device_error::where(device_error::kOpVoxelize, 0, b) | device_error::kLengthOutOfRange);
          continue;
        }
        if (item >= len) continue;
      }
      const Coord* p = points + g * 3;
      long long idx[3];
      bool keep = true;
      for (int k = 0; k < 3; ++k) {
        const Coord lo = C::from_bits(args.slot[voxelize_slot::kGridMin + k]);
        const Coord size = C::from_bits(args.slot[voxelize_slot::kVoxelSize + k]);
        const long long shape = static_cast<long long>(args.slot[voxelize_slot::kShape + k]);
        idx[k] = voxel_detail::axis_index(C::cell(p[k], lo, size), shape);
        keep = keep && idx[k] >= 0;
      }
      if (!keep) continue;
      const long long cell = b * V + (idx[0] * Y + idx[1]) * Z + idx[2];
      if constexpr (Mode == voxel_mode::kOccupancy) {
        out[cell] = Out(1);
      } else if constexpr (Mode == voxel_mode::kCount) {
        atomicAdd(reinterpret_cast<int*>(out + cell), 1);
      } else {
        const Out* feat = features + g * F;
        if (vec) {
          for (long long f = 0; f < F; f += kVec) {
            const Vec v = *reinterpret_cast<const Vec*>(feat + f);
            if constexpr (Mode == voxel_mode::kMean) {
              voxel_detail::add_vec<Out, kVec>(out + cell * F + f, v);
            } else {
              for (int k = 0; k < kVec; ++k) voxel_detail::OutOps<Out>::max(out + cell * F + f + k, v.v[k]);
            }
          }
        } else {
          for (long long f = 0; f < F; ++f) {
            if constexpr (Mode == voxel_mode::kMean) {
              voxel_detail::OutOps<Out>::add(out + cell * F + f, feat[f]);
            } else {
              voxel_detail::OutOps<Out>::max(out + cell * F + f, feat[f]);
            }
          }
        }
        atomicAdd(counts + cell, 1);
      }
    } else if constexpr (kFeatureMode) {
      const long long cell = g;
      const int c = counts[cell];
      if (vec) {
        for (long long f = 0; f < F; f += kVec) {
          Vec* o = reinterpret_cast<Vec*>(out + cell * F + f);
          if (c == 0) {
            *o = Vec{};
          } else if constexpr (Mode == voxel_mode::kMean) {
            Vec r = *o;
            for (int k = 0; k < kVec; ++k) r.v[k] = voxel_detail::OutOps<Out>::div(r.v[k], c);
            *o = r;
          }
        }
      } else {
        for (long long f = 0; f < F; ++f) {
          Out* o = out + cell * F + f;
          if (c == 0) {
            *o = Out(0);
          } else if constexpr (Mode == voxel_mode::kMean) {
            *o = voxel_detail::OutOps<Out>::div(*o, c);
          }
        }
      }
    }
  }
}

}  // namespace robocache
