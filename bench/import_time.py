"""What `import robocache` costs with numpy already imported, and what it loads.

Each repeat is a fresh `python -X importtime -c "import numpy; import robocache"`; the figure is
robocache's cumulative import time (its own line of -X importtime, microseconds), median over the
repeats. The child also reports whether ml_dtypes, torch or any LLVM library was loaded (read
from sys.modules and /proc/self/maps), and the biggest self-times under robocache, which is where
the remaining time goes.
Target (targets.md): <= 20 ms, loading neither ml_dtypes nor LLVM.

    python bench/import_time.py [--repeats 15] [--out bench/results]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys
import numpy
import robocache
maps = open("/proc/self/maps").read() if sys.platform.startswith("linux") else ""
print(json.dumps({"ml_dtypes": "ml_dtypes" in sys.modules, "torch": "torch" in sys.modules,
                  "llvm": "libLLVM" in maps, "z3": "libz3" in maps}))
"""

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
TARGET_MS = 20.0


def one_run() -> dict:
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", CHILD], capture_output=True, text=True,
                         check=True)
    self_us, cumulative_us = {}, None
    for line in out.stderr.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        name = m.group(4)
        if name == "robocache":
            cumulative_us = int(m.group(2))
        if name == "robocache" or name.startswith("robocache."):
            self_us[name] = int(m.group(1))
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return {"cumulative_us": cumulative_us, "self_us": self_us, **loaded}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()
    runs = [one_run() for _ in range(args.repeats)]
    ms = sorted(r["cumulative_us"] / 1e3 for r in runs)
    median = statistics.median(ms)
    parts = {name: statistics.median(r["self_us"].get(name, 0) for r in runs) / 1e3 for name in runs[0]["self_us"]}
    top = dict(sorted(parts.items(), key=lambda kv: -kv[1])[:6])
    loaded = {k: any(r[k] for r in runs) for k in ("ml_dtypes", "torch", "llvm", "z3")}
    date = datetime.date.today().isoformat()
    row = {"case": "import", "backend": "python", "device": f"{platform.machine()} ({os.cpu_count()} cores)",
           "date": date, "python": platform.python_version(), "median_ms": median, "min_ms": ms[0],
           "max_ms": ms[-1], "runs": len(runs), "self_ms_top": top, "loaded": loaded, "target_ms": TARGET_MS,
           "meets_target": median <= TARGET_MS and not loaded["ml_dtypes"] and not loaded["llvm"]}
    print(f"import robocache (numpy already imported): median {median:.1f} ms, min {ms[0]:.1f}, max {ms[-1]:.1f} "
          f"over {len(runs)} fresh processes  [target <= {TARGET_MS} ms: {'met' if row['meets_target'] else 'MISSED'}]")
    print("  biggest self times: " + ", ".join(f"{k} {v:.1f} ms" for k, v in top.items()))
    print("  loaded at import: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in loaded.items()))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"import_time-cpu-{date}.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps(row) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
