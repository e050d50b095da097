// Build-time check of the CUDA templates: nvcc compiles each one and instantiates the kinds of
// specialisation the NVRTC backend generates, so a template error fails the build. Add every new
// templates/*.cuh here.
#include "resample.cuh"

namespace robocache {

// resample: every value dtype with both time dtypes, and the tile shapes default_config picks.
template __global__ void resample_linear<float, double, 1, 256, 256>(RcArgs);
template __global__ void resample_linear<float, float, 3, 256, 128>(RcArgs);
template __global__ void resample_linear<double, double, 7, 128, 64>(RcArgs);
template __global__ void resample_linear<double, float, 64, 256, 16>(RcArgs);
template __global__ void resample_linear<f16, double, 8, 256, 128>(RcArgs);
template __global__ void resample_linear<f16, float, 2, 64, 1>(RcArgs);
template __global__ void resample_linear<bf16, double, 1024, 256, 1>(RcArgs);
template __global__ void resample_linear<bf16, float, 4, 1024, 1024>(RcArgs);

}  // namespace robocache
