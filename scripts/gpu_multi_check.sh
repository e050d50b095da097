#!/usr/bin/env bash
# The multi-GPU run (a machine with two GPUs): build without LLVM, the GPU test suite on cuda:1,
# the multi-GPU tests, and the torchrun example. Logs to $OUT (default ./gpu-out).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_env.sh
# Keep NVLink multicast off (shared hosts; see the device notes).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: ${ROBOCACHE_COMMIT:-unknown}"
  nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader
} | tee "$OUT/multi-summary.txt"
if ! { cmake -S . -B build-gpu -G Ninja -DROBOCACHE_ENABLE_LLVM=OFF -DPython_EXECUTABLE="$(command -v python3)" \
        && cmake --build build-gpu -j 16; } >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; exit 1
fi
rc=0
export ROBOCACHE_CACHE_DIR=/tmp/rc-multi-cache
ROBOCACHE_TEST_CUDA_DEVICE=1 python3 -m pytest tests/python -q -m gpu -p no:cacheprovider >"$OUT/pytest-cuda1.log" 2>&1 || rc=1
python3 -m pytest tests/python/test_multi_gpu.py -q -rA -p no:cacheprovider >"$OUT/pytest-multi.log" 2>&1 || rc=1
torchrun --standalone --nproc_per_node=2 examples/multi_gpu_resample.py >"$OUT/torchrun.log" 2>&1 || rc=1
{
  echo "suite on cuda:1: $(tail -1 "$OUT/pytest-cuda1.log")"
  echo "multi-GPU tests: $(tail -1 "$OUT/pytest-multi.log")"
  grep -E "^(PASSED|FAILED)" "$OUT/pytest-multi.log"
  echo "torchrun example:"; grep -E "^rank|gathered" "$OUT/torchrun.log"
} | tee -a "$OUT/multi-summary.txt"
grep -E "FAILED|Error" "$OUT/pytest-cuda1.log" "$OUT/pytest-multi.log" "$OUT/torchrun.log" | head -20
exit $rc
