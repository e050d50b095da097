// RoboCache CUDA template: resample (ops.md section 1) in every interpolation mode with channel
// groups, and fuse (ops.md section 2), which resamples every modality in one launch.
//
// Compiled at run time by NVRTC (and by nvcc in the build, so a broken template fails early).
// It includes nothing: NVRTC then needs no include path into a CUDA toolkit and compiles fast.
// The host side specialises it only through template arguments built from a spec's enums and
// integers, e.g. robocache::resample<robocache::bf16, double, 8, 256, 32, 1, 1,
// robocache::RsGroup<0, 3, 0>, robocache::RsGroup<3, 4, 4>, robocache::RsGroup<7, 1, 2>>
// (value type, time type, channels, threads per block, largest targets per block, channels per
// access, search strategy, channel groups).
//
// Work split (docs/performance.md): a block takes a tile of consecutive targets of one batch row
// (its size chosen at launch from the shapes and the SM count, slot kTileTargets). The block first
// stages the row's source times in dynamic shared memory when they fit, checking them on the way
// when validation is on (lengths in range, no NaN, never decreasing); a bad row is written as NaN
// and reported through a host-mapped error word, and nothing past its length is read. Then each
// warp takes 32 targets at a time: every lane finds one target's bracket (an interpolation search
// in the staged times, or in global memory for rows too long to stage), the warp shares the
// brackets through shared memory, and the 32 lanes stream the targets' source rows and outputs
// in 16-byte pieces, several loads in flight per lane. No block-wide barrier sits between the
// search and the stream, so warps of one block overlap each other's latency.
//
// Numerics (must agree bit for bit with the CPU backend, docs/semantics.md): time arithmetic in
// the time type, the weight rounded once to the blend type (f32 for f16/bf16/f32 data, f64 for
// f64), a zero weight copies v[l], else linear is out = fma(a, v[r] - v[l], v[l]) with explicit
// round-to-nearest intrinsics; the program is compiled with --fmad=false so nothing else is
// contracted. nearest and previous copy stored bits; cubic and slerp are computed in the blend
// type with plain (uncontracted) IEEE operations.

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
constexpr int kLengths = 9;       // const int64* [B] valid source samples per row, or 0: all S
constexpr int kValidate = 10;     // int64: 1 checks lengths and source times on the device
constexpr int kErrorFlag = 11;    // unsigned long long* host-mapped error word, or 0: none
constexpr int kTileTargets = 12;  // int64 targets per block chosen at launch (0: TargetsPerBlock)
}  // namespace resample_slot

// Fuse argument slots; mirrors compiler/fuse_abi.h.
namespace fuse_slot {
constexpr int kOut = 0;           // V*          [B,T,sum D_i] contiguous
constexpr int kTgtTimes = 1;      // const Time* [B,T] or [T]
constexpr int kB = 2;             // int64 batch
constexpr int kT = 3;             // int64 target samples
constexpr int kTgtRowStride = 4;  // int64 (0: shared)
constexpr int kValidate = 5;      // int64: 1 checks lengths and source times on the device
constexpr int kErrorFlag = 6;     // unsigned long long* host-mapped error word, or 0: none
constexpr int kTileTargets = 7;   // int64 targets per block chosen at launch (0: TargetsPerBlock)
constexpr int kFirstModality = 8; // modality i starts at kFirstModality + kPerModality * i
constexpr int kPerModality = 5;
constexpr int kData = 0;          // const V*    [B,S_i,D_i] contiguous
constexpr int kTimes = 1;         // const Time* [B,S_i] or [S_i]
constexpr int kS = 2;             // int64 S_i
constexpr int kTimesRowStride = 3;// int64 (0: shared)
constexpr int kLengths = 4;       // const int64* [B], or 0: all S_i
}  // namespace fuse_slot

// Interpolation modes: the numbering of compiler/spec.h's Interp.
namespace interp_mode {
constexpr int kLinear = 0;
constexpr int kNearest = 1;
constexpr int kPrevious = 2;
constexpr int kCubic = 3;
constexpr int kSlerp = 4;
}  // namespace interp_mode


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
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }
__device__ __forceinline__ float sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double sqrt_rn(double a) { return __dsqrt_rn(a); }
// The accurate (non-intrinsic) library functions; --use_fast_math is never passed.
__device__ __forceinline__ float acos_b(float a) { return acosf(a); }
__device__ __forceinline__ double acos_b(double a) { return acos(a); }
__device__ __forceinline__ float sin_b(float a) { return sinf(a); }
__device__ __forceinline__ double sin_b(double a) { return sin(a); }

// Rounds a time-type quantity (weight, time difference) to the blend type once.
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

// What one target does, decided once per target by its lane.
enum TargetKind : int { kBlend = 0, kCopy = 1, kNan = 2 };


// Dynamic shared memory: the launch sizes it for the row's source times (0: nothing staged).
#if defined(__CUDACC__)
__device__ __forceinline__ unsigned dynamic_smem_bytes() {
  unsigned r;
  asm volatile("mov.u32 %0, %%dynamic_smem_size;" : "=r"(r));
  return r;
}
template <class Time>
__device__ __forceinline__ Time* dynamic_stage() {
  extern __shared__ double rc_dynamic_smem[];
  return reinterpret_cast<Time*>(rc_dynamic_smem);
}
#else
// Host emulation in the tests provides the buffer and its size.
__device__ __forceinline__ unsigned dynamic_smem_bytes() { return emulated_dynamic_smem_bytes; }
template <class Time>
__device__ __forceinline__ Time* dynamic_stage() {
  return reinterpret_cast<Time*>(emulated_dynamic_smem);
}
#endif

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

