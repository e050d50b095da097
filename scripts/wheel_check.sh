#!/usr/bin/env bash
# The wheel as a new user gets it (one CI step): build it (scripts/build_wheel.sh), then install it
# with pip alone into a fresh venv inside a clean Debian root made with debootstrap (Debian's Python
# and nothing else: no compiler, no LLVM, no fmt, no CUDA toolkit), and there
#   1. run the CPU demo and a smoke test of every op (scripts/wheel_smoke.py cpu);
#   2. install the robocache[cuda] extra (NVIDIA's NVRTC wheel, from the package index) and compile
#      every op for sm_90 without a GPU (scripts/wheel_smoke.py sm_90), checking that NVRTC came
#      from that wheel.
# The wheel's size, `auditwheel show` and the stage times go to $WHEEL_CHECK_RECORD
# (default build-wheel-cp311/wheel-check.txt) as well as to the log.
#
# Needs root (debootstrap, chroot, mount); scripts/debian_root.sh says what it caches and where.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
stage() { printf '\n== [%4ds] %s\n' "$SECONDS" "$*"; }
record=${WHEEL_CHECK_RECORD:-build-wheel-cp311/wheel-check.txt}
mkdir -p "$(dirname "$record")"

# The root's Python is Debian 12's 3.11: the wheel is built for that one.
stage "building the wheel"
PYTHON=${PYTHON:-python3.11} bash scripts/build_wheel.sh
wheel=$(ls dist/robocache-*-cp311-*.whl)
wheel_name=$(basename "$wheel")
{
  echo "wheel: $wheel_name"
  echo "size: $(stat -c %s "$wheel") bytes"
  echo
  .wheel-venv/cp311/bin/auditwheel show "$wheel"
  echo
  echo "contents:"
  .wheel-venv/cp311/bin/python -m zipfile -l "$wheel"
} > "$record"
built_s=$SECONDS

stage "a clean Debian root (scripts/debian_root.sh)"
source scripts/debian_root.sh
debian_root_setup
cp "$wheel" scripts/wheel_smoke.py "$root/tmp/"

stage "pip install $wheel_name into a fresh venv"
in_root python3 -m venv /opt/robocache
in_root /opt/robocache/bin/pip install -q "/tmp/$wheel_name"

stage "CPU demo (python -m robocache.demo)"
in_root /opt/robocache/bin/python -m robocache.demo

stage "smoke test of every op on the CPU"
in_root /opt/robocache/bin/python /tmp/wheel_smoke.py cpu

stage "pip install '$wheel_name[cuda]' (NVIDIA's NVRTC wheel), then every op for sm_90"
in_root /opt/robocache/bin/pip install -q "/tmp/$wheel_name[cuda]"
in_root /opt/robocache/bin/python /tmp/wheel_smoke.py sm_90 --nvrtc-origin "NVIDIA's NVRTC wheel"

{
  echo
  echo "in the clean root ($(in_root python3 --version)), after pip install '$wheel_name[cuda]':"
  in_root /opt/robocache/bin/pip list --format=freeze
  echo "check_installation()['cuda']:"
  in_root /opt/robocache/bin/python -c \
    "import json, robocache; print(json.dumps(robocache.check_installation()['cuda'], indent=1))"
  echo
  echo "stage times: wheel built at ${built_s}s, all checks done at ${SECONDS}s"
} >> "$record"
stage "done; record in $record"
sed -n '1,/^contents:/p' "$record"; sed -n '/^in the clean root/,$p' "$record"
