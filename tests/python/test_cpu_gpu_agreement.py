"""CPU and CUDA backends give the same bits on the agreement cases (see agreement_cases.py).

With both backends in one build the CPU side runs here; otherwise (the GPU machine has no LLVM)
the CPU outputs recorded by `python tests/python/agreement_cases.py FILE` are read from the file
named by ROBOCACHE_CPU_OUTPUTS.
"""

import os

import ml_dtypes
import numpy as np
import pytest

import robocache
from agreement_cases import bits, cases, run

pytestmark = pytest.mark.gpu

CASES = cases()


def cpu_output(name):
    if robocache.check_installation()["cpu"]["available"]:
        return run(CASES[name])
    path = os.environ.get("ROBOCACHE_CPU_OUTPUTS")
    if not path:
        pytest.skip("no CPU backend here and ROBOCACHE_CPU_OUTPUTS is not set")
    return np.load(path)[name]


def to_torch(a):
    import torch

    if a.dtype == ml_dtypes.bfloat16:
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16).cuda()
    return torch.from_numpy(np.ascontiguousarray(a)).cuda()


def to_numpy(t):
    import torch

    t = t.cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_cuda_matches_cpu_bit_for_bit(name):
    cpu = cpu_output(name)
    gpu = to_numpy(run(CASES[name], convert=to_torch))
    if gpu.dtype == ml_dtypes.bfloat16 and cpu.dtype == np.uint16:
        cpu = cpu.view(ml_dtypes.bfloat16)
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    np.testing.assert_array_equal(bits(gpu), bits(cpu))