// Channels [Start, Start+Size) resampled with Mode (an interp_mode constant).
template <int Start, int Size, int Mode>
struct RsGroup {
  static_assert(Start >= 0 && Size >= 1, "bad channel group");
  static_assert(Mode >= interp_mode::kLinear && Mode <= interp_mode::kSlerp, "unknown mode");
  static_assert(Mode != interp_mode::kSlerp || Size == 4, "slerp needs a group of 4 channels");
  static constexpr int kStart = Start;
  static constexpr int kSize = Size;
  static constexpr int kMode = Mode;
  static constexpr int kModes = 1 << Mode;  // the modes present, as a bit set
  static constexpr bool kTable = false;
};

// Specs with many channel groups name one group type that the generated source defines after
// this file (backends/cuda/resample_codegen.cpp), e.g.
//   struct RsTableGroups { kStart = 0, kSize = D, kMode = -1, kModes = <bit set>, kTable = true;
//                          static unsigned code(int chunk); };
// code(chunk) is the chunk's interp_mode, plus 8 when the chunk starts a slerp group, read from a
// table in device memory: the kernel's code does not grow with the number of groups.

// Modality Index of a fuse: D channels with Mode, written at channel Offset of the output, W
// channels per access (a power of two dividing D, Offset and the output's channel count).
template <int Index, int Offset, int D, int Mode, int W = 1>
struct FuseMod {
  static_assert(Index >= 0 && Index < 16 && Offset >= 0 && D >= 1, "bad modality");
  static_assert(Mode != interp_mode::kSlerp || D == 4, "slerp needs a modality of 4 channels");
  static_assert(W >= 1 && D % W == 0 && Offset % W == 0, "the vector width must divide the modality");
  static constexpr int kIndex = Index;
  static constexpr int kOffset = Offset;
  static constexpr int kD = D;
  static constexpr int kMode = Mode;
  static constexpr int kW = W;
};

// Search strategies: the numbering of compiler/config.h's SearchStrategy.
namespace search_mode {
constexpr int kBinary = 0;         // each target binary-searches its row
constexpr int kNarrow = 1;         // kept for configs written before 2026-12: the interpolation search
constexpr int kInterpolation = 2;  // each target guesses from the row's ends, then gallops
}  // namespace search_mode

// The brackets of one warp's 32 targets, handed from the lane that searched a target to the lanes
// that stream its channels. The nearest choice and the cubic quantities exist only when a group
// needs them.
template <class Blend, bool Cubic, bool Near>
struct WarpTargets {
  static constexpr bool kCubic = Cubic;
  static constexpr bool kNear = Near;
  long long left[32];              // held sample, or l of the interval [l, l+1]
  Blend weight[32];                // (x - t[l]) / (t[r] - t[l]) rounded to the blend type
  int kind[32];                    // TargetKind
  long long near[Near ? 32 : 1];   // nearest: the sample copied
  Blend h[Cubic ? 32 : 1];         // cubic: t[r] - t[l]
  Blend den_l[Cubic ? 32 : 1];     // cubic: time difference of m[l]'s finite difference
  Blend den_r[Cubic ? 32 : 1];     // cubic: time difference of m[r]'s finite difference
};

// Fills target i's entry from its bracket: left is the held sample (edges) or l of [l, l+1] with
// tl = t[l], tr = t[l+1] when interior. t is the whole row (the cubic neighbours are read there).
template <class Blend, class Time, class State>
__device__ __forceinline__ void store_bracket(State& st, int i, const Time* t, long long L, Time x, long long left,
                                              bool interior, Time tl, Time tr) {
  Blend weight = Blend(0);
  int kind = kCopy;
  long long near = left;
  Blend h = Blend(0), den_l = Blend(0), den_r = Blend(0);
  if (interior) {
    const Time a = div_rn(sub_rn(x, tl), sub_rn(tr, tl));
    weight = to_blend<Blend, Time>(a);
    // A zero weight (an exact hit, or one too small for the blend type) copies v[l]:
    // fma(0, d, v) would turn -0 into +0 and an infinite neighbour into NaN.
    kind = weight == Blend(0) ? kCopy : kBlend;
    if constexpr (State::kNear) near = sub_rn(x, tl) <= sub_rn(tr, x) ? left : left + 1;
    if constexpr (State::kCubic) {
      const long long l0 = left == 0 ? 0 : left - 1;          // m[l] = (v[l+1]-v[l0]) / (t[l+1]-t[l0])
      const long long r1 = left + 1 == L - 1 ? left + 1 : left + 2;  // m[r] = (v[r1]-v[l]) / (t[r1]-t[l])
      h = to_blend<Blend, Time>(sub_rn(tr, tl));
      den_l = to_blend<Blend, Time>(sub_rn(tr, t[l0]));
      den_r = to_blend<Blend, Time>(sub_rn(t[r1], tl));
    }
  }
  st.left[i] = left;
  st.weight[i] = weight;
  st.kind[i] = kind;
  if constexpr (State::kNear) st.near[i] = near;
  if constexpr (State::kCubic) {
    st.h[i] = h;
    st.den_l[i] = den_l;
    st.den_r[i] = den_r;
  }
}

