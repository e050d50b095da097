// Build-time check of the CUDA templates: nvcc compiles each one and instantiates the kinds of
// specialisation the NVRTC backend generates, so a template error fails the build. Add every new
// templates/*.cuh here.
#include "common.cuh"
#include "resample.cuh"
#include "voxelize.cuh"

namespace robocache {

// resample: every value dtype with both time dtypes, every mode, grouped channels, both search
// strategies, vector widths 1 to 8, and the tile shapes default_config picks.
template __global__ void resample<float, double, 1, 256, 256, 1, 1, RsGroup<0, 1, 0>>(RcArgs);
template __global__ void resample<float, float, 4, 256, 128, 4, 1, RsGroup<0, 4, 1>>(RcArgs);
template __global__ void resample<double, double, 8, 128, 64, 2, 0, RsGroup<0, 8, 2>>(RcArgs);
template __global__ void resample<double, float, 64, 256, 16, 2, 1, RsGroup<0, 64, 3>>(RcArgs);
template __global__ void resample<f16, double, 4, 256, 128, 4, 1, RsGroup<0, 4, 4>>(RcArgs);
template __global__ void resample<f16, float, 2, 32, 1, 2, 0, RsGroup<0, 2, 3>>(RcArgs);
template __global__ void resample<bf16, double, 1024, 256, 8, 8, 1, RsGroup<0, 1024, 0>>(RcArgs);
template __global__ void resample<bf16, float, 8, 1024, 1024, 1, 1, RsGroup<0, 3, 0>, RsGroup<3, 4, 4>,
                                  RsGroup<7, 1, 2>>(RcArgs);
template __global__ void resample<double, double, 7, 128, 1024, 1, 1, RsGroup<0, 7, 1>>(RcArgs);
template __global__ void resample<bf16, float, 256, 256, 8, 8, 2, RsGroup<0, 256, 0>>(RcArgs);
template __global__ void resample<double, double, 7, 32, 64, 1, 2, RsGroup<0, 7, 3>>(RcArgs);

// fuse: mixed modes, both value widths, both searches, per-modality vector widths.
template __global__ void fuse<float, double, 9, 256, 128, 1, FuseMod<0, 0, 3, 0>, FuseMod<1, 3, 4, 4>,
                              FuseMod<2, 7, 2, 3>>(RcArgs);
template __global__ void fuse<bf16, float, 2, 256, 256, 0, FuseMod<0, 0, 1, 1>, FuseMod<1, 1, 1, 2>>(RcArgs);
template __global__ void fuse<float, double, 9, 128, 32, 2, FuseMod<0, 0, 3, 0>, FuseMod<1, 3, 4, 4>,
                              FuseMod<2, 7, 2, 3>>(RcArgs);
template __global__ void fuse<bf16, float, 588, 256, 8, 1, FuseMod<0, 0, 512, 0, 4>, FuseMod<1, 512, 64, 0, 4>,
                              FuseMod<2, 576, 12, 0, 4>>(RcArgs);

// voxelize: every mode with its out dtypes and both coord dtypes.
template __global__ void voxelize<float, float, 0, 0, 256, 256>(RcArgs);
template __global__ void voxelize<double, double, 0, 0, 256, 256>(RcArgs);
template __global__ void voxelize<float, unsigned char, 0, 0, 256, 256>(RcArgs);
template __global__ void voxelize<double, int, 0, 0, 256, 256>(RcArgs);
template __global__ void voxelize<float, int, 1, 0, 256, 256>(RcArgs);
template __global__ void voxelize<float, float, 2, 4, 256, 256>(RcArgs);
template __global__ void voxelize<double, double, 2, 1, 256, 256>(RcArgs);
template __global__ void voxelize<float, float, 3, 3, 256, 256>(RcArgs);
template __global__ void voxelize<double, double, 3, 2, 128, 64>(RcArgs);

}  // namespace robocache
