#pragma once
/// Host references for every resample mode and channel groups (ops.md section 1), used by the
/// host emulation of the CUDA template and by the GPU tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "compiler/spec.h"
#include "tests/cpp/backends/cuda/resample_problem.h"

namespace robocache::testing {

/// Makes every slerp group of p.data a unit quaternion, with neighbours sometimes on opposite
/// hemispheres (so the shorter-arc flip is exercised) and sometimes nearly equal (nlerp path).
template <class V, class Time>
void make_quaternions(Problem<V, Time>& p, const std::vector<ChannelGroup>& groups, unsigned seed = 3) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const ChannelGroup& grp : groups) {
    if (grp.interp != Interp::Slerp) continue;
    for (std::int64_t b = 0; b < p.B; ++b) {
      double prev[4] = {0, 0, 0, 1};
      for (std::int64_t s = 0; s < p.S; ++s) {
        double q[4];
        const double r = u(rng);
        if (s > 0 && r < 0.2) {
          for (int k = 0; k < 4; ++k) q[k] = prev[k] + 1e-9 * g(rng);  // nearly identical
        } else {
          for (int k = 0; k < 4; ++k) q[k] = g(rng);
        }
        double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
        for (int k = 0; k < 4; ++k) q[k] /= n;
        for (int k = 0; k < 4; ++k) {
          prev[k] = q[k];
          p.data[static_cast<std::size_t>((b * p.S + s) * p.D + grp.start + k)] = HostValue<V>::from_double(q[k]);
        }
      }
    }
  }
}

/// The float64 value of one channel group at target x of row b (ops.md, every mode).
/// Returns the group's channels; holds and NaN are handled by the caller.
template <class V, class Time>
std::vector<double> reference_group(const Problem<V, Time>& p, std::int64_t b, const Bracket& br, Time x,
                                    const ChannelGroup& g) {
  using H = HostValue<V>;
  using Blend = typename H::Blend;
  const Time* t = p.src_row(b);
  const V* v = p.data.data() + b * p.S * p.D;
  const std::int64_t L = p.len(b), D = p.D, l = br.left, r = l + 1;
  auto val = [&](std::int64_t s, std::int64_t c) { return H::to_double(v[s * D + c]); };
  const Time tl = t[l], tr = t[r];
  const double a = static_cast<Blend>(static_cast<Time>(x - tl) / static_cast<Time>(tr - tl));
  std::vector<double> out;
  if (g.interp == Interp::Slerp) {
    double ql[4], qr[4], q[4];
    for (int k = 0; k < 4; ++k) ql[k] = val(l, g.start + k), qr[k] = val(r, g.start + k);
    double d = ql[0] * qr[0] + ql[1] * qr[1] + ql[2] * qr[2] + ql[3] * qr[3];
    if (d < 0) {
      for (double& e : qr) e = -e;
      d = -d;
    }
    const double th = std::acos(std::min(d, 1.0));
    if (th < 1e-6) {
      for (int k = 0; k < 4; ++k) q[k] = ql[k] + a * (qr[k] - ql[k]);
    } else {
      const double wl = std::sin((1 - a) * th) / std::sin(th), wr = std::sin(a * th) / std::sin(th);
      for (int k = 0; k < 4; ++k) q[k] = wl * ql[k] + wr * qr[k];
    }
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (int k = 0; k < 4; ++k) out.push_back(q[k] / n);
    return out;
  }
  for (std::int64_t c = g.start; c < g.start + g.size; ++c) {
    switch (g.interp) {
      case Interp::Linear: out.push_back(val(l, c) + a * (val(r, c) - val(l, c))); break;
      case Interp::Previous: out.push_back(val(l, c)); break;
      case Interp::Nearest: out.push_back(static_cast<Time>(x - tl) <= static_cast<Time>(tr - x) ? val(l, c) : val(r, c)); break;
      case Interp::Cubic: {
        auto tangent = [&](std::int64_t i) {
          const std::int64_t i0 = i == 0 ? 0 : i - 1, i1 = i == L - 1 ? i : i + 1;
          const double dt = static_cast<double>(static_cast<Time>(t[i1] - t[i0]));
          return dt == 0 ? 0.0 : (val(i1, c) - val(i0, c)) / dt;
        };
        const double h = static_cast<double>(static_cast<Time>(tr - tl)), s = a;
        const double h00 = 2 * s * s * s - 3 * s * s + 1, h10 = s * s * s - 2 * s * s + s;
        const double h01 = -2 * s * s * s + 3 * s * s, h11 = s * s * s - s * s;
        out.push_back(h00 * val(l, c) + h10 * h * tangent(l) + h01 * val(r, c) + h11 * h * tangent(r));
        break;
      }
      case Interp::Slerp: break;
    }
  }
  return out;
}