// Largest l with t[l] <= x, given t[0] < x < t[L-1] (t0 = t[0], tl = t[L-1]): an interpolation
// search. The guess is where x falls on the straight line from (0, t0) to (L-1, tl), so samples
// from a steady clock (the usual robot log) are found with one pair of loads; otherwise it
// gallops from the guess (1, 2, 4, ... samples) and finishes with a binary search, so a bad guess
// costs O(log distance). The bracket is unique, so the answer equals search_left's.
template <class Time>
__device__ __forceinline__ long long guess_search_left(const Time* t, long long L, Time x, Time t0, Time tl) {
  const double frac = (static_cast<double>(x) - static_cast<double>(t0)) /
                      (static_cast<double>(tl) - static_cast<double>(t0));
  long long g = frac >= 0.0 ? static_cast<long long>(frac * static_cast<double>(L - 1)) : 0;  // NaN: 0
  if (!(g >= 0)) g = 0;
  if (g > L - 2) g = L - 2;
  const Time tg = t[g], tg1 = t[g + 1];  // issued together: one round trip when the guess is right
  long long lo, hi;
  if (tg <= x) {
    if (x < tg1) return g;
    lo = g + 1;  // t[lo] <= x; gallop right until t[hi] > x (t[L-1] > x ends it)
    long long step = 1;
    hi = lo + 1;
    while (hi < L - 1 && t[hi] <= x) {
      lo = hi;
      step *= 2;
      hi = lo + step < L - 1 ? lo + step : L - 1;
    }
  } else {
    hi = g;  // t[hi] > x; gallop left until t[lo] <= x (t[0] < x ends it)
    long long step = 1;
    lo = hi - 1;
    while (lo > 0 && t[lo] > x) {
      hi = lo;
      step *= 2;
      lo = hi - step > 0 ? hi - step : 0;
    }
  }
  while (hi - lo > 1) {  // invariant: t[lo] <= x < t[hi]
    const long long mid = lo + ((hi - lo) >> 1);
    if (t[mid] <= x) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// Target i's entry for target time x against the row's first L times t (staged or global).
template <class Blend, int Search, class Time, class State>
__device__ __forceinline__ void find_target(State& st, int i, const Time* t, long long L, Time x) {
  if (x != x) {
    st.kind[i] = kNan;
    st.left[i] = 0;
    if constexpr (State::kNear) st.near[i] = 0;
    return;
  }
  const Time t0 = t[0], tl = t[L - 1];
  if (x <= t0) {
    store_bracket<Blend>(st, i, t, L, x, 0, false, x, x);
  } else if (x >= tl) {
    store_bracket<Blend>(st, i, t, L, x, L - 1, false, x, x);
  } else {
    const long long left = Search == search_mode::kBinary ? search_left(t, L, x) : guess_search_left(t, L, x, t0, tl);
    store_bracket<Blend>(st, i, t, L, x, left, true, t[left], t[left + 1]);
  }
}

// W consecutive values, moved with one (aligned) access.
template <class V, int W>
struct alignas(sizeof(V) * W) VecOf {
  V v[W];
};

// An unsigned integer type of each vector width.
template <int Bytes> struct RawOf { using T = void; };
template <> struct RawOf<4> { using T = unsigned; };
template <> struct RawOf<8> { using T = unsigned long long; };
struct alignas(16) Raw16 {
  unsigned long long lo, hi;
};
template <> struct RawOf<16> { using T = Raw16; };

// *p = r as one store of the vector's width. A plain struct copy of 16-bit values was compiled
// to one 2-byte store per value (SASS of the bf16 fuse on sm_90: four STG.U16 per 8-byte piece).
template <class V, int W>
__device__ __forceinline__ void store_vec(V* p, const VecOf<V, W>& r) {
  using Raw = typename RawOf<static_cast<int>(sizeof(VecOf<V, W>))>::T;
  if constexpr (sizeof(V) * W >= 4 && sizeof(V) * W <= 16 && sizeof(V) * W != 12) {
    union {
      VecOf<V, W> vec;
      Raw raw;
    } u;
    u.vec = r;
    *reinterpret_cast<Raw*>(p) = u.raw;
  } else {
    *reinterpret_cast<VecOf<V, W>*>(p) = r;
  }
}

// Channels [c, c+W) of target i in an element-wise mode (linear, nearest, previous, cubic), into
// r. `row` is the batch row's data [S, D]; L its valid samples.
template <class V, int D, int W, int Mode, class State>
__device__ __forceinline__ void eval_chunk(const State& st, int i, const V* row, long long L, int c, VecOf<V, W>& r) {
  using Ops = ValueOps<V>;
  using Blend = typename Ops::Blend;
  using Vec = VecOf<V, W>;
  const int kind = st.kind[i];
  if (kind == kNan) {
    for (int k = 0; k < W; ++k) r.v[k] = Ops::nan();
    return;
  }
  const long long l = st.left[i];
  if constexpr (Mode == interp_mode::kNearest) {
    r = *reinterpret_cast<const Vec*>(row + st.near[i] * D + c);
  } else if constexpr (Mode == interp_mode::kPrevious) {
    r = *reinterpret_cast<const Vec*>(row + l * D + c);
  } else {
    const Vec lo_v = *reinterpret_cast<const Vec*>(row + l * D + c);
    if (kind == kCopy) {
      r = lo_v;
      return;
    }
    const Vec hi_v = *reinterpret_cast<const Vec*>(row + (l + 1) * D + c);
    const Blend a = st.weight[i];
    for (int k = 0; k < W; ++k) {
      const Blend lo = Ops::widen(lo_v.v[k]);
      const Blend hi = Ops::widen(hi_v.v[k]);
      if constexpr (Mode == interp_mode::kLinear) {
        r.v[k] = Ops::narrow(fma_rn(a, sub_rn(hi, lo), lo));
      } else {
        static_assert(Mode == interp_mode::kCubic, "element-wise modes only");
        // Finite-difference tangents in the blend type; 0 where the time difference is 0.
        const long long l0 = l == 0 ? 0 : l - 1;
        const long long r1 = l + 1 == L - 1 ? l + 1 : l + 2;
        const Blend dl = st.den_l[i], dr = st.den_r[i];
        const Blend ml = dl == Blend(0) ? Blend(0) : div_rn(sub_rn(hi, Ops::widen(row[l0 * D + c + k])), dl);
        const Blend mr = dr == Blend(0) ? Blend(0) : div_rn(sub_rn(Ops::widen(row[r1 * D + c + k]), lo), dr);
        const Blend h = st.h[i];
        const Blend s = a;
        const Blend s2 = mul_rn(s, s);
        const Blend s3 = mul_rn(s2, s);
        const Blend h00 = add_rn(sub_rn(mul_rn(Blend(2), s3), mul_rn(Blend(3), s2)), Blend(1));
        const Blend h10 = add_rn(sub_rn(s3, mul_rn(Blend(2), s2)), s);
        const Blend h01 = add_rn(mul_rn(Blend(-2), s3), mul_rn(Blend(3), s2));
        const Blend h11 = sub_rn(s3, s2);
        Blend v = mul_rn(h00, lo);
        v = add_rn(v, mul_rn(mul_rn(h10, h), ml));
        v = add_rn(v, mul_rn(h01, hi));
        v = add_rn(v, mul_rn(mul_rn(h11, h), mr));
        r.v[k] = Ops::narrow(v);
      }
    }
  }
}

// The four channels (x, y, z, w) of a slerp group starting at channel c, written to o[0..4).
template <class V, int D, class State>
__device__ __forceinline__ void eval_slerp(const State& st, int i, const V* row, int c, V* o) {
  using Ops = ValueOps<V>;
  using Blend = typename Ops::Blend;
  const int kind = st.kind[i];
  if (kind == kNan) {
    for (int k = 0; k < 4; ++k) o[k] = Ops::nan();
    return;
  }
  const V* vl = row + st.left[i] * D + c;
  if (kind == kCopy) {
    for (int k = 0; k < 4; ++k) o[k] = vl[k];
    return;
  }
  const Blend a = st.weight[i];
  Blend ql[4], qr[4], q[4];
  for (int k = 0; k < 4; ++k) {
    ql[k] = Ops::widen(vl[k]);
    qr[k] = Ops::widen(vl[D + k]);
  }
  Blend d = mul_rn(ql[0], qr[0]);
  for (int k = 1; k < 4; ++k) d = add_rn(d, mul_rn(ql[k], qr[k]));
  if (d < Blend(0)) {  // the shorter arc
    for (int k = 0; k < 4; ++k) qr[k] = -qr[k];
    d = -d;
  }
  const Blend theta = acos_b(d < Blend(1) ? d : Blend(1));
  if (theta < Blend(1e-6)) {  // nearly parallel: normalised linear interpolation
    for (int k = 0; k < 4; ++k) q[k] = add_rn(ql[k], mul_rn(a, sub_rn(qr[k], ql[k])));
  } else {
    const Blend s = sin_b(theta);
    const Blend wl = div_rn(sin_b(mul_rn(sub_rn(Blend(1), a), theta)), s);
    const Blend wr = div_rn(sin_b(mul_rn(a, theta)), s);
    for (int k = 0; k < 4; ++k) q[k] = add_rn(mul_rn(wl, ql[k]), mul_rn(wr, qr[k]));
  }
  Blend n2 = mul_rn(q[0], q[0]);
  for (int k = 1; k < 4; ++k) n2 = add_rn(n2, mul_rn(q[k], q[k]));
  const Blend norm = sqrt_rn(n2);
  for (int k = 0; k < 4; ++k) o[k] = Ops::narrow(div_rn(q[k], norm));
}

// Chunk c of target i under a table of groups (G::code): one branch per mode the spec uses.
template <class V, int D, int W, class G, class State>
__device__ __forceinline__ void eval_table(const State& st, int i, const V* row, long long L, int c, V* o) {
  const unsigned code = G::code(c / W);
  const int mode = static_cast<int>(code & 7u);
  VecOf<V, W> r{};
  if constexpr ((G::kModes & (1 << interp_mode::kSlerp)) != 0) {
    if (mode == interp_mode::kSlerp) {
      if (code & 8u) eval_slerp<V, D>(st, i, row, c, o);
      return;
    }
  }
  if constexpr ((G::kModes & (1 << interp_mode::kLinear)) != 0)
    if (mode == interp_mode::kLinear) eval_chunk<V, D, W, interp_mode::kLinear>(st, i, row, L, c, r);
  if constexpr ((G::kModes & (1 << interp_mode::kNearest)) != 0)
    if (mode == interp_mode::kNearest) eval_chunk<V, D, W, interp_mode::kNearest>(st, i, row, L, c, r);
  if constexpr ((G::kModes & (1 << interp_mode::kPrevious)) != 0)
    if (mode == interp_mode::kPrevious) eval_chunk<V, D, W, interp_mode::kPrevious>(st, i, row, L, c, r);
  if constexpr ((G::kModes & (1 << interp_mode::kCubic)) != 0)
    if (mode == interp_mode::kCubic) eval_chunk<V, D, W, interp_mode::kCubic>(st, i, row, L, c, r);
  store_vec<V, W>(o, r);
}

// Channels [c, c+W) of target i, if they belong to group G (W divides every group's start and
// size, so a chunk lies in one group). A slerp group is computed by the chunk holding its first
// channel, which writes all four.
template <class V, int D, int W, class G, class State>
__device__ __forceinline__ void eval_group(const State& st, int i, const V* row, long long L, int c, V* o) {
  if constexpr (G::kTable) {
    eval_table<V, D, W, G>(st, i, row, L, c, o);
  } else {
    if (c < G::kStart || c >= G::kStart + G::kSize) return;
    if constexpr (G::kMode == interp_mode::kSlerp) {
      if (c == G::kStart) eval_slerp<V, D>(st, i, row, c, o);
    } else {
      VecOf<V, W> r;
      eval_chunk<V, D, W, G::kMode>(st, i, row, L, c, r);
      store_vec<V, W>(o, r);
    }
  }
}

// Whether one element-wise mode covers every channel: then the sweep loads U chunks' rows
// before it blends and stores any of them.
template <class... Gs>
struct SimpleSweep {
  static constexpr bool value = false;
  static constexpr int kMode = interp_mode::kLinear;
};
template <class G>
struct SimpleSweep<G> {
  static constexpr bool value =
      G::kMode == interp_mode::kLinear || G::kMode == interp_mode::kNearest || G::kMode == interp_mode::kPrevious;
  static constexpr int kMode = G::kMode;
};

// One warp streams chunks [c0, c0+Slice) of its m targets (Mode: linear, nearest or previous for
// every channel). Pair p is (target p / Slice, chunk c0 + p % Slice), so consecutive lanes read
// and write consecutive 16-byte pieces; the loads of U pairs are issued before the first store.
template <int Mode, class V, int D, int OutStride, int W, int Slice, class State>
__device__ __forceinline__ void sweep_simple(const State& st, const V* __restrict__ row, int m, int c0,
                                             V* __restrict__ out_tile, int lane) {
  using Ops = ValueOps<V>;
  using Blend = typename Ops::Blend;
  using Vec = VecOf<V, W>;
  constexpr int kChunks = D / W;
  // Pairs a lane has in flight a round: linear reads two rows a pair, nearest and previous one,
  // so they take twice the pairs in the same registers (X4, nearest: 35.2 -> 32.7 us on the H200).
  constexpr int U = Mode == interp_mode::kLinear ? 2 : 4;
  const int pairs = m * Slice;
  for (int base = 0; base < pairs; base += 32 * U) {
    Vec lo[U], hi[Mode == interp_mode::kLinear ? U : 1];
    int target[U], col[U];
    bool ok[U];
    // Every load is unconditional (a pair past the end, or a NaN target, reads the row's first
    // sample instead: S >= 1 always, ops.md), so the 2U loads are all in flight before the first value is used: loads in
    // branches were each waited for before the next was issued (SASS, bf16 fuse on sm_90).
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int p = base + u * 32 + lane;
      const int i = p / Slice;
      const int chunk = c0 + (p - i * Slice);
      ok[u] = p < pairs && chunk < kChunks;
      target[u] = ok[u] ? i : 0;
      col[u] = ok[u] ? chunk * W : 0;
      const int kind = st.kind[target[u]];
      const long long l = !ok[u] || kind == kNan ? 0
                          : Mode == interp_mode::kNearest ? st.near[target[u]]
                                                          : st.left[target[u]];
      lo[u] = *reinterpret_cast<const Vec*>(row + l * D + col[u]);
      if constexpr (Mode == interp_mode::kLinear) {
        const long long h = ok[u] && kind == kBlend ? l + 1 : l;
        hi[u] = *reinterpret_cast<const Vec*>(row + h * D + col[u]);
      }
    }
    // Blends and selects without branches, so no load sinks into a branch of its own.
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int i = target[u];
      const int kind = st.kind[i];
      Vec r = lo[u];
      if constexpr (Mode == interp_mode::kLinear) {
        const Blend a = st.weight[i];
        for (int k = 0; k < W; ++k) {
          const Blend x0 = Ops::widen(lo[u].v[k]);
          const V blended = Ops::narrow(fma_rn(a, sub_rn(Ops::widen(hi[u].v[k]), x0), x0));
          r.v[k] = kind == kBlend ? blended : lo[u].v[k];
        }
      }
      for (int k = 0; k < W; ++k) r.v[k] = kind == kNan ? Ops::nan() : r.v[k];
      if (ok[u]) store_vec<V, W>(out_tile + static_cast<long long>(i) * OutStride + col[u], r);
    }
  }
}

