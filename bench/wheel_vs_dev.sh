#!/usr/bin/env bash
# The wheel against the development build, on this machine, interleaved: cold compile time of every
# smoke-test kernel (scripts/wheel_smoke.py) for the CPU and for sm_90, and whether the two builds
# produce the same binaries (for sm_90: the same machine code, as NVRTC names internal symbols
# uniquely per process) and (CPU) the same outputs. The wheel runs in a clean Debian root
# (scripts/debian_root.sh) with NVIDIA's NVRTC wheel at the version of the development machine's
# NVRTC, so both sides use the same NVRTC; the development build runs from build/ with .venv.
#   bash bench/wheel_vs_dev.sh [rounds=5]  ->  bench/results/wheel-vs-dev-<date>.jsonl + a table
# Per kernel: the median and the minimum of the rounds' cold compiles (the machine is shared: the
# minimum is the least disturbed), and the ratio of the medians.
# Needs root, scripts/setup.sh's build and the wheel (scripts/build_wheel.sh; run here too).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}

PYTHON=${PYTHON:-python3.11} bash scripts/build_wheel.sh >/dev/null   # the root's Python is 3.11
wheel=$(ls dist/robocache-*-cp311-*.whl)
# The NVRTC the development build loads, as its wheel version (a toolkit installed from NVIDIA's
# wheels records it in dist-info; set NVRTC_VERSION otherwise, e.g. 13.0.88).
nvrtc=${NVRTC_VERSION:-$(ls -d /usr/local/cuda/dist-info/nvidia_cuda_nvrtc-*.dist-info 2>/dev/null \
                         | sed -E 's/.*nvidia_cuda_nvrtc-([0-9.]+)\.dist-info/\1/' | head -n1)}
[ -n "$nvrtc" ] || { echo "set NVRTC_VERSION to the system NVRTC's full version" >&2; exit 1; }

source scripts/debian_root.sh
debian_root_setup
cp "$wheel" scripts/wheel_smoke.py "$root/tmp/"
in_root python3 -m venv /opt/robocache
in_root /opt/robocache/bin/pip install -q "/tmp/$(basename "$wheel")" "nvidia-cuda-nvrtc==$nvrtc"

work=$(mktemp -d)
# Each round runs both sides, in turn first, so a burst of load from elsewhere hits both alike.
wheel_side() { in_root /opt/robocache/bin/python /tmp/wheel_smoke.py "$1" --record /tmp/wheel.jsonl >/dev/null; }
dev_side() { .venv/bin/python scripts/wheel_smoke.py "$1" --record "$work/dev.jsonl" >/dev/null; }
for ((r = 0; r < rounds; r++)); do
  for target in cpu sm_90; do
    if ((r % 2 == 0)); then wheel_side "$target"; dev_side "$target"; else dev_side "$target"; wheel_side "$target"; fi
  done
done
cp "$root/tmp/wheel.jsonl" "$work/wheel.jsonl"
wheel_status=$(in_root /opt/robocache/bin/python -c \
  "import json, robocache; c = robocache.check_installation(); print(json.dumps({'nvrtc': c['cuda']['nvrtc'], 'llvm': c['cpu'].get('toolchain')}))")
dev_status=$(.venv/bin/python -c \
  "import json, robocache; c = robocache.check_installation(); print(json.dumps({'nvrtc': c['cuda']['nvrtc'], 'llvm': c['cpu'].get('toolchain')}))")

mkdir -p bench/results
out="bench/results/wheel-vs-dev-$(date -u +%F).jsonl"
.venv/bin/python - "$work" "$out" "$(basename "$wheel")" "$nvrtc" "$wheel_status" "$dev_status" <<'PY'
import json, statistics, sys
from pathlib import Path

work, out, wheel, nvrtc, wheel_status, dev_status = sys.argv[1:]
def load(name):
    runs = {}
    for line in (Path(work) / name).read_text().splitlines():
        r = json.loads(line)
        runs.setdefault((r["target"], json.dumps(r["spec"], sort_keys=True)), []).append(r)
    return runs
wheel_runs, dev_runs = load("wheel.jsonl"), load("dev.jsonl")
rows = []
for key in sorted(dev_runs):
    w, d = wheel_runs[key], dev_runs[key]
    row = {"case": "cold_compile", "target": key[0], "spec": json.loads(key[1]),
           "wheel_ms": statistics.median(r["compile_ms"] for r in w),
           "dev_ms": statistics.median(r["compile_ms"] for r in d), "repeats": len(w),
           "wheel_min_ms": min(r["compile_ms"] for r in w), "dev_min_ms": min(r["compile_ms"] for r in d),
           "binary_identical": {r["binary_sha256"] for r in w} == {r["binary_sha256"] for r in d}
                               and len({r["binary_sha256"] for r in d}) == 1}
    if key[0] == "cpu":
        row["output_identical"] = {r["output_sha256"] for r in w} == {r["output_sha256"] for r in d}
    else:  # cubins carry NVRTC's per-process unique names: their machine code is what must match
        row["code_identical"] = ({r["code_sha256"] for r in w} == {r["code_sha256"] for r in d}
                                 and len({r["code_sha256"] for r in d}) == 1)
    row["ratio"] = round(row["wheel_ms"] / row["dev_ms"], 3)
    rows.append(row)
summary = {"case": "summary", "wheel": wheel, "nvrtc_wheel_version": nvrtc,
           "wheel_side": json.loads(wheel_status), "dev_side": json.loads(dev_status)}
for t in ("cpu", "sm_90"):
    sel = [r for r in rows if r["target"] == t]
    summary[t] = {"kernels": len(sel),
                  "wheel_total_ms": round(sum(r["wheel_ms"] for r in sel), 1),
                  "dev_total_ms": round(sum(r["dev_ms"] for r in sel), 1),
                  "ratio_of_totals": round(sum(r["wheel_ms"] for r in sel) / sum(r["dev_ms"] for r in sel), 3),
                  "ratio_of_min_totals": round(sum(r["wheel_min_ms"] for r in sel) / sum(r["dev_min_ms"] for r in sel), 3),
                  "binaries_identical": all(r["binary_identical"] for r in sel),
                  "machine_code_identical": all(r.get("code_identical", r["binary_identical"]) for r in sel),
                  **({"outputs_identical": all(r["output_identical"] for r in sel)} if t == "cpu" else {})}
with open(out, "w") as f:
    for r in rows + [summary]:
        f.write(json.dumps(r, sort_keys=True) + "\n")
print(f"{'target':6s} {'wheel ms':>9s} {'dev ms':>9s} {'ratio':>6s} same-binary same-code same-output  spec")
for r in rows:
    print(f"{r['target']:6s} {r['wheel_ms']:9.1f} {r['dev_ms']:9.1f} {r['ratio']:6.2f} {str(r['binary_identical']):11s} "
          f"{str(r.get('code_identical', '-')):9s} {str(r.get('output_identical', '-')):11s}  "
          f"{json.dumps(r['spec'], sort_keys=True)[:60]}")
print(json.dumps(summary, indent=1))
print(f"written to {out}")
PY
rm -rf "$work"
