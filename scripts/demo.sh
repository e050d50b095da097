#!/usr/bin/env bash
# Sets everything up, then runs the demo (python -m robocache.demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n== running the demo\n'
.venv/bin/python -m robocache.demo