// The same for channel groups, cubic and slerp: each pair is evaluated by its group. Pair p is
// (target p % m, chunk c0 + p / m): the lanes of a warp take the same chunk of different targets,
// so they run the same group's code together (a slerp group's four channels are computed by the
// lanes of its first chunk, all 32 at once, not by one lane in eight).
template <class V, int D, int OutStride, int W, int Slice, class State, class... Gs>
__device__ __forceinline__ void sweep_general(const State& st, const V* __restrict__ row, long long L, int m, int c0,
                                              V* __restrict__ out_tile, int lane) {
  constexpr int kChunks = D / W;
  const int pairs = m * Slice;
#pragma unroll 2
  for (int p = lane; p < pairs; p += 32) {
    const int k = p / m;
    const int i = p - k * m;
    const int chunk = c0 + k;
    if (chunk >= kChunks) continue;
    const int c = chunk * W;
    V* o = out_tile + static_cast<long long>(i) * OutStride + c;
    (eval_group<V, D, W, Gs>(st, i, row, L, c, o), ...);
  }
}

// Stages the row's first L source times in shared memory when they fit (stage_cap elements) and,
// with validate, checks them. Every thread of the block calls it with the same arguments (it
// holds barriers when it reads anything). Returns the device_error reason of a bad row, else 0.
// A staged row is read from global memory once (each time by one thread) and its order checked
// in shared memory; a row too long to stage is checked in global memory.
template <class Time, int BlockThreads>
__device__ __forceinline__ unsigned long long prepare_row(const Time* __restrict__ t, long long L, long long S,
                                                          bool validate, long long stage_cap, Time* stage,
                                                          bool& staged) {
  staged = false;
  if (L < 1 || L > S) return device_error::kLengthOutOfRange;
  staged = L <= stage_cap;
  if (!staged && !validate) return 0;
  bool nan = false, down = false;
  // kLoads loads in flight per thread (a loop of one load at a time would pay DRAM latency once
  // per kLoads * BlockThreads samples instead of once per pass).
  constexpr int kLoads = sizeof(Time) == 4 ? 8 : 4;
  if (staged) {
    for (long long base = threadIdx.x; base < L; base += static_cast<long long>(kLoads) * BlockThreads) {
      Time v[kLoads];
#pragma unroll
      for (int k = 0; k < kLoads; ++k) {
        const long long j = base + static_cast<long long>(k) * BlockThreads;
        if (j < L) v[k] = t[j];
      }
#pragma unroll
      for (int k = 0; k < kLoads; ++k) {
        const long long j = base + static_cast<long long>(k) * BlockThreads;
        if (j < L) {
          stage[j] = v[k];
          nan = nan || v[k] != v[k];
        }
      }
    }
    __syncthreads();
    if (!validate) return 0;
    for (long long j = threadIdx.x; j + 1 < L; j += BlockThreads) down = down || stage[j + 1] < stage[j];
  } else {
    // Each thread checks kLoads consecutive samples and the one after (clamped to the row, so
    // every load is in bounds and unconditional).
    for (long long j0 = static_cast<long long>(threadIdx.x) * kLoads; j0 < L;
         j0 += static_cast<long long>(kLoads) * BlockThreads) {
      Time v[kLoads + 1];
#pragma unroll
      for (int k = 0; k <= kLoads; ++k) v[k] = t[j0 + k < L ? j0 + k : L - 1];
#pragma unroll
      for (int k = 0; k < kLoads; ++k) {
        if (j0 + k < L) nan = nan || v[k] != v[k];
        if (j0 + k + 1 < L) down = down || v[k + 1] < v[k];
      }
    }
  }
  // One barrier when the row is good (the usual case); a second tells the two reasons apart.
  if (__syncthreads_or(nan || down) == 0) return 0;
  return __syncthreads_or(nan) != 0 ? device_error::kNanTime : device_error::kDecreasingTime;
}

