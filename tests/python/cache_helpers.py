"""Runs robocache in child processes with a chosen cache environment, for the cache tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import robocache

CHILD = """
import json, sys, robocache
specs, target = json.loads(sys.argv[1]), sys.argv[2]
result = {"keys": [], "errors": []}
for spec in specs:
    try:
        result["keys"].append(robocache.compile(spec, target).key)
    except Exception as e:
        result["errors"].append(f"{type(e).__name__}: {e}")
try:
    result["stats"] = robocache.cache_stats()
except ValueError as e:  # a bad cache environment fails every call, this one too
    result["stats"] = {"error": str(e)}
print(json.dumps(result))
"""


def child_env(cache_dir, **extra):
    env = dict(os.environ, ROBOCACHE_CACHE_DIR=str(cache_dir))
    for k in ("ROBOCACHE_CACHE_MODE", "ROBOCACHE_CACHE_BUNDLES", "ROBOCACHE_CACHE_MAX_BYTES"):
        env.pop(k, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_child(specs, target, cache_dir, **extra):
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(specs), target],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(cache_dir, **extra))


def finish(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    result["stderr"] = err
    return result


def run_child(specs, target, cache_dir, **extra):
    return finish(start_child(specs, target, cache_dir, **extra))


def run_cli(args, cache_dir, **extra):
    return subprocess.run([sys.executable, "-m", "robocache", *args], capture_output=True, text=True,
                          env=child_env(cache_dir, **extra), timeout=600)


def cheap_target() -> str:
    """A target that compiles here: the CPU backend, else sm_90 through NVRTC."""
    status = robocache.check_installation()
    if status["cpu"]["available"]:
        return "cpu"
    assert status["cuda"]["compile_only"], "no backend can compile here"
    return "sm_90"


def specs(n, dtype="f32"):
    return [{"op": "resample", "dtype": dtype, "time_dtype": "f64", "dim": d} for d in range(3, 3 + n)]
