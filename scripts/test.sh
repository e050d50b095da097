#!/usr/bin/env bash
# Sets everything up, then runs every test: the include layering check, GoogleTest through ctest,
# then pytest.
# GPU tests skip themselves on a machine without a CUDA device. torch (requirements-torch.txt)
# is installed for the tests that need it; ROBOCACHE_TEST_TORCH=0 leaves it out (about 3 minutes
# and 5 GB), and those tests then skip themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n== include layering (scripts/check_layers.py)\n'
.venv/bin/python scripts/check_layers.py
if [ "${ROBOCACHE_TEST_TORCH:-1}" != 0 ]; then
  printf '\n== installing torch for the tests that need it (requirements-torch.txt)\n'
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-torch.txt
fi
printf '\n== C++ tests (ctest)\n'
ctest --test-dir build --output-on-failure -j "$(nproc)"
printf '\n== Python tests (pytest)\n'
.venv/bin/python -m pytest tests/python -q "$@"