// One block's tile of n consecutive targets of one row (x_row) against one source stream: its
// data row (S samples of D channels, L valid), its times t. Outputs go to out_tile, rows OutStride
// apart (a fuse modality's channel offset already added). `where` is the device_error word of this
// row and argument, reported with the reason when the row is bad.
template <class V, class Time, int D, int OutStride, int W, int BlockThreads, int Search, class State, class... Gs>
__device__ __forceinline__ void process_tile(State* states, Time* stage, long long stage_cap, const V* __restrict__ row,
                                             const Time* __restrict__ t, long long L, long long S,
                                             const Time* __restrict__ x_row, int n, V* __restrict__ out_tile,
                                             bool validate, unsigned long long* err, unsigned long long where) {
  using Blend = typename ValueOps<V>::Blend;
  using Simple = SimpleSweep<Gs...>;
  constexpr int kWarps = BlockThreads / 32;
  constexpr int kChunks = D / W;
  // Chunks a warp streams per search: at most 8, in equal slices, so wide rows spread over
  // several warps and even a short batch keeps the memory busy, while narrow rows pay one search
  // per target. (Narrower slices cost more searches and, on rows not aligned to 32 bytes, more
  // partly written sectors: measured slower on the H200.)
  constexpr int kSlices = (kChunks + 7) / 8;
  constexpr int kSlice = (kChunks + kSlices - 1) / kSlices;
  const int warp = static_cast<int>(threadIdx.x >> 5), lane = static_cast<int>(threadIdx.x & 31u);
  // The warp's first target time is loaded before the row is staged, so its latency hides under
  // the staging's: small launches are a chain of such round trips.
  const int first = warp / kSlices * 32 + lane;
  const Time x_first = first < n ? x_row[first] : Time(0);
  bool staged = false;
  const unsigned long long reason = prepare_row<Time, BlockThreads>(t, L, S, validate, stage_cap, stage, staged);
  if (reason != 0 && threadIdx.x == 0) device_error::report(err, where | reason);
  const Time* s = staged ? stage : t;
  State& st = states[warp];
  const int units = ((n + 31) >> 5) * kSlices;
  for (int u = warp; u < units; u += kWarps) {
    const int wt = u / kSlices;
    const int c0 = (u - wt * kSlices) * kSlice;
    const int m = n - wt * 32 < 32 ? n - wt * 32 : 32;
    if (lane < m) {
      if (reason != 0) {
        st.kind[lane] = kNan;
        st.left[lane] = 0;
        if constexpr (State::kNear) st.near[lane] = 0;
      } else {
        find_target<Blend, Search>(st, lane, s, L, u == warp ? x_first : x_row[wt * 32 + lane]);
      }
    }
    __syncwarp();
    V* o = out_tile + static_cast<long long>(wt) * 32 * OutStride;
    if constexpr (Simple::value) {
      sweep_simple<Simple::kMode, V, D, OutStride, W, kSlice>(st, row, m, c0, o, lane);
    } else {
      sweep_general<V, D, OutStride, W, kSlice, State, Gs...>(st, row, L, m, c0, o, lane);
    }
    __syncwarp();  // the next unit rewrites this warp's brackets
  }
  __syncthreads();  // the next tile (or modality) restages the times
}

