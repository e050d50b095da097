"""Runs a few RoboCache cases of bench/gpu_bench.py a handful of times, for Nsight Compute.

    ncu --metrics <...> --csv python bench/ncu_cases.py R1 V1

docs/performance.md's "what limits it" column comes from such runs (scripts/gpu_ncu.sh).
"""

import sys

import torch

import robocache
from gpu_bench import CASES, robocache_call


def main() -> None:
    wanted = sys.argv[1:] or [c.name for c in CASES]
    for case in CASES:
        if case.name not in wanted:
            continue
        c = case.make()
        kernel = robocache.compile(c["spec"], "cuda")
        fn = robocache_call(kernel, c["args"])
        for _ in range(2):
            fn()
        torch.cuda.synchronize()
        print(case.name, kernel.key[:12], getattr(kernel, "config", None), flush=True)


if __name__ == "__main__":
    main()
