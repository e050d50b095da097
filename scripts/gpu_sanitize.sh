#!/usr/bin/env bash
# compute-sanitizer (memcheck and racecheck) over the GPU tests: the C++ Gpu* suites and the
# Python GPU tests. Build as scripts/gpu_check.sh does (no LLVM). Logs and summary to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_env.sh
{ cmake -S . -B build-gpu -G Ninja -DROBOCACHE_ENABLE_LLVM=OFF -DPython_EXECUTABLE="$(command -v python3)" \
    && cmake --build build-gpu -j 16; } >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
CS="compute-sanitizer --error-exitcode 1 --print-limit 20"
# The >2^31-element test allocates 4.3 GB and only checks indexing width; it is left to gpu_check.sh.
FILTER='Gpu*:-*IndexesBeyond32Bits*'
rc=0
$CS --tool memcheck build-gpu/tests/robocache_tests --gtest_filter="$FILTER" >"$OUT/memcheck-cpp.log" 2>&1 || rc=1
$CS --tool racecheck build-gpu/tests/robocache_tests --gtest_filter="$FILTER" >"$OUT/racecheck-cpp.log" 2>&1 || rc=1
$CS --tool memcheck python3 -m pytest tests/python -m gpu -q -p no:cacheprovider >"$OUT/memcheck-py.log" 2>&1 || rc=1
$CS --tool racecheck python3 -m pytest tests/python/test_ops_gpu.py tests/python/test_resample_gpu.py -q -p no:cacheprovider >"$OUT/racecheck-py.log" 2>&1 || rc=1
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: ${ROBOCACHE_COMMIT:-unknown}"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  for f in memcheck-cpp racecheck-cpp memcheck-py racecheck-py; do
    echo "$f: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$f.log" | tail -1) | $(grep -E 'tests? (passed|ran)|PASSED|passed|failed' "$OUT/$f.log" | tail -1)"
  done
} | tee "$OUT/sanitize-summary.txt"
exit $rc
