"""NVRTC from NVIDIA's pip wheel (the robocache[cuda] extra): the package finds the wheel's lib/
directory on sys.path, the loader prefers it to the system's NVRTC of the same version, and
check_installation() says so. The wheel is stood in for by a site directory whose nvidia/cu13/lib
links to this machine's NVRTC (scripts/wheel_check.sh installs the real wheel in a clean root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import robocache
from robocache._native import nvrtc_wheel_dirs

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, robocache
k = robocache.compile({"op": "resample", "dtype": "f32", "dim": 3}, "sm_90")
print(json.dumps(dict(robocache.check_installation()["cuda"], target=k.target, binary=len(k.binary))))
"""


def _system_nvrtc() -> Path:
    cuda = robocache.check_installation()["cuda"]
    if not cuda["compile_only"] or cuda["nvrtc_origin"] != "the system":
        pytest.skip(f"needs a system NVRTC to stand in for the wheel's: {cuda['nvrtc']}")
    return Path(cuda["nvrtc_library"])


def _fake_wheel(site: Path, lib: Path) -> Path:
    """site/nvidia/cu13/lib laid out as nvidia-cuda-nvrtc 13 lays it out, linking to `lib`'s files."""
    d = site / "nvidia" / "cu13" / "lib"
    d.mkdir(parents=True)
    (d / "libnvrtc.so.13").symlink_to(lib.resolve())
    for builtins in lib.parent.glob("libnvrtc-builtins.so.*"):
        (d / builtins.name).symlink_to(builtins.resolve())
    return d


def _run(site: Path, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCACHE_")}
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(site)]),
               ROBOCACHE_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_wheel_dirs_are_found_on_sys_path_in_order(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "nvidia" / "cuda_nvrtc" / "lib").mkdir(parents=True)
    (b / "nvidia" / "cu13" / "lib").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "none"), str(a), str(b), str(a)])
    assert nvrtc_wheel_dirs() == [str(a / "nvidia" / "cuda_nvrtc" / "lib"), str(b / "nvidia" / "cu13" / "lib")]


def test_nvrtc_from_the_wheel_is_used_and_named(tmp_path):
    lib = _system_nvrtc()
    wheel_lib = _fake_wheel(tmp_path / "site", lib)
    cuda = _run(tmp_path / "site", tmp_path)
    assert cuda["nvrtc_origin"] == "NVIDIA's NVRTC wheel", cuda
    assert Path(cuda["nvrtc_library"]).parent == wheel_lib, cuda
    assert cuda["nvrtc_version"] == robocache.check_installation()["cuda"]["nvrtc_version"]
    assert cuda["target"] == "sm_90" and cuda["binary"] > 0


def test_without_the_wheel_the_system_nvrtc_is_used(tmp_path):
    lib = _system_nvrtc()
    (tmp_path / "site").mkdir()
    cuda = _run(tmp_path / "site", tmp_path)
    assert cuda["nvrtc_origin"] == "the system" and Path(cuda["nvrtc_library"]) == lib, cuda
