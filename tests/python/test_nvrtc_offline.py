"""NVRTC compiles for sm_90 on a machine with no GPU, and the result is a CUDA ELF for sm_90."""

import struct

import pytest

import robocache

pytestmark = pytest.mark.skipif(
    not robocache.check_installation()["cuda"]["compile_only"], reason="NVRTC is not available here"
)

EM_CUDA = 190


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16", "f64"])
def test_sm90_cubin_is_a_cuda_elf(dtype):
    k = robocache.compile({"op": "resample", "dtype": dtype, "time_dtype": "f64", "dim": 16}, "sm_90")
    assert k.target == "sm_90"
    elf = k.binary
    assert elf[:4] == b"\x7fELF"
    assert elf[4] == 2  # ELFCLASS64
    (machine,) = struct.unpack_from("<H", elf, 18)
    assert machine == EM_CUDA
    assert "resample" in k.source

