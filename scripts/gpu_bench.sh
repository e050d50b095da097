#!/usr/bin/env bash
# The H100 benchmark run: build the Python module without LLVM (the GPU machine has none), then
# run bench/gpu_bench.py (RoboCache vs eager PyTorch vs torch.compile vs the floor, and the
# host launch cost). Arguments go to gpu_bench.py. Results go to $OUT (default ./gpu-out).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_env.sh
export ROBOCACHE_CACHE_DIR=${ROBOCACHE_CACHE_DIR:-/tmp/robocache-bench-cache}
if ! { cmake -S . -B build-gpu -G Ninja -DROBOCACHE_ENABLE_LLVM=OFF \
        -DPython_EXECUTABLE="$(command -v python3)" && cmake --build build-gpu -j 16; } >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  exit 1
fi
python3 bench/gpu_bench.py --out "$OUT" "$@"
