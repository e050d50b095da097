"""Draws bench/gpu_bench.py's JSON lines as a chart: time over the floor, per case and implementation.

    python bench/plot_gpu.py bench/results/gpu-h100-<date>.jsonl   # writes the .png beside it

Run where matplotlib is installed (`pip install -r bench/requirements.txt`); the GPU machine has
no matplotlib, so the chart is drawn from the committed results.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

IMPLS = [("eager", "eager PyTorch"), ("torch.compile", "torch.compile"), ("robocache", "RoboCache (heuristic)"),
         ("robocache-tuned", "RoboCache (tuned)")]


def main(path: str) -> Path:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    cases = [r["case"] for r in rows if r["impl"] == "robocache"]
    by = {(r["case"], r["impl"]): r for r in rows}
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(IMPLS)
    for k, (impl, label) in enumerate(IMPLS):
        xs, ys = [], []
        for i, case in enumerate(cases):
            r = by.get((case, impl))
            floor = by[(case, "robocache")]["floor_us"]
            if r and r.get("us") and floor > 0.05:
                xs.append(i + (k - (len(IMPLS) - 1) / 2) * width)
                ys.append(r["us"] / floor)
        ax.bar(xs, ys, width, label=label)
    targets = [by[(c, "robocache")]["target_us"] / by[(c, "robocache")]["floor_us"]
               if by[(c, "robocache")]["floor_us"] > 0.05 else None for c in cases]
    for i, t in enumerate(targets):
        if t:
            ax.hlines(t, i - 0.4, i + 0.4, colors="black", linestyles="dashed", label="target" if i == 0 else None)
    ax.set_xticks(range(len(cases)), cases)
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylabel("time / bandwidth floor (log)")
    meta = rows[0]
    ax.set_title(f"{meta['device']}, {meta['date']}, commit {meta['commit']} (do_bench median, L2 flushed; "
                 "R4 and F1 have no meaningful floor)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path).with_suffix(".png")
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main(sys.argv[1]))
