"""align(device="cuda"): the same batch as on the CPU (pinned staging, kernels on the current
torch stream), also split into groups of episodes. Needs a GPU, torch and the io extra."""

import numpy as np
import pytest

pytest.importorskip("mcap_ros2", reason="needs the io extra")
torch = pytest.importorskip("torch", reason="needs torch")

import robocache.io as rio  # noqa: E402
from robocache.io.synthetic import Faults, write_ros2_mcap  # noqa: E402

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpu")
    out = []
    for robot in range(3):
        p = d / f"r{robot}.mcap"
        write_ros2_mcap(p, seconds=1.0 + 0.3 * robot, seed=robot,
                        faults=Faults(jitter=0.1, gap_s=0.1, duplicate=0.02, out_of_order=0.02))
        out.append(rio.read_mcap(p))
    return out


@pytest.mark.parametrize("per_call", [None, 1])
def test_gpu_batch_equals_the_cpu_batch(episodes, per_call):
    kw = dict(modes={"/joint_states.position": "wrapped"}, tolerance=0.02)
    cpu = rio.align(episodes, 50.0, **kw)
    gpu = rio.align(episodes, 50.0, device="cuda", episodes_per_call=per_call, **kw)
    assert gpu.values.is_cuda and gpu.mask.is_cuda
    assert np.array_equal(gpu.mask.cpu().numpy(), cpu.mask)
    got = gpu.values.cpu().numpy()
    for name in cpu.streams:
        a, b = got[..., cpu.slices[name]], cpu.values[..., cpu.slices[name]]
        if cpu.modes[name] in ("previous", "nearest"):
            assert np.array_equal(a, b), name
        else:
            assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max()), name
