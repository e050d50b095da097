#!/usr/bin/env bash
# The wheel as a new user gets it (one CI step): build it (scripts/build_wheel.sh), then install it
# with pip alone into a fresh venv inside a clean Debian root made with debootstrap (Debian's Python
# and nothing else: no compiler, no LLVM, no fmt, no CUDA toolkit), and there
#   1. run the CPU demo and a smoke test of every op (scripts/wheel_smoke.py cpu);
#   2. install the robocache[cuda] extra (NVIDIA's NVRTC wheel, from the package index) and compile
#      every op for sm_90 without a GPU (scripts/wheel_smoke.py sm_90), checking that NVRTC came
#      from that wheel.
# The wheel's size, `auditwheel show` and the stage times go to $WHEEL_CHECK_RECORD
# (default build-wheel/wheel-check.txt) as well as to the log.
#
# Needs root (debootstrap, chroot, mount). The debootstrapped root is kept as a tarball and pip's
# download cache beside it, in $ROBOCACHE_WHEEL_CACHE (default ~/.cache/robocache-wheel-check):
# every run unpacks a fresh root from the tarball, so nothing of one run leaks into the next.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS=0
stage() { printf '\n== [%4ds] %s\n' "$SECONDS" "$*"; }
record=${WHEEL_CHECK_RECORD:-build-wheel/wheel-check.txt}
cache=${ROBOCACHE_WHEEL_CACHE:-$HOME/.cache/robocache-wheel-check}
mkdir -p "$cache/pip" "$(dirname "$record")"

stage "building the wheel"
bash scripts/build_wheel.sh
wheel=$(ls dist/robocache-*.whl)
wheel_name=$(basename "$wheel")
{
  echo "wheel: $wheel_name"
  echo "size: $(stat -c %s "$wheel") bytes"
  echo
  .wheel-venv/bin/auditwheel show "$wheel"
  echo
  echo "contents:"
  .wheel-venv/bin/python -m zipfile -l "$wheel"
} > "$record"
built_s=$SECONDS

source scripts/ensure_packages.sh
ensure_packages debootstrap

# Debian's mirror as this machine's apt uses it (override with DEBIAN_MIRROR).
debian_mirror() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(grep -h '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1)
  fi
  echo "$uri"
}
suite=${DEBIAN_SUITE:-bookworm}
tarball="$cache/$suite-minbase.tar"
if [ ! -f "$tarball" ]; then
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
  [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt; set DEBIAN_MIRROR" >&2; exit 1; }
  stage "debootstrap $suite (minbase + python3, python3-venv, ca-certificates)"
  rm -rf "$cache/debootstrap"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$cache/debootstrap" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 30 "$cache/debootstrap.log"; exit 1; }
  rm -rf "$cache/debootstrap/var/cache/apt/archives"/*.deb
  tar -C "$cache/debootstrap" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$cache/debootstrap"
fi

stage "a fresh root from $tarball"
root=$(mktemp -d /tmp/robocache-wheel-root.XXXXXX)
mounted=()
cleanup() {
  local m
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's CA bundle, for pip inside the root (the network may need it).
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca-bundle.crt"
mkdir -p "$root/root/.cache/pip"
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --bind "$cache/pip" "$root/root/.cache/pip" && mounted=("$root/root/.cache/pip" "${mounted[@]}")
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 "$@"
}

# What "clean" means here, checked rather than assumed.
stray=$(in_root sh -c 'for c in cc gcc g++ c++ clang nvcc cmake llvm-config llvm-config-14; do command -v $c; done' || true)
stray+=$(find "$root/usr" "$root/opt" \( -name 'libLLVM*' -o -name 'libfmt*' -o -name 'libnvrtc*' -o -name 'libcuda*' \) -print)
if [ -n "$stray" ]; then
  echo "the root is not clean: $stray" >&2
  exit 1
fi
echo "clean root: $(in_root python3 --version), no compiler, LLVM, fmt or CUDA"
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
  echo "stage times: wheel built at ${built_s}s, all checks done at ${SECONDS}s"
} >> "$record"
stage "done; record in $record"
cat "$record" | sed -n '1,/^contents:/p'
