"""The auto-tuner on the CPU backend: choosing, storing, compile() using the stored best, shipping
the database, `robocache tune`; and one GPU run with CUDA events."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from cache_helpers import child_env, run_cli

import robocache
from robocache.tuning import choose, tune, tuning_entries, tuning_path
from robocache.tuning_inputs import check_shapes, example_args

cpu_only = pytest.mark.skipif(not robocache.check_installation()["cpu"]["available"], reason="no CPU backend")


def resample_args(B=4, S=200, T=100, D=3, seed=0):
    rng = np.random.default_rng(seed)
    src = np.sort(rng.random((B, S)), axis=1)
    tgt = np.sort(rng.random((B, T)), axis=1)
    return rng.standard_normal((B, S, D)).astype(np.float32), src, tgt


def fake_timer(times_by_grain):
    """A timer that reports a fixed time per cpu_grain, with no spread."""
    def timer(kernel, args, repeats, budget_s):
        return [times_by_grain.get(kernel.config["cpu_grain"], 100.0)] * 5
    return timer


def test_choose_takes_the_first_config_within_the_noise():
    assert choose([100.0, 99.0, 50.0, 50.5], [0, 0, 0, 0]) == (2, [False, False, True, True])
    assert choose([100.0, 99.0], [0, 0])[0] == 0        # 1 % faster is inside the 3 % floor
    assert choose([100.0, 97.0], [0, 0])[0] == 1        # 3 % faster is not
    assert choose([100.0, 90.0], [0.15, 0.0])[0] == 0   # a noisy heuristic: 10 % is within its spread
    assert choose([100.0, 90.0], [0.0, 0.15])[0] == 0   # ... and so is a noisy challenger


@cpu_only
def test_tie_goes_to_the_heuristic_and_a_clear_win_to_the_winner():
    spec = {"op": "resample", "dtype": "f32", "dim": 3, "interp": "nearest"}
    heuristic = robocache.compile(spec, "cpu").config["cpu_grain"]
    others = [g for g in (16, 64, 256, 1024, 4096) if g != heuristic]
    tied = tune(spec, resample_args(), "cpu", save=False, progress=False,
                _timer=fake_timer({heuristic: 100.0, others[0]: 99.0}))
    assert tied.best["cpu_grain"] == heuristic
    assert [r.tied for r in tied.rows][:2] == [True, True]
    won = tune(spec, resample_args(), "cpu", save=False, progress=False,
               _timer=fake_timer({heuristic: 100.0, others[0]: 99.0, others[1]: 60.0, others[2]: 60.5}))
    assert won.best["cpu_grain"] == others[1]           # first of the two tied fastest
    assert won.rows[3].tied and not won.rows[3].best
    assert won.rows[2].vs_heuristic == pytest.approx(100.0 / 60.0)


@cpu_only
def test_tune_stores_the_best_and_compile_uses_it():
    spec = {"op": "resample", "dtype": "f32", "dim": 3}
    shapes = [resample_args(4, 300, 200), resample_args(2, 1000, 64, seed=1)]
    t0 = time.perf_counter()
    result = tune(spec, shapes, "cpu", progress=False)
    elapsed = time.perf_counter() - t0
    assert elapsed < 20, f"a small CPU sweep took {elapsed:.1f} s"
    space = robocache._native.config_space(json.dumps(spec), "cpu")
    assert [r.config for r in result.rows] == [json.loads(c) for c in space]
    assert result.best_us <= result.heuristic_us        # never slower than the heuristic
    assert robocache.compile(spec, "cpu").config == result.best
    assert tuning_path() == os.path.join(os.environ["ROBOCACHE_CACHE_DIR"], "tuning.json")
    with open(tuning_path()) as f:
        stored = [e for e in json.load(f)["entries"] if e["spec_hash"] == robocache._native.spec_hash(json.dumps(spec))]
    assert len(stored) == 1 and stored[0]["best"] == result.best
    assert stored[0]["shapes"][1][0] == [2, 1000, 3] and len(stored[0]["timings"]) == len(space)
    assert "vs heuristic" in result.table() and "(heuristic)" in result.table()


@cpu_only
def test_an_explicit_config_wins_over_the_stored_best():
    spec = {"op": "resample", "dtype": "f32", "dim": 4}
    heuristic = robocache.compile(spec, "cpu").config["cpu_grain"]
    best = 16 if heuristic != 16 else 64
    tune(spec, resample_args(D=4), "cpu", progress=False, _timer=fake_timer({heuristic: 100.0, best: 10.0}))
    assert robocache.compile(spec, "cpu").config["cpu_grain"] == best
    assert robocache.compile(spec, "cpu", config={"cpu_grain": 4096}).config["cpu_grain"] == 4096
    out = robocache.compile(spec, "cpu", config={"cpu_grain": 4096})(*resample_args(D=4))
    ref = robocache.compile(spec, "cpu")(*resample_args(D=4))
    np.testing.assert_array_equal(out, ref)             # a config changes speed, never results


def test_a_bad_config_names_its_field():
    spec = {"op": "resample", "dtype": "f32", "dim": 3}
    with pytest.raises(ValueError, match="config.vector_width"):
        robocache.compile(spec, "cpu", config={"vector_width": 3})
    with pytest.raises(ValueError, match="config.search"):
        robocache.compile(spec, "cpu", config={"search": "linear"})
    with pytest.raises(TypeError, match="config"):
        robocache.compile(spec, "cpu", config="fast")


def test_shapes_file_errors_name_the_entry():
    with pytest.raises(ValueError, match=r"shapes.resample\[0\]"):
        check_shapes({"resample": [{"B": 1, "S": 2}]})
    with pytest.raises(ValueError, match=r"shapes.voxelize\[0\].N"):
        check_shapes({"voxelize": [{"N": 0}]})
    with pytest.raises(ValueError, match="unknown op"):
        check_shapes({"resampel": [{"B": 1, "S": 2, "T": 3}]})


@cpu_only
@pytest.mark.parametrize("spec,shape", [
    ({"op": "fuse", "dtype": "f32", "modalities": [{"dim": 2}, {"dim": 4, "interp": "slerp"}]},
     {"B": 2, "S": [30, 50], "T": 20}),
    ({"op": "voxelize", "mode": "mean", "features": 2}, {"B": 2, "N": 1000, "grid": [8, 8, 4]}),
    ({"op": "voxelize", "mode": "count"}, {"N": 500}),
])
def test_synthetic_inputs_run_on_their_kernel(spec, shape):
    out = robocache.compile(spec, "cpu")(*example_args(spec, shape))
    expected = {"fuse": (2, 20, 6), "voxelize": tuple(([2] if "B" in shape else []) + shape.get("grid", [64, 64, 32])
                                                      + ([2] if spec.get("features") else []))}[spec["op"]]
    assert out.shape == expected


def run_tuning_cli(args, cache_dir, **env):
    return subprocess.run([sys.executable, "-m", "robocache", *args], capture_output=True, text=True,
                          env=child_env(cache_dir, **env), timeout=600)


@cpu_only
def test_cli_tune_then_ship_the_database(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"specs": [{"op": "resample", "dtype": "f32", "dim": 7},
                                                           {"op": "voxelize", "mode": "count"}]}))
    (tmp_path / "s.json").write_text(json.dumps({"resample": [{"B": 2, "S": 300, "T": 100}]}))
    cache = tmp_path / "c"
    out = run_tuning_cli(["tune", str(tmp_path / "m.json"), "--shapes", str(tmp_path / "s.json"),
                          "--target", "cpu", "--repeats", "3", "--quiet"], cache)
    assert out.returncode == 0, out.stderr
    assert "vs heuristic" in out.stdout and "no shapes for op 'voxelize'" in out.stderr
    assert (cache / "tuning.json").exists()
    best = json.loads((cache / "tuning.json").read_text())["entries"][0]["best"]

    bundle = tmp_path / "shipped.json"
    assert run_tuning_cli(["tuning", "export", str(bundle)], cache).returncode == 0
    assert run_tuning_cli(["tuning", "clear"], cache).stdout.startswith("removed 1")
    assert run_tuning_cli(["tuning", "ls"], cache).stdout == ""

    # A deployment points ROBOCACHE_TUNING_DB at the shipped file; compile() then uses its best.
    probe = ("import robocache, json; print(json.dumps(robocache.compile("
             "{'op': 'resample', 'dtype': 'f32', 'dim': 7}, 'cpu').config))")
    child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env=child_env(tmp_path / "fresh", ROBOCACHE_TUNING_DB=bundle))
    assert json.loads(child.stdout) == best, child.stderr

    imported = run_tuning_cli(["tuning", "import", str(bundle)], cache)
    assert imported.stdout.startswith("imported 1"), imported.stderr
    ls = run_tuning_cli(["tuning", "ls"], cache)
    assert ls.stdout.count("\n") == 1 and '"dim":7' in ls.stdout


@pytest.mark.gpu
def test_tune_on_cuda_with_torch_keeps_the_heuristic_or_beats_it():
    import torch

    spec = {"op": "resample", "dtype": "f32", "dim": 7}
    shapes = [example_args(spec, {"B": 32, "S": 500, "T": 256}, "cuda")]
    t0 = time.perf_counter()
    result = tune(spec, shapes, "cuda", progress=False)
    assert time.perf_counter() - t0 <= 10.0
    assert result.best_us <= result.heuristic_us
    assert robocache.compile(spec, "cuda").config == result.best
    assert any(e["target"].startswith("sm_") and e["sm_count"] == torch.cuda.get_device_properties(0).multi_processor_count
               for e in tuning_entries())
