#include "runtime/voxelize_call.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "support/errors.h"
#include "compiler/voxelize_abi.h"
#include "runtime/array_checks.h"

namespace robocache {

namespace {

using checks::kMaxElements;

bool feature_mode(const VoxelizeSpec& s) { return s.mode == VoxelMode::Mean || s.mode == VoxelMode::Max; }

struct Geometry {
  bool batched = false;
  std::int64_t B = 1, N = 0;
  double grid_min[3], voxel_size[3];
  std::int64_t shape[3];
  std::int64_t cells = 1;
};

Geometry check_geometry(const VoxelizeSpec& spec, const std::vector<ArrayView>& arrays,
                        const std::vector<double>& scalars) {
  if (arrays.size() != 4)
    throw ArgumentError("inputs", fmt::format("voxelize takes points, features, lengths and counts "
                                              "(absent ones empty), got {} arrays",
                                              arrays.size()));
  if (scalars.size() != 9)
    throw ArgumentError("grid", fmt::format("expected grid_min (3), voxel_size (3) and grid_shape (3), got {} numbers",
                                            scalars.size()));
  const ArrayView& points = arrays[0];
  checks::size("points", points);
  checks::size("features", arrays[1]);
  checks::size("lengths", arrays[2]);
  checks::size("counts", arrays[3]);
  Geometry g;
  if (points.shape.size() == 2) {
    g.N = points.shape[0];
  } else if (points.shape.size() == 3) {
    g.batched = true;
    g.B = points.shape[0];
    g.N = points.shape[1];
  } else {
    throw ArgumentError("points", fmt::format("expected [N, 3] or [B, N, 3], got shape {}", points.shape_text()));
  }
  if (points.shape.back() != 3)
    throw ArgumentError("points", fmt::format("the last axis must hold x, y, z (size 3), got shape {}",
                                              points.shape_text()));
  checks::dtype("points", points, spec.coord_dtype);
  checks::contiguous("points", points);
  for (int a = 0; a < 3; ++a) {
    g.grid_min[a] = scalars[a];
    g.voxel_size[a] = scalars[3 + a];
    if (!std::isfinite(g.grid_min[a]))
      throw ArgumentError("grid_min", fmt::format("must be finite, got {}", g.grid_min[a]));
    if (!(g.voxel_size[a] > 0) || !std::isfinite(g.voxel_size[a]))
      throw ArgumentError("voxel_size", fmt::format("must be positive and finite, got {}", g.voxel_size[a]));
    const double s = scalars[6 + a];
    if (!(s >= 1) || s != std::floor(s) || s > double(kMaxElements))
      throw ArgumentError("grid_shape", fmt::format("each dimension must be a positive integer, got {}", s));
    g.shape[a] = static_cast<std::int64_t>(s);
  }
  const std::int64_t F = std::max<std::int64_t>(spec.features, 1);
  std::int64_t total = std::max<std::int64_t>(g.B, 1);
  if (F > kMaxElements / total)  // B alone is unbounded when N == 0
    throw ArgumentError("points", fmt::format("batch {} with {} channels has too many cells to index", g.B, F));
  total *= F;
  for (std::int64_t d : g.shape) {
    if (d > kMaxElements / total)
      throw ArgumentError("grid_shape", fmt::format("grid [{}, {}, {}] with {} channels and batch {} has too many "
                                                    "cells to index",
                                                    g.shape[0], g.shape[1], g.shape[2], F, g.B));
    total *= d;
    g.cells *= d;
  }
  return g;
}

const ArrayView* present(const ArrayView& a) { return checks::absent(a) ? nullptr : &a; }

}  // namespace

OutputSpec plan_voxelize(const VoxelizeSpec& spec, const std::vector<ArrayView>& arrays,
                         const std::vector<double>& scalars) {
  const Geometry g = check_geometry(spec, arrays, scalars);
  const ArrayView& points = arrays[0];
  if (const ArrayView* f = present(arrays[1])) {
    if (!feature_mode(spec))
      throw ArgumentError("features", fmt::format("mode '{}' takes no features", voxel_mode_name(spec.mode)));
    std::vector<std::int64_t> want = g.batched ? std::vector<std::int64_t>{g.B, g.N, spec.features}
                                               : std::vector<std::int64_t>{g.N, spec.features};
    if (f->shape != want)
      throw ArgumentError("features", fmt::format("expected shape {} ({} channels from the compiled spec, one row "
                                                  "per point), got {}",
                                                  ArrayView{nullptr, DType::F32, want, {}}.shape_text(),
                                                  spec.features, f->shape_text()));
    checks::dtype("features", *f, spec.out_dtype);
    checks::same_device("features", *f, "points", points);
    checks::contiguous("features", *f);
  } else if (feature_mode(spec)) {
    throw ArgumentError("features", fmt::format("mode '{}' needs features [.., N, {}]", voxel_mode_name(spec.mode),
                                                spec.features));
  }
  if (const ArrayView* l = present(arrays[2])) {
    if (!g.batched)
      throw ArgumentError("lengths", "applies to batched points [B, N, 3] only");
    checks::same_device("lengths", *l, "points", points);
    checks::lengths("lengths", *l, g.B, 0, g.N);
  }
  OutputSpec out;
  out.dtype = spec.out_dtype;
  if (g.batched) out.shape.push_back(g.B);
  for (std::int64_t d : g.shape) out.shape.push_back(d);
  if (feature_mode(spec)) {
    out.shape.push_back(spec.features);
    out.scratch_shape = {g.B, g.cells};
  }
  return out;
}

std::vector<BoundLaunch> bind_voxelize(const VoxelizeSpec& spec, const std::vector<ArrayView>& arrays,
                                       const std::vector<double>& scalars, const ArrayView& out) {
  namespace abi = voxelize_abi;
  const OutputSpec plan = plan_voxelize(spec, arrays, scalars);
  const Geometry g = check_geometry(spec, arrays, scalars);
  if (out.shape != plan.shape)
    throw ArgumentError("out", fmt::format("expected shape {}, got {}",
                                           ArrayView{nullptr, DType::F32, plan.shape, {}}.shape_text(),
                                           out.shape_text()));
  checks::dtype("out", out, spec.out_dtype);
  checks::same_device("out", out, "points", arrays[0]);
  checks::contiguous("out", out);
  const ArrayView* counts = present(arrays[3]);
  if (feature_mode(spec)) {
    if (!counts || counts->shape != plan.scratch_shape || counts->dtype != DType::I32)
      throw ArgumentError("counts", fmt::format("mode '{}' needs an int32 scratch array of shape {}",
                                                voxel_mode_name(spec.mode),
                                                ArrayView{nullptr, DType::I32, plan.scratch_shape, {}}.shape_text()));
    checks::same_device("counts", *counts, "points", arrays[0]);
    checks::contiguous("counts", *counts);
  }
  if (g.B == 0) return {};

  KernelArgs args;
  args.set_ptr(abi::kPoints, arrays[0].data);
  args.set_ptr(abi::kFeatures, present(arrays[1]) ? arrays[1].data : nullptr);
  args.set_ptr(abi::kLengths, present(arrays[2]) ? arrays[2].data : nullptr);
  args.set_ptr(abi::kOut, out.data);
  args.set_ptr(abi::kCounts, counts ? counts->data : nullptr);
  args.set_int(abi::kB, g.B);
  args.set_int(abi::kN, g.N);
  for (int a = 0; a < 3; ++a) {
    args.slots[abi::kGridMinX + a] = std::bit_cast<std::uint64_t>(g.grid_min[a]);
    args.slots[abi::kVoxelSizeX + a] = std::bit_cast<std::uint64_t>(g.voxel_size[a]);
    args.set_int(abi::kShapeX + a, g.shape[a]);
  }
  std::vector<BoundLaunch> launches;
  auto phase = [&](abi::Phase p, std::int64_t rows, std::int64_t items, std::int64_t min_block_items,
                   std::int64_t lo, std::int64_t hi) {
    BoundLaunch bl{args, WorkShape{rows, items, 1, min_block_items}};
    bl.args.set_int(abi::kPhase, p);
    bl.args.set_int(abi::kCellLo, lo);
    bl.args.set_int(abi::kCellHi, hi);
    // Lengths on a GPU are range-checked by the scatter itself (no host synchronisation).
    if (p == abi::kScatter) bl.work.error_slot = abi::kErrorFlag;
    launches.push_back(bl);
  };
  // Clearing and finalising do one store per cell: on an H100 a block per 256 cells spent its time
  // starting and retiring blocks (ncu: 10 us, SM-bound, for a 128^3 grid of 4-byte cells), so each
  // block takes at least 16 KiB of cells through the kernel's grid-stride loop; wider cells take
  // fewer a block (an H200 finalising 20-byte cells 4096 a block waited on its loads, ncu).
  const std::int64_t cell_bytes = static_cast<std::int64_t>(dtype_size(spec.out_dtype)) *
                                      std::max<std::int64_t>(1, spec.features) +
                                  (spec.mode == VoxelMode::Mean ? 4 : 0);
  const std::int64_t cells_per_block = std::clamp<std::int64_t>((16 << 10) / cell_bytes, 256, 4096);
  const std::int64_t total_cells = g.B * g.cells;
  std::int64_t passes = 1;
  if (out.device == DeviceKind::Cuda && g.N > 0)
    passes = std::max<std::int64_t>(1, (total_cells * cell_bytes + abi::kCudaPassBytes - 1) / abi::kCudaPassBytes);
  for (std::int64_t pass = 0; pass < passes; ++pass) {
    // One pass: the whole grid, with kCellHi 0 (the CPU kernels ignore the range).
    const std::int64_t lo = total_cells * pass / passes;
    const std::int64_t hi = passes == 1 ? 0 : total_cells * (pass + 1) / passes;
    const std::int64_t rows = passes == 1 ? g.B : 1, items = passes == 1 ? g.cells : hi - lo;
    phase(abi::kClear, rows, items, cells_per_block, lo, hi);
    if (g.N > 0) phase(abi::kScatter, g.B, g.N, 0, lo, hi);
    if (feature_mode(spec)) phase(abi::kFinalize, rows, items, cells_per_block, lo, hi);
  }
  return launches;
}

}  // namespace robocache
