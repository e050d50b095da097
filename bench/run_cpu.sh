#!/usr/bin/env bash
# The CPU benchmark with its own setup: the project's build, then numba and matplotlib; then the
# DataLoader benchmark where torch is installed (it says so and skips otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements.txt
.venv/bin/python bench/cpu_bench.py "$@"
.venv/bin/python bench/cpu_dataloader.py
