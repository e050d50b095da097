// RoboCache CUDA template: voxelize (ops.md section 3).
//
// Compiled at run time by NVRTC (and by nvcc in the build). It includes nothing. The host side
// specialises it only through template arguments built from a spec's enums and integers, e.g.
// robocache::voxelize<float, float, 2, 4, 256, 256> (coords f32, out f32, mean, 4 features).
//
// One kernel, launched in phases on the same stream (compiler/voxelize_abi.h):
//   0 clear    (cells lo..hi): out := 0, counts := 0 (mean)
//   1 scatter  (items = N):     bin each valid point whose cell is in lo..hi, accumulate with atomics
//   2 finalize (cells lo..hi):  mean: out /= counts (0 where empty); max: keys to values
// lo..hi is a range of flat cells over all rows (slots kCellLo, kCellHi; hi = 0: every cell). The
// host splits a grid larger than about half the L2 into ranges launched one after another, so a
// range's atomics meet in L2 rather than in DRAM.
// max accumulates order-preserving integer keys of the features with one integer atomic max per
// channel (no compare-exchange loop, and no counts): key 0 = no point, 1 = only NaN features (the
// channel's result is NaN), others = the largest non-NaN value, +0 above -0.
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
constexpr int kCellLo = 18;     // int64 first flat cell (over all rows) of this launch's range
constexpr int kCellHi = 19;     // int64 one past the last; 0: every cell
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
  // Order-preserving key of a feature for max (see the top of this file): NaN -> 1, -0 < +0.
  static __device__ __forceinline__ unsigned key(float v) {
    const unsigned b = __float_as_uint(v);
    return v != v ? 1u : (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  }
  static __device__ __forceinline__ float from_key(unsigned k) {
    return k == 0u ? 0.0f : k == 1u ? quiet_nan() : __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
  }
  static __device__ __forceinline__ unsigned bits(float v) { return __float_as_uint(v); }
  static __device__ __forceinline__ void max(float* p, float v) { atomicMax(reinterpret_cast<unsigned*>(p), key(v)); }
};
template <>
struct OutOps<double> {
  static __device__ __forceinline__ double quiet_nan() {
    return __longlong_as_double(static_cast<long long>(0x7ff8000000000000ull));
  }
  static __device__ __forceinline__ double div(double a, int c) { return __ddiv_rn(a, static_cast<double>(c)); }
  static __device__ __forceinline__ void add(double* p, double v) { atomicAdd(p, v); }
  static __device__ __forceinline__ unsigned long long key(double v) {
    const unsigned long long b = static_cast<unsigned long long>(__double_as_longlong(v));
    constexpr unsigned long long kSign = 0x8000000000000000ull;
    return v != v ? 1ull : (b & kSign) ? ~b : (b | kSign);
  }
  static __device__ __forceinline__ double from_key(unsigned long long k) {
    constexpr unsigned long long kSign = 0x8000000000000000ull;
    return k == 0ull ? 0.0
           : k == 1ull ? quiet_nan()
                       : __longlong_as_double(static_cast<long long>((k & kSign) ? (k & ~kSign) : ~k));
  }
  static __device__ __forceinline__ unsigned long long bits(double v) {
    return static_cast<unsigned long long>(__double_as_longlong(v));
  }
  static __device__ __forceinline__ void max(double* p, double v) {
    atomicMax(reinterpret_cast<unsigned long long*>(p), key(v));
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
  const long long cell_lo = static_cast<long long>(args.slot[voxelize_slot::kCellLo]);
  const long long cell_hi_slot = static_cast<long long>(args.slot[voxelize_slot::kCellHi]);
  const long long cell_hi = cell_hi_slot > 0 ? cell_hi_slot : B * V;

  // Every phase is a flat grid-stride loop over its items (cells of the range, or points of all
  // rows): no per-tile integer division, and the clear phase stores runs of consecutive cells.
  // Cells with F channels move kVec channels an access when the arrays are aligned for it.
  constexpr int kVec = kFeatureMode ? voxel_detail::kOutVec<Out, F> : 1;
  using Vec = voxel_detail::OutVec<Out, kVec>;
  using Ops = voxel_detail::OutOps<Out>;
  const bool vec = kVec > 1 && reinterpret_cast<unsigned long long>(out) % sizeof(Vec) == 0 &&
                   (features == nullptr || reinterpret_cast<unsigned long long>(features) % sizeof(Vec) == 0);
  const long long total = phase == 1 ? B * N : cell_hi - cell_lo;
  const long long step = static_cast<long long>(gridDim.x) * BlockThreads;
  for (long long g = static_cast<long long>(blockIdx.x) * BlockThreads + threadIdx.x; g < total; g += step) {
    if (phase == 0) {
      const long long cell = cell_lo + g;
      if (vec) {
        for (long long f = 0; f < kCh; f += kVec) *reinterpret_cast<Vec*>(out + cell * kCh + f) = Vec{};
      } else {
        for (long long f = 0; f < kCh; ++f) out[cell * kCh + f] = Out(0);
      }
      if constexpr (Mode == voxel_mode::kMean) counts[cell] = 0;
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
      if (cell < cell_lo || cell >= cell_hi) continue;
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
              for (int k = 0; k < kVec; ++k) Ops::max(out + cell * F + f + k, v.v[k]);
            }
          }
        } else {
          for (long long f = 0; f < F; ++f) {
            if constexpr (Mode == voxel_mode::kMean) {
              Ops::add(out + cell * F + f, feat[f]);
            } else {
              Ops::max(out + cell * F + f, feat[f]);
            }
          }
        }
        if constexpr (Mode == voxel_mode::kMean) atomicAdd(counts + cell, 1);
      }
    } else if constexpr (Mode == voxel_mode::kMean) {
      const long long cell = cell_lo + g;
      const int c = counts[cell];
      if (vec) {
        for (long long f = 0; f < F; f += kVec) {
          Vec* o = reinterpret_cast<Vec*>(out + cell * F + f);
          if (c == 0) {
            *o = Vec{};
          } else {
            Vec r = *o;
            for (int k = 0; k < kVec; ++k) r.v[k] = Ops::div(r.v[k], c);
            *o = r;
          }
        }
      } else {
        for (long long f = 0; f < F; ++f) {
          Out* o = out + cell * F + f;
          *o = c == 0 ? Out(0) : Ops::div(*o, c);
        }
      }
    } else if constexpr (Mode == voxel_mode::kMax) {
      // Keys back to values, in place (a key has the value's width).
      const long long cell = cell_lo + g;
      if (vec) {
        for (long long f = 0; f < F; f += kVec) {
          Vec* o = reinterpret_cast<Vec*>(out + cell * F + f);
          Vec r = *o;
          for (int k = 0; k < kVec; ++k) r.v[k] = Ops::from_key(Ops::bits(r.v[k]));
          *o = r;
        }
      } else {
        for (long long f = 0; f < F; ++f) {
          Out* o = out + cell * F + f;
          *o = Ops::from_key(Ops::bits(*o));
        }
      }
    }
  }
}

}  // namespace robocache
