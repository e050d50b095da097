#!/usr/bin/env bash
# Sets up a fresh Debian machine for RoboCache and builds it:
#   system packages (apt) -> Python venv in .venv -> CMake build in build/.
# Safe to run again: it installs only what is missing and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

source scripts/ensure_packages.sh
ensure_packages cmake ninja-build g++ libfmt-dev libgtest-dev llvm-14-dev python3-venv

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  log "creating the Python environment in .venv"
  "$PYTHON" -m venv .venv
fi
log "installing Python packages (requirements-dev.txt)"
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# Make the in-tree package importable from the venv without reinstalling after each edit.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/python" > "$site/robocache-dev.pth"
# The `robocache` command (pip installs it as a console script; this is the in-tree equivalent).
cat > .venv/bin/robocache <<SHIM
#!$PWD/.venv/bin/python
import sys
from robocache.cli import main
sys.exit(main())
SHIM
chmod +x .venv/bin/robocache

log "building (CMake + Ninja) in build/"
cmake -S . -B build -G Ninja -DPython_EXECUTABLE="$PWD/.venv/bin/python" ${ROBOCACHE_CMAKE_ARGS:-} >/dev/null
cmake --build build
