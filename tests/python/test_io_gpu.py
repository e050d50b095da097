"""align(device="cuda"): pinned staging and the kernels on the current torch stream give the
masks and values of the independent float64 reference (io_reference.py), also when the kernel
calls are split over groups of episodes. Needs a GPU, torch and mcap-ros2-support; not the CPU
backend (the GPU machine's build has none)."""

import numpy as np
import pytest

pytest.importorskip("mcap_ros2", reason="needs the io extra (mcap, mcap-ros2-support)")
torch = pytest.importorskip("torch", reason="needs torch")

import robocache.io as rio  # noqa: E402
from io_reference import assert_close, rate_targets, stream_reference  # noqa: E402
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
def test_gpu_batch_matches_the_reference(episodes, per_call):
    modes = {"/joint_states.position": "wrapped"}
    batch = rio.align(episodes, 50.0, modes=modes, tolerance=0.02, device="cuda", episodes_per_call=per_call)
    assert batch.values.is_cuda and batch.mask.is_cuda
    values, mask = batch.values.cpu().numpy(), batch.mask.cpu().numpy()
    for b, ep in enumerate(episodes):
        first = min(int(s.times_ns.min()) for s in ep.streams.values())
        last = max(int(s.times_ns.max()) for s in ep.streams.values())
        targets = rate_targets(first, last, 50.0)
        n = len(targets)
        assert batch.lengths[b] == n and not mask[b, n:].any()
        for i, name in enumerate(batch.streams):
            s = ep[name]
            want, valid = stream_reference(s.times_ns, s.values, targets, batch.modes[name], tolerance_ns=20_000_000)
            assert np.array_equal(mask[b, :n, i], valid), (b, name)
            got = values[b, :n, batch.slices[name]]
            if batch.modes[name] in ("previous", "nearest"):
                assert np.array_equal(got, want.astype(np.float32)), (b, name)
            else:
                assert_close(got, want, name)
