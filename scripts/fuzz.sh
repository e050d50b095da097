#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into build-fuzz/ and runs each
# for SECONDS (default 60) on a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/).
# Exits non-zero on any crash, leak, UB report or broken invariant; the reproducer is written to
# build-fuzz/artifacts/<target>/ (replay: build-fuzz/<target> FILE).
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
log() { printf '\n== %s\n' "$*"; }
start=$SECONDS

source scripts/ensure_packages.sh
ensure_packages clang-14 libclang-rt-14-dev cmake ninja-build libfmt-dev

log "building the fuzz targets in build-fuzz/"
cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build build-fuzz --target fuzz_spec_parser fuzz_cache_entry

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1"
summary=()
rc=0
for target in fuzz_spec_parser fuzz_cache_entry; do
  log "fuzzing $target for ${seconds} s"
  work=build-fuzz/run/$target
  artifacts=build-fuzz/artifacts/$target
  rm -rf "$work" && mkdir -p "$work" "$artifacts"
  cp tests/fuzz/corpus/$target/* "$work/"
  set +e
  "build-fuzz/$target" "$work" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      >"build-fuzz/$target.log" 2>&1
  trc=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "build-fuzz/$target.log" | grep -oE '[0-9]+$' || echo "?")
  if [ "$trc" -ne 0 ]; then
    rc=1
    tail -60 "build-fuzz/$target.log"
    summary+=("$target: FAILED (exit $trc) after $execs executions; reproducer in $artifacts/")
  else
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "build-fuzz/$target.log" | tail -1)
    summary+=("$target: ok, $execs executions in ${seconds} s ($cov)")
  fi
done

log "fuzz summary ($((SECONDS - start)) s)"
printf '%s\n' "${summary[@]}"
exit $rc
