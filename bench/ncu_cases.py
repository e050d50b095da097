"""Runs a few RoboCache cases of bench/gpu_bench.py a handful of times, for Nsight Compute.

    ncu --metrics <...> --csv python bench/ncu_cases.py R1 V1

docs/performance.md's "what limits it" column comes from such runs (scripts/gpu_ncu.sh).
"""

import sys

import torch

import robocache
from gpu_bench import CASES, SWEEP


def main() -> None:
    wanted = sys.argv[1:] or [c.name for c in CASES]
    for case in CASES + SWEEP:
        if case.name not in wanted:
            continue
        c = case.make(7)
        for _ in range(2):
            c["rc"]()
        torch.cuda.synchronize()
        robocache.synchronize()
        print(case.name, flush=True)


if __name__ == "__main__":
    main()
