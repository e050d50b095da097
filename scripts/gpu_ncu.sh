#!/usr/bin/env bash
# Nsight Compute on the GPU machine: per-kernel time, DRAM and SM throughput, occupancy, registers
# and grid for the RoboCache cases named as arguments (default: all). Needs a build-gpu/ from
# scripts/gpu_bench.sh in the same session. Writes $OUT/ncu.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
export PYTHONPATH="$PWD/python:$PWD/bench${PYTHONPATH:+:$PYTHONPATH}"
export ROBOCACHE_CACHE_DIR=${ROBOCACHE_CACHE_DIR:-/tmp/robocache-bench-cache}
metrics=gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed
metrics=$metrics,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__grid_size
metrics=$metrics,launch__block_size,dram__bytes.sum,lts__t_bytes.sum,smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio
# Where warps wait (share of active warp cycles) and how busy the issue slots are: compute- versus
# latency-bound.
metrics=$metrics,smsp__issue_active.avg.pct_of_peak_sustained_active,launch__occupancy_limit_registers
metrics=$metrics,smsp__warp_issue_stalled_long_scoreboard_per_warp_active.pct,smsp__warp_issue_stalled_barrier_per_warp_active.pct
metrics=$metrics,smsp__warp_issue_stalled_lg_throttle_per_warp_active.pct,smsp__warp_issue_stalled_math_pipe_throttle_per_warp_active.pct
metrics=$metrics,smsp__warp_issue_stalled_wait_per_warp_active.pct,smsp__warp_issue_stalled_short_scoreboard_per_warp_active.pct
metrics=$metrics,smsp__warp_issue_stalled_mio_throttle_per_warp_active.pct,smsp__warp_issue_stalled_no_instruction_per_warp_active.pct
ncu --clock-control none --metrics "$metrics" --kernel-name regex:'resample|fuse|voxelize' --csv \
  python3 bench/ncu_cases.py "$@" > "$OUT/ncu.csv" 2> "$OUT/ncu.err" || { tail -20 "$OUT/ncu.err"; exit 1; }
python3 - "$OUT/ncu.csv" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]
ki, mi, vi = head.index("Kernel Name"), head.index("Metric Name"), head.index("Metric Value")
for r in rows[1:]:
    print(r[head.index("ID")], r[ki][:60], r[mi], r[vi])
PY