// Whether p is aligned for W-value accesses of V.
template <class V, int W>
__device__ __forceinline__ bool vec_aligned(const void* p) {
  return reinterpret_cast<unsigned long long>(p) % (sizeof(V) * W) == 0;
}

template <class... Gs>
struct ModeFlags {
  static constexpr bool kCubic = (false || ... || ((Gs::kModes & (1 << interp_mode::kCubic)) != 0));
  static constexpr bool kNear = (false || ... || ((Gs::kModes & (1 << interp_mode::kNearest)) != 0));
};

// Blocks an SM should hold at once: 768 threads' worth (at most 85 registers a thread), enough
// warps with loads in flight to cover DRAM latency without spilling the unrolled sweep.
template <int BlockThreads>
constexpr int kMinBlocks = BlockThreads >= 1024 ? 1 : 1024 / BlockThreads;

// Targets per block: the launch's choice (slot), else the template's.
__device__ __forceinline__ long long tile_targets(unsigned long long slot, int fallback) {
  const long long t = static_cast<long long>(slot);
  return t > 0 ? t : fallback;
}

// resample: one block per tile of consecutive targets of one batch row, visited with a
// grid-stride loop, so any grid size (even one capped at 2^31-1 blocks) covers any B*T. Gs are
// the channel groups (RsGroup), consecutive and tiling [0, D); W (channels per access) divides
// every group's start and size; Search is a search_mode.
template <class V, class Time, int D, int BlockThreads, int TargetsPerBlock, int W, int Search, class... Gs>
__global__ void __launch_bounds__(BlockThreads, kMinBlocks<BlockThreads>) resample(RcArgs args) {
  static_assert(D >= 1, "D must be positive");
  static_assert(sizeof...(Gs) >= 1, "at least one channel group");
  static_assert((0 + ... + Gs::kSize) == D, "groups must tile the channels");
  static_assert(((Gs::kStart % W == 0 && Gs::kSize % W == 0) && ...), "the vector width must divide every group");
  static_assert(BlockThreads >= 32 && BlockThreads <= 1024 && BlockThreads % 32 == 0, "block size out of range");
  static_assert(TargetsPerBlock >= 1 && TargetsPerBlock <= 1024, "tile size out of range");
  using Blend = typename ValueOps<V>::Blend;
  using Flags = ModeFlags<Gs...>;
  using State = WarpTargets<Blend, Flags::kCubic, Flags::kNear>;

  const V* __restrict__ data = reinterpret_cast<const V*>(args.slot[resample_slot::kData]);
  const Time* __restrict__ src_times = reinterpret_cast<const Time*>(args.slot[resample_slot::kSrcTimes]);
  const Time* __restrict__ tgt_times = reinterpret_cast<const Time*>(args.slot[resample_slot::kTgtTimes]);
  V* __restrict__ out = reinterpret_cast<V*>(args.slot[resample_slot::kOut]);
  const long long B = static_cast<long long>(args.slot[resample_slot::kB]);
  const long long S = static_cast<long long>(args.slot[resample_slot::kS]);
  const long long T = static_cast<long long>(args.slot[resample_slot::kT]);
  const long long src_stride = static_cast<long long>(args.slot[resample_slot::kSrcRowStride]);
  const long long tgt_stride = static_cast<long long>(args.slot[resample_slot::kTgtRowStride]);
  const long long* __restrict__ lengths = reinterpret_cast<const long long*>(args.slot[resample_slot::kLengths]);
  const bool validate = args.slot[resample_slot::kValidate] != 0;
  unsigned long long* err = reinterpret_cast<unsigned long long*>(args.slot[resample_slot::kErrorFlag]);
  const long long tile = tile_targets(args.slot[resample_slot::kTileTargets], TargetsPerBlock);
  const bool vec = vec_aligned<V, W>(data) && vec_aligned<V, W>(out);

  __shared__ State states[BlockThreads / 32];
  Time* stage = dynamic_stage<Time>();
  const long long stage_cap = static_cast<long long>(dynamic_smem_bytes() / sizeof(Time));

  const long long tiles_per_row = (T + tile - 1) / tile;
  const long long tiles = B * tiles_per_row;
  for (long long blk = blockIdx.x; blk < tiles; blk += gridDim.x) {
    const long long b = blk / tiles_per_row;
    const long long t0 = (blk - b * tiles_per_row) * tile;
    const int n = static_cast<int>(T - t0 < tile ? T - t0 : tile);
    const long long L = lengths ? lengths[b] : S;
    const unsigned long long where = device_error::where(device_error::kOpResample, 0, b);
    const V* row = data + b * S * D;
    const Time* t = src_times + b * src_stride;
    const Time* x_row = tgt_times + b * tgt_stride + t0;
    V* out_tile = out + (b * T + t0) * D;
    if (W == 1 || vec) {
      process_tile<V, Time, D, D, W, BlockThreads, Search, State, Gs...>(states, stage, stage_cap, row, t, L, S, x_row,
                                                                         n, out_tile, validate, err, where);
    } else {
      process_tile<V, Time, D, D, 1, BlockThreads, Search, State, Gs...>(states, stage, stage_cap, row, t, L, S, x_row,
                                                                         n, out_tile, validate, err, where);
    }
  }
}

