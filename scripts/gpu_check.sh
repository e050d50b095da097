#!/usr/bin/env bash
# The H100 run: build without LLVM (the GPU machine has no LLVM headers) against the system
# Python, then run the C++ tests, the Python tests (GPU tests included) and the demo.
# Logs and a summary go to $OUT (default ./gpu-out). Wheels for missing Python packages may be
# placed in .whl/ (see docs/gpu-validation.md).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/gpu_env.sh
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: ${ROBOCACHE_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
} | tee "$OUT/summary.txt"

if ! { cmake -S . -B build-gpu -G Ninja -DROBOCACHE_ENABLE_LLVM=OFF -DPython_EXECUTABLE="$(command -v python3)" \
        && cmake --build build-gpu -j 16; } >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  echo "build FAILED" | tee -a "$OUT/summary.txt"
  exit 1
fi
rc=0
ctest --test-dir build-gpu --output-on-failure -j 8 >"$OUT/ctest.log" 2>&1 || rc=1
ROBOCACHE_BUILD_DIR=build-gpu python3 -m pytest tests/python -q -rs ${PYTEST_ARGS:-} >"$OUT/pytest.log" 2>&1 || rc=1
python3 -m robocache.demo >"$OUT/demo.log" 2>&1 || rc=1
{
  echo "ctest: $(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)"
  echo "pytest: $(tail -1 "$OUT/pytest.log")"
  echo "demo:"; cat "$OUT/demo.log"
} | tee -a "$OUT/summary.txt"
grep -E "FAILED|Failed|SKIPPED" "$OUT/ctest.log" "$OUT/pytest.log" | head -40
exit $rc
