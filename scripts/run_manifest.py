"""Runs every spec of a manifest on the GPU (torch tensors) and checks it against the reference.

Used to show that kernels warmed elsewhere (`robocache warmup --target sm_90` on a machine
without a GPU, shipped as a bundle) load on the H100 with zero compiles:

    ROBOCACHE_CACHE_BUNDLES=kernels.rcb ROBOCACHE_CACHE_MODE=strict python scripts/run_manifest.py MANIFEST
"""

import json
import sys

import numpy as np
import torch

import robocache
from robocache.manifest import load_manifest

sys.path.insert(0, "tests/python")
from reference import resample_linear  # noqa: E402

TORCH = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16}


def main(path):
    specs = load_manifest(path)
    rng = np.random.default_rng(0)
    worst = 0.0
    for spec in specs:
        B, S, T, D = 4, 200, 300, spec["dim"]
        tdt = np.float32 if spec["time_dtype"] == "f32" else np.float64
        src = np.sort(rng.uniform(0, 10, (B, S)), axis=1).astype(tdt)
        tgt = rng.uniform(-1, 11, (B, T)).astype(tdt)
        data = rng.standard_normal((B, S, D)).astype(np.float32)
        args = (torch.from_numpy(data).to("cuda", TORCH[spec["dtype"]]),
                torch.from_numpy(src).cuda(), torch.from_numpy(tgt).cuda())
        out = robocache.compile(spec, "cuda")(*args).float().cpu().numpy()
        ref = resample_linear(args[0].float().cpu().numpy(), src, tgt)
        err = float(np.max(np.abs(out - ref)))
        worst = max(worst, err)
        tol = 1e-5 if spec["dtype"] in ("f32", "f64") else 2e-2
        assert err <= tol, (spec, err)
    s = robocache.cache_stats()
    print(f"ran {len(specs)} specs on {torch.cuda.get_device_name(0)}: max abs err {worst:.2e}; "
          f"compiles {s['compiles']}, bundle hits {s['bundle_hits']}, disk hits {s['disk_hits']}, "
          f"mode {s['cache_mode']}")
    return 0 if s["compiles"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
