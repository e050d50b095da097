// RoboCache CUDA template: resample (ops.md section 1), linear interpolation.
//
// Compiled at run time by NVRTC (and by nvcc in the build, so a broken template fails early).
// It includes nothing: NVRTC then needs no include path into a CUDA toolkit and compiles fast.
// The host side specialises it only through template arguments built from a spec's enums and
// integers, e.g. robocache::resample_linear<robocache::bf16, double, 8, 256, 32>.
//
// Numerics (must agree bit for bit with the CPU backend, docs/semantics.md): time arithmetic in
// the time type, the weight rounded once to the blend type (f32 for f16/bf16/f32 data, f64 for
// f64), a zero weight copies v[l], else out = fma(a, v[r] - v[l], v[l]) with explicit
// round-to-nearest intrinsics; the program is compiled with --fmad=false so nothing else is
// contracted.

namespace robocache {

// Argument slots; mirrors compiler/resample_abi.h, which this file cannot include.
namespace resample_slot {
constexpr int kData = 0;          // const V*    [B,S,D] contiguous
constexpr int kSrcTimes = 1;      // const Time* [B,S] or [S]
constexpr int kTgtTimes = 2;      // const Time* [B,T] or [T]
constexpr int kOut = 3;           // V*          [B,T,D] contiguous
constexpr int kB = 4;             // int64 batch
constexpr int kS = 5;             // int64 source samples
constexpr int kT = 6;             // int64 target samples
constexpr int kSrcRowStride = 7;  // int64 elements between rows of src_times (0: shared)
constexpr int kTgtRowStride = 8;  // int64 elements between rows of tgt_times (0: shared)
}  // namespace resample_slot

// The one by-value kernel parameter: compiler/backend.h's KernelArgs::slots, byte for byte.
struct RcArgs {
  unsigned long long slot[16];
};

// 16-bit storage types; arithmetic on them always goes through f32.
struct f16 {
  unsigned short bits;
};
struct bf16 {
  unsigned short bits;
};

// Per value type: the blend type, exact widening to it, round-to-nearest-even narrowing, and the
// quiet NaN a NaN target writes (the same storage bits as the CPU backend).
template <class V>
struct ValueOps;

template <>
struct ValueOps<float> {
  using Blend = float;
  static __device__ __forceinline__ float widen(float v) { return v; }
  static __device__ __forceinline__ float narrow(float x) { return x; }
  static __device__ __forceinline__ float nan() { return __int_as_float(0x7fc00000); }
};

template <>
struct ValueOps<double> {
  using Blend = double;
  static __device__ __forceinline__ double widen(double v) { return v; }
  static __device__ __forceinline__ double narrow(double x) { return x; }
  static __device__ __forceinline__ double nan() {
    return __longlong_as_double(0x7ff8000000000000LL);
  }
};

template <>
struct ValueOps<f16> {
  using Blend = float;
  static __device__ __forceinline__ float widen(f16 v) {
#if defined(__CUDA_ARCH__)
    float x;
    asm("cvt.f32.f16 %0, %1;" : "=f"(x) : "h"(v.bits));
    return x;
#else
    // Host emulation in the tests: the same exact conversion on the bits.
    const unsigned sign = (v.bits & 0x8000u) << 16;
    const unsigned e = (v.bits >> 10) & 0x1fu, m = v.bits & 0x3ffu;
    if (e == 0x1fu) return __uint_as_float(sign | 0x7f800000u | (m << 13));
    if (e == 0u) return __uint_as_float(sign | __float_as_uint(static_cast<float>(m) * 5.9604644775390625e-8f));
    return __uint_as_float(sign | ((e + 112u) << 23) | (m << 13));
#endif
  }
  static __device__ __forceinline__ f16 narrow(float x) {
    f16 r;
#if defined(__CUDA_ARCH__)
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
#else
    // Host emulation in the tests: round to nearest even on the bits, as the CPU backend does.
    const unsigned u = __float_as_uint(x);
    const unsigned sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    unsigned h;
    if (a > 0x7f800000u) {
      h = 0x7e00u | ((a >> 13) & 0x3ffu);
    } else if (a >= 0x477ff000u) {
      h = 0x7c00u;  // 65520 and up round to infinity
    } else if (a < 0x38800000u) {
      h = __float_as_uint(__uint_as_float(a) + 0.5f) - 0x3f000000u;  // the adder rounds
    } else {
      h = (a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13;
    }
    r.bits = static_cast<unsigned short>(sign | h);
#endif
    return r;
  }
  static __device__ __forceinline__ f16 nan() { return f16{0x7e00}; }
};

template <>
struct ValueOps<bf16> {
  using Blend = float;
  // bf16 is the top half of an f32, so widening is a shift.
  static __device__ __forceinline__ float widen(bf16 v) {
    return __uint_as_float(static_cast<unsigned>(v.bits) << 16);
  }
  static __device__ __forceinline__ bf16 narrow(float x) {
    bf16 r;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
#else
    // Before sm_80 (and in the tests' host emulation) there is no cvt to bf16: round to nearest
    // even on the bits; a NaN keeps its top bits and gets the quiet bit, as the CPU backend does.
    unsigned u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      r.bits = static_cast<unsigned short>((u >> 16) | 0x40u);
    } else {
      r.bits = static_cast<unsigned short>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
#endif
    return r;
  }
  static __device__ __forceinline__ bf16 nan() { return bf16{0x7fc0}; }
};

// Explicitly rounded arithmetic, so the result never depends on contraction or fast-math flags.
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }

// Rounds the weight from the time type to the blend type once.
template <class Blend, class Time>
__device__ __forceinline__ Blend to_blend(Time a);
template <>
__device__ __forceinline__ float to_blend<float, float>(float a) { return a; }
template <>
__device__ __forceinline__ float to_blend<float, double>(double a) { return __double2float_rn(a); }
template <>
__device__ __forceinline__ double to_blend<double, float>(float a) { return static_cast<double>(a); }
template <>
__device__ __forceinline__ double to_blend<double, double>(double a) { return a; }

// What one target does, decided once per target by the searching thread.
enum TargetKind : int { kBlend = 0, kCopy = 1, kNan = 2 };

// Largest l with t[l] <= x, given t[0] < x < t[n-1]; repeated timestamps are allowed.
template <class Time>
__device__ __forceinline__ long long search_left(const Time* t, long long n, Time x) {
  long long lo = 0, hi = n - 1;  // invariant: t[lo] <= x < t[hi]
  while (hi - lo > 1) {
    long long mid = lo + ((hi - lo) >> 1);
    if (t[mid] <= x) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// One block handles a tile of TargetsPerBlock consecutive targets of one batch row: its first
// threads search their target's interval into shared memory, then all threads sweep the tile's
// (target, channel) pairs, so reads of data rows and writes of the output are contiguous.
// Tiles are visited with a grid-stride loop, so any grid size (even one capped at 2^31-1
// blocks) covers any B*T.
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock>
__global__ void __launch_bounds__(BlockThreads) resample_linear(RcArgs args) {
  static_assert(D >= 1, "D must be positive");
  static_assert(BlockThreads >= 32 && BlockThreads <= 1024, "block size out of range");
  static_assert(TargetsPerBlock >= 1 && TargetsPerBlock <= 1024, "tile size out of range");
  static_assert(static_cast<long long>(TargetsPerBlock) * D <= 0x7fffffffLL,
                "a tile's (target, channel) pairs are counted in an int");
  using Ops = ValueOps<V>;
  using Blend = typename Ops::Blend;

  const V* __restrict__ data = reinterpret_cast<const V*>(args.slot[resample_slot::kData]);
  const Time* __restrict__ src_times =
      reinterpret_cast<const Time*>(args.slot[resample_slot::kSrcTimes]);
  const Time* __restrict__ tgt_times =
      reinterpret_cast<const Time*>(args.slot[resample_slot::kTgtTimes]);
  V* __restrict__ out = reinterpret_cast<V*>(args.slot[resample_slot::kOut]);
  const long long B = static_cast<long long>(args.slot[resample_slot::kB]);
  const long long S = static_cast<long long>(args.slot[resample_slot::kS]);
  const long long T = static_cast<long long>(args.slot[resample_slot::kT]);
  const long long src_stride = static_cast<long long>(args.slot[resample_slot::kSrcRowStride]);
  const long long tgt_stride = static_cast<long long>(args.slot[resample_slot::kTgtRowStride]);

  __shared__ long long s_left[TargetsPerBlock];
  __shared__ Blend s_weight[TargetsPerBlock];
  __shared__ int s_kind[TargetsPerBlock];

  const long long tiles_per_row = (T + TargetsPerBlock - 1) / TargetsPerBlock;
  const long long tiles = B * tiles_per_row;
  for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const long long b = tile / tiles_per_row;
    const long long t0 = (tile - b * tiles_per_row) * TargetsPerBlock;
    const int n = static_cast<int>(T - t0 < TargetsPerBlock ? T - t0 : TargetsPerBlock);
    const Time* t = src_times + b * src_stride;

    for (int i = threadIdx.x; i < n; i += BlockThreads) {
      const Time x = tgt_times[b * tgt_stride + t0 + i];
      long long left = 0;
      Blend weight = Blend(0);
      int kind = kCopy;
      if (x != x) {
        kind = kNan;
      } else if (x <= t[0]) {
        left = 0;
      } else if (x >= t[S - 1]) {
        left = S - 1;
      } else {
        left = search_left(t, S, x);
        const Time tl = t[left];
        const Time a = div_rn(sub_rn(x, tl), sub_rn(t[left + 1], tl));
        weight = to_blend<Blend, Time>(a);
        // A zero weight (an exact hit, or one too small for the blend type) copies v[l]:
        // fma(0, d, v) would turn -0 into +0 and an infinite neighbour into NaN.
        kind = weight == Blend(0) ? kCopy : kBlend;
      }
      s_left[i] = left;
      s_weight[i] = weight;
      s_kind[i] = kind;
    }
    __syncthreads();

    const V* row = data + b * S * D;
    V* out_tile = out + (b * T + t0) * D;
    const int pairs = n * D;
    for (int p = threadIdx.x; p < pairs; p += BlockThreads) {
      const int i = p / D;
      const int c = p - i * D;
      const int kind = s_kind[i];
      const V* vl = row + s_left[i] * D + c;
      V result;
      if (kind == kCopy) {
        result = *vl;
      } else if (kind == kNan) {
        result = Ops::nan();
      } else {
        const Blend lo = Ops::widen(vl[0]);
        const Blend hi = Ops::widen(vl[D]);
        result = Ops::narrow(fma_rn(s_weight[i], sub_rn(hi, lo), lo));
      }
      out_tile[p] = result;
    }
    __syncthreads();  // the next tile reuses the shared arrays
  }
}

}  // namespace robocache