/// Checks a whole output [B,T,D] against ops.md for the given groups: NaN targets, holds and
/// zero weights copy bits; nearest/previous copy the chosen sample's bits; linear matches the
/// exact documented arithmetic; cubic and slerp are within a relative 1e-4 (1e-2 for 16-bit
/// values) of the float64 reference.
template <class V, class Time>
::testing::AssertionResult check_groups(const Problem<V, Time>& p, const std::vector<ChannelGroup>& groups,
                                        const std::vector<V>& out) {
  using H = HostValue<V>;
  using Blend = typename H::Blend;
  const double tol = sizeof(V) == 2 ? 1e-2 : 1e-4;
  int failures = 0;
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  auto fail = [&](std::int64_t b, std::int64_t i, std::int64_t c, const char* what, double got, double want) {
    if (failures++ < 10)
      result << "\n" << what << " at b=" << b << " t=" << i << " c=" << c << ": got " << got << " want " << want;
  };
  for (std::int64_t b = 0; b < p.B; ++b) {
    const Time* t = p.src_row(b);
    const V* v = p.data.data() + b * p.S * p.D;
    const std::int64_t L = p.len(b);
    for (std::int64_t i = 0; i < p.T; ++i) {
      const Time x = p.tgt_row(b)[i];
      const Bracket br = bracket(t, L, x);
      const V* o = out.data() + (b * p.T + i) * p.D;
      bool zero_weight = false;
      if (br.kind == Bracket::kBlend) {
        const Time tl = t[br.left];
        zero_weight = static_cast<Blend>(static_cast<Time>(x - tl) / static_cast<Time>(t[br.left + 1] - tl)) == Blend(0);
      }
      for (const ChannelGroup& g : groups) {
        if (br.kind == Bracket::kNan) {
          for (std::int64_t c = g.start; c < g.start + g.size; ++c)
            if (!std::isnan(H::to_double(o[c]))) fail(b, i, c, "NaN target", H::to_double(o[c]), NAN);
          continue;
        }
        const bool copy_mode = g.interp == Interp::Previous || g.interp == Interp::Nearest;
        if (br.kind == Bracket::kHold || (zero_weight && !copy_mode)) {
          for (std::int64_t c = g.start; c < g.start + g.size; ++c)
            if (!same_bits(o[c], v[br.left * p.D + c])) fail(b, i, c, "hold/zero weight", H::to_double(o[c]), H::to_double(v[br.left * p.D + c]));
          continue;
        }
        if (g.interp == Interp::Linear) {
          for (std::int64_t c = g.start; c < g.start + g.size; ++c) {
            const V e = emulate_kernel(t, v, L, p.D, c, x);
            if (!same_bits(o[c], e)) fail(b, i, c, "linear", H::to_double(o[c]), H::to_double(e));
          }
          continue;
        }
        const std::vector<double> ref = reference_group(p, b, br, x, g);
        for (std::int64_t k = 0; k < g.size; ++k) {
          const std::int64_t c = g.start + k;
          const double got = H::to_double(o[c]);
          if (copy_mode) {
            const Time tl = t[br.left], tr = t[br.left + 1];
            const std::int64_t src = g.interp == Interp::Previous || static_cast<Time>(x - tl) <= static_cast<Time>(tr - x)
                                         ? br.left
                                         : br.left + 1;
            if (!same_bits(o[c], v[src * p.D + c])) fail(b, i, c, interp_name(g.interp).data(), got, H::to_double(v[src * p.D + c]));
          } else if (!(std::fabs(got - ref[k]) <= tol * (1.0 + std::fabs(ref[k])))) {
            fail(b, i, c, interp_name(g.interp).data(), got, ref[k]);
          }
        }
      }
    }
  }
  if (failures == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << failures << " mismatches" << result.message();
}

}  // namespace robocache::testing
