"""Every CUDA config the tuner may pick computes the same bits: each config of a spec's config
space (search strategies, vector widths, tile and block sizes) against the binary search with one
channel per access, on irregular clocks, unsorted targets with holds and NaN, and lengths.
Skipped (conftest) without a CUDA device and torch."""

from __future__ import annotations

import json

import numpy as np
import pytest

import robocache
from robocache._native import _robocache as _native

pytestmark = pytest.mark.gpu

REFERENCE = {"search": "binary", "vector_width": 1}


def _torch():
    import torch

    return torch


def _times(rng, B, S, steady):
    """[B,S] f64 times: a steady clock with jitter, or bursts of repeats and gaps."""
    if steady:
        t = np.arange(S, dtype=np.float64) * 0.01 + rng.uniform(-0.002, 0.002, (B, S))
    else:
        steps = rng.choice([0.0, 0.001, 0.5], size=(B, S), p=[0.1, 0.7, 0.2])
        t = np.cumsum(steps, axis=1)
    return np.sort(t, axis=1)


def _targets(rng, src, T):
    lo, hi = src[:, :1], src[:, -1:]
    x = lo - 0.1 + (hi - lo + 0.2) * rng.uniform(0, 1, (src.shape[0], T))  # holds at both ends
    x[:, ::17] = np.nan
    x[:, 3::11] = src[:, 5:6]  # exact hits
    return x


def _space(spec):
    return [json.loads(c) for c in _native.config_space(_native.canonical_spec(json.dumps(spec)), "cuda")]


@pytest.mark.parametrize("steady", [True, False], ids=["steady", "bursty"])
@pytest.mark.parametrize("spec", [
    {"op": "resample", "dtype": "bf16", "time_dtype": "f64", "dim": 64, "interp": "linear"},
    {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 10,
     "groups": [{"start": 0, "size": 2, "interp": "cubic"}, {"start": 2, "size": 4, "interp": "slerp"},
                {"start": 6, "size": 2, "interp": "nearest"}, {"start": 8, "size": 2, "interp": "previous"}]},
], ids=["bf16-linear", "f32-groups"])
def test_every_resample_config_gives_the_reference_bits(spec, steady):
    torch = _torch()
    rng = np.random.default_rng(3)
    B, S, T, D = 3, 700, 333, spec["dim"]
    src = _times(rng, B, S, steady)
    tgt = _targets(rng, src, T)
    data = torch.randn(B, S, D, dtype=torch.float32, device="cuda")
    if spec["dtype"] == "bf16":
        data = data.to(torch.bfloat16)
    args = (data, torch.from_numpy(src).cuda(), torch.from_numpy(tgt).cuda(),
            torch.tensor([S, 2, S // 3], device="cuda"))
    want = robocache.compile(spec, "cuda", config=REFERENCE)(*args)
    for config in _space(spec):
        got = robocache.compile(spec, "cuda", config=config)(*args)
        assert torch.equal(got.view(torch.int16 if got.element_size() == 2 else torch.int32),
                           want.view(torch.int16 if want.element_size() == 2 else torch.int32)), config


def test_every_fuse_config_gives_the_reference_bits():
    torch = _torch()
    rng = np.random.default_rng(4)
    spec = {"op": "fuse", "dtype": "bf16", "time_dtype": "f64",
            "modalities": [{"dim": 16, "interp": "linear"}, {"dim": 4, "interp": "slerp"}, {"dim": 12, "interp": "nearest"}]}
    B, T = 2, 250
    streams = []
    for S, D, steady in ((90, 16, True), (300, 4, False), (1200, 12, True)):
        t = _times(rng, B, S, steady)
        streams.append((torch.randn(B, S, D, device="cuda").to(torch.bfloat16), torch.from_numpy(t).cuda()))
    tgt = torch.from_numpy(_targets(rng, streams[0][1].cpu().numpy(), T)).cuda()
    want = robocache.compile(spec, "cuda", config=REFERENCE)(streams, tgt)
    for config in _space(spec):
        got = robocache.compile(spec, "cuda", config=config)(streams, tgt)
        assert torch.equal(got.view(torch.int16), want.view(torch.int16)), config
