// Resamples a robot's joint log onto its camera timeline with a kernel specialised at run time
// for the channel layout in the robot's config file, and checks it against a plain reference.
//   embed_cpp [robot.json] [target]      target: cpu (default), auto, ...
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <robocache/robocache.h>

namespace rc = robocache::api;

// Reference of docs/semantics.md for row b at target time x, channel group g; false: mode not covered.
bool reference(const std::vector<float>& v, const std::vector<double>& t, int S, int D, int b, double x,
               const rc::ChannelGroup& g, double* out) {
  const float* row = &v[static_cast<size_t>(b) * S * D + g.start];
  int l = 0;
  while (l + 1 < S && t[l + 1] <= x) ++l;
  const int r = x <= t[0] || l + 1 >= S ? l : l + 1;  // r == l: hold the first or last sample
  const double a = r == l ? 0.0 : (x - t[l]) / (t[r] - t[l]);
  double dot = 0, norm = 0;
  for (int i = 0; i < g.size; ++i) dot += double(row[l * D + i]) * row[r * D + i];
  const double sign = g.interp == "slerp" && dot < 0 ? -1.0 : 1.0;  // the shorter arc
  const double theta = std::acos(std::fmin(1.0, std::fabs(dot)));
  for (int i = 0; i < g.size; ++i) {
    const double p = row[l * D + i], q = sign * row[r * D + i];
    if (g.interp == "linear") out[i] = p + a * (q - p);
    else if (g.interp == "previous") out[i] = p;
    else if (g.interp == "nearest") out[i] = x - t[l] <= t[r] - x ? p : q;
    else if (g.interp != "slerp") return false;
    else if (theta > 1e-6) out[i] = (std::sin((1 - a) * theta) * p + std::sin(a * theta) * q) / std::sin(theta);
    else out[i] = p + a * (q - p);
    norm += out[i] * out[i];
  }
  if (g.interp == "slerp")
    for (int i = 0; i < g.size; ++i) out[i] /= std::sqrt(norm);
  return true;
}

int main(int argc, char** argv) {
  const std::string config = argc > 1 ? argv[1] : "robot.json";
  const std::string target = argc > 2 ? argv[2] : "cpu";
  try {
    rc::Engine engine(rc::EngineOptions::from_environment());  // ROBOCACHE_CACHE_DIR, _MODE, ...
    const rc::Spec spec = rc::Spec::load(config);
    const auto layout = spec.as_resample();
    if (!layout || layout->dtype != rc::DType::F32 || layout->time_dtype != rc::DType::F64) {
      std::fprintf(stderr, "%s: expected a resample spec with f32 data and f64 times\n", config.c_str());
      return 2;
    }
    std::vector<rc::ChannelGroup> groups = layout->groups;
    if (groups.empty()) groups.push_back({0, layout->dim, layout->interp});
    const rc::Kernel kernel = engine.compile(spec, target);

    // 4 robots, 1 s of joints at 500 Hz (epoch seconds), onto a 30 Hz camera timeline.
    const int B = 4, S = 500, T = 30, D = static_cast<int>(layout->dim);
    std::vector<double> src(S), tgt(T);
    for (int s = 0; s < S; ++s) src[s] = 1.7e9 + s / 500.0;
    for (int k = 0; k < T; ++k) tgt[k] = 1.7e9 + 0.01 + k / 30.0;
    std::vector<float> data(static_cast<size_t>(B) * S * D);
    for (int b = 0; b < B; ++b)
      for (int s = 0; s < S; ++s)
        for (const auto& g : groups)
          for (int i = 0; i < g.size; ++i)  // a slerp group gets a unit quaternion turning about z
            data[(static_cast<size_t>(b) * S + s) * D + g.start + i] =
                g.interp == "slerp" ? float(i == 2 ? std::sin(0.5 * s / S + b) : i == 3 ? std::cos(0.5 * s / S + b) : 0.0)
                                    : float(std::sin(0.01 * s * (b + 1) + g.start + i));

    const std::vector<rc::Array> inputs = {rc::Array(data.data(), {B, S, D}), rc::Array(src.data(), {S}),
                                           rc::Array(tgt.data(), {T})};
    const rc::OutputPlan plan = kernel.plan(inputs);
    std::vector<float> out(plan.numel());
    kernel.run(inputs, rc::Array(out.data(), plan.shape));

    double worst = 0;
    std::vector<double> expect(D);
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < T; ++k)
        for (const auto& g : groups) {
          if (!reference(data, src, S, D, b, tgt[k], g, expect.data())) {
            std::fprintf(stderr, "no reference for mode '%s' in this example\n", g.interp.c_str());
            return 2;
          }
          for (int i = 0; i < g.size; ++i)
            worst = std::fmax(worst, std::fabs(out[(static_cast<size_t>(b) * T + k) * D + g.start + i] - expect[i]));
        }
    std::printf("spec %s\ntarget %s, kernel %s (%s), output [%d, %d, %d], max |error| %.3g\n",
                spec.to_json().c_str(), kernel.target().c_str(), kernel.key().substr(0, 12).c_str(),
                kernel.origin().c_str(), B, T, D, worst);
    return worst <= 1e-5 ? 0 : 1;
  } catch (const robocache::SpecError& e) {
    std::fprintf(stderr, "%s: bad spec: %s\n", config.c_str(), e.what());
  } catch (const robocache::BackendUnavailable& e) {
    std::fprintf(stderr, "target %s unavailable: %s\n", target.c_str(), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 2;
}
