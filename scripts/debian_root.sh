# Sourced by scripts/wheel_check.sh and bench/wheel_vs_dev.sh: a clean Debian root to install the
# wheel into, as a new user's machine would be (Debian's Python and nothing else: no compiler, no
# LLVM, no fmt, no CUDA toolkit).
#   debian_root_setup   makes $root: a fresh copy of a debootstrapped root, with /proc and pip's
#                       download cache mounted; removed again when the calling script exits
#   in_root CMD...      runs CMD inside it with a clean environment
# Needs root (debootstrap, chroot, mount). debootstrap runs once: its root is kept as a tarball,
# with pip's download cache beside it, in $ROBOCACHE_WHEEL_CACHE (default
# ~/.cache/robocache-wheel-check); each setup unpacks a fresh root, so nothing leaks between runs.

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

debian_root_setup() {
  local cache=${ROBOCACHE_WHEEL_CACHE:-$HOME/.cache/robocache-wheel-check}
  local suite=${DEBIAN_SUITE:-bookworm}
  local tarball="$cache/$suite-minbase.tar" mirror stray
  mkdir -p "$cache/pip"
  source scripts/ensure_packages.sh
  ensure_packages debootstrap
  if [ ! -f "$tarball" ]; then
    mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
    [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt; set DEBIAN_MIRROR" >&2; return 1; }
    printf 'debootstrap %s (minbase + python3, python3-venv, ca-certificates)\n' "$suite"
    rm -rf "$cache/debootstrap"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$suite" "$cache/debootstrap" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { tail -n 30 "$cache/debootstrap.log"; return 1; }
    rm -f "$cache/debootstrap/var/cache/apt/archives"/*.deb
    tar -C "$cache/debootstrap" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$cache/debootstrap"
  fi
  root=$(mktemp -d /tmp/robocache-debian-root.XXXXXX)
  _root_mounts=()
  trap debian_root_cleanup EXIT
  tar -C "$root" -xf "$tarball"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # This machine's CA bundle, for pip inside the root (the network may need it).
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca-bundle.crt"
  mkdir -p "$root/root/.cache/pip"
  mount -t proc proc "$root/proc" && _root_mounts+=("$root/proc")
  mount --bind "$cache/pip" "$root/root/.cache/pip" && _root_mounts=("$root/root/.cache/pip" "${_root_mounts[@]}")
  # What "clean" means here, checked rather than assumed.
  stray=$(in_root sh -c 'for c in cc gcc g++ c++ clang nvcc cmake llvm-config llvm-config-14; do command -v $c; done' || true)
  stray+=$(find "$root/usr" "$root/opt" \( -name 'libLLVM*' -o -name 'libfmt*' -o -name 'libnvrtc*' -o -name 'libcuda*' \) -print)
  if [ -n "$stray" ]; then
    echo "the root is not clean: $stray" >&2
    return 1
  fi
  echo "clean root $root from $tarball: $(in_root python3 --version), no compiler, LLVM, fmt or CUDA"
}

debian_root_cleanup() {
  local m
  for m in "${_root_mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  [ -n "${root:-}" ] && rm -rf --one-file-system "$root"
}

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 "$@"
}