// One modality of a fuse tile.
template <class V, class Time, int DTotal, int BlockThreads, int Search, class M, class State>
__device__ __forceinline__ void fuse_modality(State* states, Time* stage, long long stage_cap, const RcArgs& args,
                                              long long b, const Time* x_row, int n, V* out, V* out_tile,
                                              bool validate, unsigned long long* err) {
  constexpr int base = fuse_slot::kFirstModality + fuse_slot::kPerModality * M::kIndex;
  const V* data = reinterpret_cast<const V*>(args.slot[base + fuse_slot::kData]);
  const Time* times = reinterpret_cast<const Time*>(args.slot[base + fuse_slot::kTimes]);
  const long long S = static_cast<long long>(args.slot[base + fuse_slot::kS]);
  const long long stride = static_cast<long long>(args.slot[base + fuse_slot::kTimesRowStride]);
  const long long* lengths = reinterpret_cast<const long long*>(args.slot[base + fuse_slot::kLengths]);
  const long long L = lengths ? lengths[b] : S;
  const bool vec = vec_aligned<V, M::kW>(data) && vec_aligned<V, M::kW>(out);
  const unsigned long long where = device_error::where(device_error::kOpFuse, M::kIndex, b);
  using G = RsGroup<0, M::kD, M::kMode>;
  if (M::kW == 1 || vec) {
    process_tile<V, Time, M::kD, DTotal, M::kW, BlockThreads, Search, State, G>(
        states, stage, stage_cap, data + b * S * M::kD, times + b * stride, L, S, x_row, n, out_tile + M::kOffset,
        validate, err, where);
  } else {
    process_tile<V, Time, M::kD, DTotal, 1, BlockThreads, Search, State, G>(
        states, stage, stage_cap, data + b * S * M::kD, times + b * stride, L, S, x_row, n, out_tile + M::kOffset,
        validate, err, where);
  }
}

