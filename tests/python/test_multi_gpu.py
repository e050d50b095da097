"""More than one GPU: one compiled entry serves every device, launches follow the arrays, two
threads drive two GPUs at once, and arrays on two devices in one call are rejected."""

import threading

import numpy as np
import pytest

import robocache
from reference import resample_linear

pytestmark = pytest.mark.gpu


def devices() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if robocache.check_installation()["cuda"]["available"] else 0


needs_two = pytest.mark.skipif(devices() < 2, reason="needs two CUDA devices")


def case(seed, B=8, S=400, T=600, D=12):
    rng = np.random.default_rng(seed)
    src = np.sort(rng.uniform(0, 10, (B, S)), axis=1)
    tgt = rng.uniform(-1, 11, (B, T))
    data = rng.standard_normal((B, S, D)).astype(np.float32)
    return data, src, tgt


def on(device, *arrays):
    import torch

    return [torch.from_numpy(a).to(device) for a in arrays]


@needs_two
def test_outputs_stay_on_the_device_of_the_inputs():
    data, src, tgt = case(0)
    for dev in ("cuda:0", "cuda:1"):
        out = robocache.resample_trajectories(*on(dev, data, src, tgt))
        assert str(out.device) == dev
        np.testing.assert_allclose(out.cpu().numpy(), resample_linear(data, src, tgt), rtol=1e-5, atol=1e-5)


@needs_two
def test_one_compile_serves_both_devices():
    spec = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 5, "interp": "nearest"}
    before = robocache.cache_stats()
    k = robocache.compile(spec, "cuda")
    data, src, tgt = case(1, D=5)
    outs = [k(*on(dev, data, src, tgt)) for dev in ("cuda:0", "cuda:1")]
    after = robocache.cache_stats()
    assert after["compiles"] - before["compiles"] <= 1  # 0 when an earlier test compiled it
    assert after["compiles"] + after["disk_hits"] + after["memory_hits"] > before["compiles"] + before["disk_hits"] + before["memory_hits"]
    np.testing.assert_array_equal(outs[0].cpu().numpy(), outs[1].cpu().numpy())
    # The same kernel object, run on both devices, without a second compile for device 1.
    again = robocache.compile(spec, "cuda")
    assert again.key == k.key and robocache.cache_stats()["compiles"] == after["compiles"]


@needs_two
def test_two_threads_drive_two_gpus_at_once():
    import torch

    results, errors = {}, []

    def worker(dev, seed):
        try:
            torch.cuda.set_device(dev)
            data, src, tgt = case(seed)
            args = on(f"cuda:{dev}", data, src, tgt)
            ref = resample_linear(data, src, tgt)
            for _ in range(30):
                out = robocache.resample_trajectories(*args, interp="linear")
            torch.cuda.synchronize(dev)
            results[dev] = float(np.max(np.abs(out.cpu().numpy() - ref)))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"cuda:{dev}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(d, 10 + d)) for d in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert set(results) == {0, 1} and max(results.values()) < 1e-5


@needs_two
def test_arrays_on_two_devices_are_rejected_naming_the_argument():
    data, src, tgt = case(2)
    d0, s0, _ = on("cuda:0", data, src, tgt)
    (t1,) = on("cuda:1", tgt)
    with pytest.raises(ValueError, match=r"argument 'tgt_times'.*cuda:1.*cuda:0"):
        robocache.resample_trajectories(d0, s0, t1)
    (s1,) = on("cuda:1", src)
    with pytest.raises(ValueError, match=r"argument 'src_times'.*cuda:1"):
        robocache.resample_trajectories(d0, s1, on("cuda:0", tgt)[0])
