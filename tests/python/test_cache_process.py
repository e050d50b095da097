"""The disk cache is shared between processes: a second process loads what the first compiled."""

import json
import os
import subprocess
import sys

import pytest

import robocache

CHILD = """
import json, sys, robocache
k = robocache.compile(json.loads(sys.argv[1]), sys.argv[2])
print(json.dumps({"key": k.key, "stats": robocache.cache_stats()}))
"""


def run_child(spec, target, cache_dir):
    env = dict(os.environ, ROBOCACHE_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec), target],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def available_targets():
    status = robocache.check_installation()
    targets = []
    if status["cpu"]["available"]:
        targets.append("cpu")
    if status["cuda"]["compile_only"]:
        targets.append("sm_90")
    return targets


@pytest.mark.parametrize("target", available_targets())
def test_second_process_loads_from_disk_without_compiling(tmp_path, target):
    spec = {"op": "resample", "dtype": "bf16", "time_dtype": "f32", "dim": 6}
    first = run_child(spec, target, tmp_path)
    assert first["stats"]["compiles"] == 1
    assert first["stats"]["disk_hits"] == 0
    second = run_child(spec, target, tmp_path)
    assert second["key"] == first["key"]
    assert second["stats"]["compiles"] == 0
    assert second["stats"]["disk_hits"] == 1


def test_in_process_cache_returns_the_same_kernel_without_recompiling():
    target = available_targets()[0]
    spec = {"op": "resample", "dtype": "f32", "dim": 11}
    before = robocache.cache_stats()
    a = robocache.compile(spec, target)
    b = robocache.compile(dict(reversed(list(spec.items()))), target)
    after = robocache.cache_stats()
    assert a.key == b.key
    assert after["compiles"] - before["compiles"] <= 1
    assert after["memory_hits"] - before["memory_hits"] == 1