// fuse: every modality (FuseMod, in argument order) resampled onto one timeline in one launch.
// Work item w is (tile w / M, modality w % M): the modalities of a tile go to different blocks and
// run side by side; a grid-stride loop covers every pair whatever the grid size.
template <class V, class Time, int DTotal, int BlockThreads, int TargetsPerBlock, int Search, class... Ms>
__global__ void __launch_bounds__(BlockThreads, kMinBlocks<BlockThreads>) fuse(RcArgs args) {
  static_assert(sizeof...(Ms) >= 1 && sizeof...(Ms) <= 16, "1 to 16 modalities");
  static_assert((0 + ... + Ms::kD) == DTotal, "modality dims must add up to the output's");
  static_assert(((DTotal % Ms::kW == 0) && ...), "a modality's vector width must divide the output's channels");
  static_assert(BlockThreads >= 32 && BlockThreads <= 1024 && BlockThreads % 32 == 0, "block size out of range");
  static_assert(TargetsPerBlock >= 1 && TargetsPerBlock <= 1024, "tile size out of range");
  using Blend = typename ValueOps<V>::Blend;
  using Flags = ModeFlags<RsGroup<0, Ms::kD, Ms::kMode>...>;
  using State = WarpTargets<Blend, Flags::kCubic, Flags::kNear>;

  V* __restrict__ out = reinterpret_cast<V*>(args.slot[fuse_slot::kOut]);
  const Time* __restrict__ tgt_times = reinterpret_cast<const Time*>(args.slot[fuse_slot::kTgtTimes]);
  const long long B = static_cast<long long>(args.slot[fuse_slot::kB]);
  const long long T = static_cast<long long>(args.slot[fuse_slot::kT]);
  const long long tgt_stride = static_cast<long long>(args.slot[fuse_slot::kTgtRowStride]);
  const bool validate = args.slot[fuse_slot::kValidate] != 0;
  unsigned long long* err = reinterpret_cast<unsigned long long*>(args.slot[fuse_slot::kErrorFlag]);
  const long long tile = tile_targets(args.slot[fuse_slot::kTileTargets], TargetsPerBlock);

  __shared__ State states[BlockThreads / 32];
  Time* stage = dynamic_stage<Time>();
  const long long stage_cap = static_cast<long long>(dynamic_smem_bytes() / sizeof(Time));

  constexpr long long M = sizeof...(Ms);
  const long long tiles_per_row = (T + tile - 1) / tile;
  const long long work = B * tiles_per_row * M;
  for (long long w = blockIdx.x; w < work; w += gridDim.x) {
    const long long blk = w / M;
    const int m = static_cast<int>(w - blk * M);
    const long long b = blk / tiles_per_row;
    const long long t0 = (blk - b * tiles_per_row) * tile;
    const int n = static_cast<int>(T - t0 < tile ? T - t0 : tile);
    const Time* x_row = tgt_times + b * tgt_stride + t0;
    V* out_tile = out + (b * T + t0) * DTotal;
    // m is the same for the whole block, so the barriers inside stay uniform.
    ((m == Ms::kIndex ? fuse_modality<V, Time, DTotal, BlockThreads, Search, Ms, State>(
                            states, stage, stage_cap, args, b, x_row, n, out, out_tile, validate, err)
                      : void()),
     ...);
  }
}

}  // namespace robocache
