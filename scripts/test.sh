#!/usr/bin/env bash
# Sets everything up, then runs every test: GoogleTest through ctest, then pytest.
# GPU tests skip themselves on a machine without a CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n== C++ tests (ctest)\n'
ctest --test-dir build --output-on-failure -j "$(nproc)"
printf '\n== Python tests (pytest)\n'
.venv/bin/python -m pytest tests/python -q "$@"
