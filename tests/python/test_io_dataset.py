"""LogDataset + Collate in a torch DataLoader: workers (fork and spawn) read MCAP files and align
them on the CPU, giving the same batches as num_workers=0; no worker compiles (each batch carries
its worker's kernel-cache counters: align on the CPU resamples natively and uses no kernel)."""

import multiprocessing

import pytest

torch = pytest.importorskip("torch", reason="the DataLoader tests need torch")
pytest.importorskip("mcap_ros2", reason="the DataLoader tests need the io extra")

import robocache.io as rio  # noqa: E402
from robocache.io.synthetic import Faults, write_ros2_mcap  # noqa: E402

pytestmark = pytest.mark.cpu_backend
ALIGN = dict(streams=["/joint_states.position", "/wrench.force", "/ee_pose.orientation"],
             modes={"/joint_states.position": "wrapped"}, tolerance=0.05)
RATES = {"/joint_states": 100.0, "/wrench": 250.0, "/ee_pose": 40.0}


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet")
    paths = []
    for robot in range(4):  # robots with logs of different lengths
        p = d / f"robot{robot}.mcap"
        write_ros2_mcap(p, seconds=0.6 + 0.2 * robot, seed=robot, rates=RATES,
                        faults=Faults(jitter=0.1, drop=0.02, duplicate=0.02, out_of_order=0.02))
        paths.append(p)
    return paths


def batches(paths, workers, context=None):
    ds = rio.LogDataset(paths)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=workers, collate_fn=ds.collate_fn(30.0, **ALIGN),
                                         multiprocessing_context=context)
    return list(loader)


def test_the_dataset_is_a_torch_dataset_of_episodes(bags):
    ds = rio.LogDataset(bags)
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 4
    assert ds[1].name == "robot1" and "/wrench.force" in ds[1].streams


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_give_the_same_batches_and_compile_nothing_when_warm(bags, context):
    if context not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {context} start method here")
    serial = batches(bags, 0)  # warms the kernel cache (memory and disk) in this process
    parallel = batches(bags, 2, context)
    assert len(serial) == len(parallel) == 2
    for a, b in zip(serial, parallel):
        assert isinstance(b.values, torch.Tensor) and b.values.dtype == torch.float32
        assert torch.equal(a.values, b.values) and torch.equal(a.mask, b.mask)
        assert torch.equal(a.lengths, b.lengths) and a.episodes == b.episodes
        # align on the CPU resamples every stream natively (robot-logs.md): no worker compiles a
        # kernel, and none needs one from the cache
        assert b.kernel_cache == {"compiles": 0, "disk_hits": 0, "memory_hits": 0}, b.kernel_cache
    assert parallel[0].mask.shape[-1] == 3 and not parallel[1].mask[0, parallel[1].lengths[0]:].any()
