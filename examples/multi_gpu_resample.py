"""Split a batch of episodes across every visible GPU, one process per GPU, and gather the results.

    torchrun --nproc_per_node=2 examples/multi_gpu_resample.py

Each rank resamples its share of the episodes on `cuda:<local rank>` (the kernel is compiled once
and cached on disk, so the other ranks load it), the shares are gathered on rank 0 with NCCL, and
rank 0 checks the result against the same batch resampled on one GPU.
"""

import os

import numpy as np
import torch
import torch.distributed as dist

import robocache


def episodes(B=64, S=2000, T=240, D=14, seed=0):
    """Joint logs of B episodes (epoch-second times) and a 30 Hz camera timeline for each."""
    rng = np.random.default_rng(seed)
    src = 1.7e9 + np.sort(rng.uniform(0, 8, (B, S)), axis=1)
    tgt = 1.7e9 + np.sort(rng.uniform(0, 8, (B, T)), axis=1)
    data = rng.standard_normal((B, S, D)).astype(np.float32)
    return data, src, tgt


def main():
    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", rank))
    torch.cuda.set_device(local)
    device = torch.device("cuda", local)

    data, src, tgt = episodes()
    B = data.shape[0]
    share = (B + world - 1) // world
    lo, hi = rank * share, min(B, (rank + 1) * share)
    mine = [torch.from_numpy(a[lo:hi]).to(device) for a in (data, src, tgt)]
    out = robocache.resample_trajectories(*mine, interp="linear")

    # Gather equal-sized shares (pad the last one) on every rank, then keep the valid rows.
    padded = torch.zeros((share,) + tuple(out.shape[1:]), dtype=out.dtype, device=device)
    padded[: hi - lo] = out
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    stats = robocache.cache_stats()
    print(f"rank {rank} on {torch.cuda.get_device_name(device)} (cuda:{local}): episodes [{lo}, {hi}), "
          f"compiles {stats['compiles']}, disk hits {stats['disk_hits']}", flush=True)

    if rank == 0:
        full = torch.cat(gathered)[:B]
        single = robocache.resample_trajectories(*[torch.from_numpy(a).to(device) for a in (data, src, tgt)])
        same = torch.equal(full, single)
        print(f"gathered {tuple(full.shape)} from {world} GPUs; matches the single-GPU run bit for bit: {same}",
              flush=True)
        if not same:
            raise SystemExit(1)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
