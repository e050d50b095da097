"""Draws bench/gpu_bench.py's JSON lines as a chart: GPU-only time over the memory floor, per case
and implementation, with the target line (targets.md).

    python bench/plot_gpu.py RESULTS.jsonl [BASELINES.jsonl] [-o OUT.png]

Rows of RESULTS give RoboCache's figures; eager and torch.compile come from BASELINES when given
(a run with --no-compile has none), else from RESULTS. Writes OUT.png (default: RESULTS with .png).
Run where matplotlib is installed (the GPU machine has none, so charts are drawn from the
committed results).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

IMPLS = [("eager", "eager PyTorch (fastest form)"), ("torch.compile", "torch.compile (fastest form)"),
         ("robocache", "RoboCache (default config)")]


def rows_of(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def main() -> Path:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("baselines", nargs="?")
    ap.add_argument("-o", "--out")
    args = ap.parse_args()
    rows = rows_of(args.results)
    base = rows_of(args.baselines) if args.baselines else rows
    by = {(r["case"], r["impl"]): r for r in base if r["impl"] != "robocache"}
    by.update({(r["case"], r["impl"]): r for r in rows if r["impl"] == "robocache"})
    cases = [r["case"] for r in rows if r["impl"] == "robocache" and r.get("floor_us", 0) > 0.5]
    fig, ax = plt.subplots(figsize=(13, 5))
    width = 0.8 / len(IMPLS)
    for k, (impl, label) in enumerate(IMPLS):
        xs, ys = [], []
        for i, case in enumerate(cases):
            r = by.get((case, impl))
            floor = by[(case, "robocache")]["floor_us"]
            if r and r.get("gpu_us"):
                xs.append(i + (k - (len(IMPLS) - 1) / 2) * width)
                ys.append(r["gpu_us"] / floor)
        ax.bar(xs, ys, width, label=label)
    for i, case in enumerate(cases):
        r = by[(case, "robocache")]
        ax.hlines(r["target_us"] / r["floor_us"], i - 0.4, i + 0.4, colors="black", linestyles="dashed",
                  label="target" if i == 0 else None)
    ax.set_xticks(range(len(cases)), cases)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylabel("GPU-only time / memory floor (log)")
    meta = rows[0]
    ax.set_title(f"{meta['device']}, {meta['date']}, commit {meta.get('commit', '?')}: one CUDA graph of 20 calls on "
                 "distinct inputs / 20 (cases with a floor under 0.5 us, R4 and F1, are left out; voxel eager runs cannot be captured)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(args.out) if args.out else Path(args.results).with_suffix(".png")
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main())
